"""5. Memory: the host's resident set over 1,000 requests on one connection.

Two workloads, each on a fresh host (default logging, throwaway HOME):

* 1,000 ``ping``s: peak RSS (VmHWM) at the end against VmRSS after the first reply.
* 1,000 mixed requests, the cycle ``ping``, ``settings.get``, ``keys.list``, ``import`` dry-run
  (against the stand-in CLIProxyAPI, its own process on 127.0.0.1): peak RSS at the end
  against VmRSS after the first cycle, i.e. once every lazy import (httpx for the import)
  has happened, so a one-off import is not mistaken for growth.

Both from /proc/<pid>/status; RSS is also sampled every 100 requests (in the JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .common import (
    HOST_MODULE,
    OPENAI,
    Host,
    Row,
    openai_provider,
    point_host_at,
    standin_process,
    temp_home,
)

BUDGET = 1.10
TOTAL = 1_000


def _drive(
    host: Host, requests: list[Callable[[], Any]], baseline_after: int, total: int
) -> dict[str, Any]:
    curve, baseline = [], 0
    for i in range(total):
        requests[i % len(requests)]()
        done = i + 1
        if done == baseline_after:
            baseline = host.status_kib()["VmRSS"]
        if done % 100 == 0 or done == 1:
            curve.append((done, host.status_kib()["VmRSS"]))
    end = host.status_kib()
    return {
        "baseline_kib": baseline,
        "end_rss_kib": end["VmRSS"],
        "peak_kib": end["VmHWM"],
        "rss_curve_kib": curve,
    }


def _row(name: str, after: str, figures: dict[str, Any], total: int) -> Row:
    peak, base = figures["peak_kib"], figures["baseline_kib"]
    return Row(
        "memory",
        f"{name} × {total:,}: peak RSS",
        peak / 1024,
        "MiB",
        reference=f"RSS after {after}",
        ref_value=base / 1024,
        ratio=peak / base,
        budget=f"≤ {BUDGET:.2f}×",
        ok=peak / base <= BUDGET,
        extra=figures,
    )


def run(quick: bool = False) -> list[Row]:
    total = 200 if quick else TOTAL
    with temp_home() as (home, env), Host(HOST_MODULE, env, home) as host:
        pings = _drive(host, [lambda: host.ok("ping")], 1, total)

    config = {OPENAI: [openai_provider(i) for i in range(20)]}
    counter = iter(range(10 * total))

    with (
        temp_home() as (home, env),
        standin_process(config) as url,
        Host(HOST_MODULE, env, home) as host,
    ):
        point_host_at(host, url)

        def dry_import() -> Any:
            i = next(counter)
            return host.ok(
                "import",
                {
                    "site_name": f"provider-{i % 20}",
                    "site_url": f"https://relay-{i % 20}.example.invalid",
                    "api_key": f"sk-bench-mem-{i:05d}-0123456789abcdef",
                    "models": [{"name": "model-new"}],
                    "dry_run": True,
                },
            )

        cycle = [
            lambda: host.ok("ping"),
            lambda: host.ok("settings.get"),
            lambda: host.ok("keys.list"),
            dry_import,
        ]
        mixed = _drive(host, cycle, len(cycle), total)
    return [
        _row("`ping` only", "the first request", pings, total),
        _row(
            "mixed: ping, settings.get, keys.list, import dry-run",
            "the first of each type",
            mixed,
            total,
        ),
    ]
