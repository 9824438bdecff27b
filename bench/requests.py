"""4. Request economy: HTTP requests an ``import.batch`` sends to CLIProxyAPI.

Batches of 1, 10, 100 and 1,000 new keys, spread over 4 relay sites (openai-compatibility,
two of them already providers, two created by the batch) and 2 Claude base URLs
(claude-api-key), are imported for real into a fresh stand-in CLIProxyAPI (in-process, on
127.0.0.1). The requests are counted from the stand-in's own log. Reference: the reference
extension's one GET + one write per key, i.e. 2 × N; computed, not simulated.
"""

from __future__ import annotations

import time
from typing import Any

from .common import CLAUDE, HOST_MODULE, OPENAI, Host, Row, point_host_at, standin, temp_home

SIZES = (1, 10, 100, 1_000)
PER_LIST_BUDGET = 3
INITIAL: dict[str, Any] = {
    OPENAI: [
        {
            "name": f"bench-site-{k}",
            "base-url": f"https://site-{k}.example.invalid/v1",
            "api-key-entries": [{"api-key": f"sk-existing-{k}-0123456789abcdef"}],
            "models": [{"name": "gpt-bench"}],
        }
        for k in range(2)
    ],
    CLAUDE: [
        {
            "api-key": "sk-ant-existing-0123456789abcdef",
            "base-url": "https://claude-0.example.invalid",
        }
    ],
}


def batch_items(n: int) -> list[dict[str, Any]]:
    """``n`` new keys: even ones to openai-compatibility (4 sites), odd ones to claude-api-key (2 URLs)."""
    items = []
    for i in range(n):
        key = f"sk-batch-{n}-{i:05d}-0123456789abcdef"
        if i % 2 == 0:
            k = (i // 2) % 4
            items.append(
                {
                    "site_name": f"bench-site-{k}",
                    "site_url": f"https://site-{k}.example.invalid",
                    "api_key": key,
                    "models": [{"name": "gpt-bench"}],
                }
            )
        else:
            k = (i // 2) % 2
            items.append(
                {
                    "provider_type": CLAUDE,
                    "site_name": f"claude-{k}",
                    "site_url": f"https://claude-{k}.example.invalid",
                    "api_key": key,
                }
            )
    return items


def _all_keys(config: dict[str, Any]) -> set[str]:
    keys = {
        e.get("api-key") for p in config.get(OPENAI) or [] for e in p.get("api-key-entries") or []
    }
    return keys | {e.get("api-key") for e in config.get(CLAUDE) or []}


def run(quick: bool = False) -> list[Row]:
    rows = []
    with temp_home() as (home, env), Host(HOST_MODULE, env, home) as host:
        for n in SIZES:
            items = batch_items(n)
            with standin(INITIAL) as server:
                point_host_at(host, server.url)
                server.reset_requests()
                started = time.perf_counter()
                result = host.ok("import.batch", {"items": items}, timeout=120)
                elapsed = time.perf_counter() - started
                sent = list(server.requests)
                missing = {i["api_key"] for i in items} - _all_keys(server.config())
            if result["summary"]["failed"] or missing:
                raise RuntimeError(
                    f"batch of {n}: {result['summary']}, {len(missing)} keys missing"
                )
            lists = sorted({i.get("provider_type", OPENAI) for i in items})
            count, reference = len(sent), 2 * n
            budget = PER_LIST_BUDGET * len(lists)
            rows.append(
                Row(
                    "requests",
                    f"`import.batch` of {n:,} key{'s' if n > 1 else ''}, {len(lists)} list"
                    f"{'s' if len(lists) > 1 else ''}: requests to CLIProxyAPI",
                    count,
                    "requests",
                    reference="GET + write per key (2×N, computed)",
                    ref_value=reference,
                    ratio=count / reference,
                    budget=f"≤ {PER_LIST_BUDGET}/list (≤ {budget})",
                    ok=count <= budget,
                    extra={
                        "requests": [f"{m} {p}" for m, p in sent],
                        "requests_sent_reported": result["requests_sent"],
                        "summary": result["summary"],
                        "wall_ms": elapsed * 1000,
                    },
                )
            )
    return rows
