"""2. Warm round trips over one connection (the ``connectNative`` path).

* 1,000 ``ping``s after a warm-up. Reference: a minimal Python native-messaging loop on the
  same interpreter (read frame, ``json.loads``, ``json.dumps`` of a reply of the same size,
  write frame), driven the same way: the floor of pipes + framing. Host time = our median
  minus that floor.
* 100 ``import`` dry-runs (a new key for an existing provider of a 20-provider list) against
  the stand-in CLIProxyAPI run as its own process on 127.0.0.1. Each is one ``GET`` of the
  list. Reference: the stand-in's own ``GET`` latency measured with httpx on a fresh
  connection per request (the host opens one connection per request), interleaved.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .common import (
    HOST_MODULE,
    OPENAI,
    PYTHON,
    SECRET,
    Host,
    Row,
    median_ms,
    openai_provider,
    p99_ms,
    point_host_at,
    request_frame,
    standin_process,
    temp_home,
)

PING_BUDGET_MS = 1.0
IMPORT_BUDGET = 2.0
GET_NAME = "stand-in GET (httpx, new connection)"  # import ≤ 2 × one GET: the HTTP round trip is at least half of it

ECHO = r"""
import json, os, struct, sys
read, write = sys.stdin.buffer.read, sys.stdout.buffer
result = json.loads(os.environ["BENCH_ECHO_RESULT"])
while True:
    header = read(4)
    if len(header) < 4:
        break
    message = json.loads(read(struct.unpack("=I", header)[0]))
    body = json.dumps({"v": 1, "id": message.get("id"), "ok": True, "result": result}).encode()
    write.write(struct.pack("=I", len(body)) + body)
    write.flush()
"""


def _round_trips(host: Host, frames: list[bytes]) -> list[float]:
    samples = []
    for data in frames:
        started = time.perf_counter()
        host.send(data)
        raw = host.read_raw()
        samples.append(time.perf_counter() - started)
        if b'"ok": true' not in raw and b'"ok":true' not in raw:
            raise RuntimeError(f"request failed: {raw[:300]!r}")
    return samples


def _pings(quick: bool) -> list[Row]:
    count, warmup = (200, 20) if quick else (1000, 50)
    frames = [request_frame("ping", rid=i) for i in range(count)]
    with temp_home() as (home, env):
        with Host(HOST_MODULE, env, home) as host:
            result = host.ok("ping")
            _round_trips(host, frames[:warmup])
            ours = _round_trips(host, frames)
        echo_env = {**env, "BENCH_ECHO_RESULT": json.dumps(result)}
        with Host([PYTHON, "-c", ECHO], echo_env, home) as echo:
            _round_trips(echo, frames[:warmup])
            floor = _round_trips(echo, frames)
    ours_ms, floor_ms = median_ms(ours), median_ms(floor)
    host_ms = max(0.0, ours_ms - floor_ms)
    return [
        Row(
            "warm",
            f"ping round trip, median of {count}",
            ours_ms,
            "ms",
            reference="minimal Python frame echo",
            ref_value=floor_ms,
            ratio=ours_ms / floor_ms,
            budget="info",
            extra={"p99_ms": p99_ms(ours), "ref_p99_ms": p99_ms(floor)},
        ),
        Row(
            "warm",
            f"ping round trip, p99 of {count}",
            p99_ms(ours),
            "ms",
            reference="minimal Python frame echo",
            ref_value=p99_ms(floor),
            ratio=p99_ms(ours) / p99_ms(floor),
            budget="info",
        ),
        Row(
            "warm",
            "ping host time (median round trip − echo floor)",
            host_ms,
            "ms",
            reference="budget",
            ref_value=PING_BUDGET_MS,
            ratio=host_ms / PING_BUDGET_MS,
            budget=f"< {PING_BUDGET_MS:g} ms",
            ok=host_ms < PING_BUDGET_MS,
        ),
    ]


def _fresh_get(url: str) -> float:
    import httpx

    started = time.perf_counter()
    with httpx.Client(trust_env=False, verify=False) as client:
        response = client.get(url, headers={"Authorization": f"Bearer {SECRET}"})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def _client_construction_ms(runs: int) -> float:
    """What ``httpx.Client(verify=True)`` costs in-process (it builds an SSL context with certifi's CAs)."""
    import httpx

    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        httpx.Client(trust_env=False, verify=True).close()
        samples.append(time.perf_counter() - started)
    return median_ms(samples)


def _imports(quick: bool) -> list[Row]:
    count, warmup = (20, 3) if quick else (100, 5)
    config: dict[str, Any] = {OPENAI: [openai_provider(i) for i in range(20)]}
    params = [
        {
            "site_name": f"provider-{i % 20}",
            "site_url": f"https://relay-{i % 20}.example.invalid",
            "api_key": f"sk-bench-dry-{i:05d}-0123456789abcdef",
            "models": [{"name": "model-new"}],
            "dry_run": True,
        }
        for i in range(warmup + count)
    ]
    ours, reference = [], []
    with temp_home() as (home, env), standin_process(config) as url:
        list_url = f"{url}/v0/management/{OPENAI}"
        with Host(HOST_MODULE, env, home) as host:
            point_host_at(host, url)
            for i, p in enumerate(params):
                started = time.perf_counter()
                result = host.ok("import", p)
                elapsed = time.perf_counter() - started
                if result["outcome"] != "dry_run" or result["action"] != "updated":
                    raise RuntimeError(f"unexpected dry run result {result!r:.300}")
                ref = _fresh_get(list_url)
                if i >= warmup:
                    ours.append(elapsed)
                    reference.append(ref)
    tls_ms = _client_construction_ms(20)
    ours_ms, ref_ms = median_ms(ours), median_ms(reference)
    return [
        Row(
            "warm",
            f"`import` dry-run (1 GET), median of {count}",
            ours_ms,
            "ms",
            reference=GET_NAME,
            ref_value=ref_ms,
            ratio=ours_ms / ref_ms,
            budget=f"≤ {IMPORT_BUDGET:g}× (HTTP ≥ half)",
            ok=ours_ms / ref_ms <= IMPORT_BUDGET,
            extra={"p99_ms": p99_ms(ours), "ref_p99_ms": p99_ms(reference)},
        ),
        Row(
            "warm",
            f"`import` dry-run (1 GET), p99 of {count}",
            p99_ms(ours),
            "ms",
            reference=GET_NAME,
            ref_value=p99_ms(reference),
            ratio=p99_ms(ours) / p99_ms(reference),
            budget="info",
        ),
        Row(
            "warm",
            "(info) of which `httpx.Client(verify=True)` (SSL context)",
            tls_ms,
            "ms",
            reference=GET_NAME,
            ref_value=ref_ms,
            ratio=tls_ms / ref_ms,
            budget="info",
            extra={"note": "the host builds one httpx.Client, hence one SSL context, per request"},
        ),
    ]


def run(quick: bool = False) -> list[Row]:
    return _pings(quick) + _imports(quick)
