"""3. Scale: the pure work of one import on openai-compatibility lists of 10, 1,000 and 10,000 providers.

Each provider has 5 keys and 20 models. One key is merged into the *last* provider (the
match is found by a scan of the whole list, the worst case). The pure work per import is
what ``engine.write`` does besides I/O: ``list_hash(before)`` (once), the import edit
(``merge()``, the request and its masked preview) and ``validate_edit`` (the entries
that changed; the rest is as the server sent it). Timed in-process (median of several runs, GC as usual); peak
memory is measured in a separate run with tracemalloc (allocations beyond the input list).
Reference for growth: the 1,000-provider figures × 10 (linear).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import Any

from cpa_bridge.core.edits import import_change, validate_edit
from cpa_bridge.core.lists import OPENAI
from cpa_bridge.core.merge import Draft, Model, list_hash

from .common import Row, openai_provider

SIZES = (10, 1_000, 10_000)
MERGE_BUDGET_MS = 50.0
#: Host work for one import (hash + edit + validate), by list size.
IMPORT_BUDGET_MS = {1_000: 10.0, 10_000: 100.0}
LINEAR_BUDGET = 1.5  # t(10,000) ≤ 1.5 × 10 × t(1,000)


def _draft(n: int) -> Draft:
    last = n - 1
    return Draft(
        provider_type=OPENAI,
        provider_name=f"provider-{last}",
        base_url=f"https://relay-{last}.example.invalid/v1",
        api_key="sk-bench-new-key-0123456789abcdef",
        models=(Model("model-new", "model-new"),),
    )


def _work(items: list[dict[str, Any]], draft: Draft) -> tuple[float, float, float]:
    """(hash, merge, validate) seconds for one import."""
    change = import_change(OPENAI, [draft])
    t0 = time.perf_counter()
    list_hash(items)
    t1 = time.perf_counter()
    edit = change.build(items)
    t2 = time.perf_counter()
    assert edit is not None and change.merged is not None
    validate_edit(OPENAI, edit)
    t3 = time.perf_counter()
    if change.merged.outcomes[0].action != "updated":  # type: ignore[union-attr]
        raise RuntimeError(f"unexpected merge outcome {change.merged.outcomes[0]!r}")
    return t1 - t0, t2 - t1, t3 - t2


def _peak_kib(items: list[dict[str, Any]], draft: Draft) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        list_hash(items)
        edit = import_change(OPENAI, [draft]).build(items)
        assert edit is not None
        validate_edit(OPENAI, edit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del edit
    return (peak - start) / 1024


def measure(n: int, runs: int) -> dict[str, float]:
    items = [openai_provider(i) for i in range(n)]
    draft = _draft(n)
    _work(items, draft)  # warm-up
    samples = [_work(items, draft) for _ in range(runs)]
    hash_s, merge_s, validate_s = (
        sorted(column)[len(column) // 2] for column in zip(*samples, strict=False)
    )
    total = sorted(sum(s) for s in samples)[len(samples) // 2]
    return {
        "providers": n,
        "runs": runs,
        "hash_ms": hash_s * 1000,
        "merge_ms": merge_s * 1000,
        "validate_ms": validate_s * 1000,
        "total_ms": total * 1000,
        "peak_kib": _peak_kib(items, draft),
    }


def run(quick: bool = False) -> list[Row]:
    runs = {10: 50, 1_000: 5, 10_000: 3} if quick else {10: 200, 1_000: 20, 10_000: 7}
    figures = {n: measure(n, runs[n]) for n in SIZES}
    base = figures[1_000]
    rows = []
    for n in SIZES:
        f = figures[n]
        scale = n / 1_000
        linear_ms, linear_kib = base["total_ms"] * scale, base["peak_kib"] * scale
        is_big = n == 10_000
        if n in IMPORT_BUDGET_MS:
            rows.append(
                Row(
                    "scale",
                    f"{n:,} providers: host work for one import",
                    f["total_ms"],
                    "ms",
                    reference="budget",
                    ref_value=IMPORT_BUDGET_MS[n],
                    ratio=f["total_ms"] / IMPORT_BUDGET_MS[n],
                    budget=f"≤ {IMPORT_BUDGET_MS[n]:g} ms",
                    ok=f["total_ms"] <= IMPORT_BUDGET_MS[n],
                )
            )
        rows.append(
            Row(
                "scale",
                f"{n:,} providers: hash + merge + validate",
                f["total_ms"],
                "ms",
                reference="1,000 × n/1,000 (linear)",
                ref_value=linear_ms,
                ratio=f["total_ms"] / linear_ms,
                budget=f"≤ {LINEAR_BUDGET:g}×" if is_big else "info",
                ok=f["total_ms"] / linear_ms <= LINEAR_BUDGET if is_big else None,
                extra=f,
            )
        )
        rows.append(
            Row(
                "scale",
                f"{n:,} providers: merge() alone",
                f["merge_ms"],
                "ms",
                reference="budget" if is_big else "",
                ref_value=MERGE_BUDGET_MS if is_big else None,
                ratio=f["merge_ms"] / MERGE_BUDGET_MS if is_big else None,
                budget=f"≤ {MERGE_BUDGET_MS:g} ms" if is_big else "info",
                ok=f["merge_ms"] <= MERGE_BUDGET_MS if is_big else None,
                extra={"hash_ms": f["hash_ms"], "validate_ms": f["validate_ms"]},
            )
        )
        rows.append(
            Row(
                "scale",
                f"{n:,} providers: peak memory of the same (tracemalloc)",
                f["peak_kib"] / 1024,
                "MiB",
                reference="1,000 × n/1,000 (linear)",
                ref_value=linear_kib / 1024,
                ratio=f["peak_kib"] / linear_kib,
                budget=f"≤ {LINEAR_BUDGET:g}×" if is_big else "info",
                ok=f["peak_kib"] / linear_kib <= LINEAR_BUDGET if is_big else None,
            )
        )
    return rows
