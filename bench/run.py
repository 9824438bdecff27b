"""Run every benchmark, print the table, write bench/results/latest.{json,md} and a timestamped copy.

.venv/bin/python bench/run.py            # everything (about a minute on 2 cores)
.venv/bin/python bench/run.py --quick    # fewer iterations; writes only the timestamped copy
.venv/bin/python bench/run.py --only warm,requests
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# `python bench/run.py` puts bench/ first on sys.path, where requests.py would shadow the
# `requests` library: import the benchmarks as the package `bench` from the repo root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench.common import Row, machine  # noqa: E402 (after the sys.path fix above)

RESULTS = REPO / "bench" / "results"
README = REPO / "README.md"
#: (module under bench/, title), in the order of the issue.
SECTIONS = (
    ("cold_start", "1. Cold start"),
    ("warm", "2. Warm round trips (one connection)"),
    ("scale", "3. Scale (pure work per import)"),
    ("requests", "4. Request economy"),
    ("memory", "5. Memory"),
    ("click", "6. Click to result (headless Chromium, real host)"),
    ("offline_cli", "7. Offline CLI start-up"),
)
COLUMNS = ("Measurement", "Value", "Reference", "Ref. value", "Ratio", "Budget", "Result")


def fmt_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "requests" or unit == "modules" or (unit == "" and float(value).is_integer()):
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 0.1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def cells(row: Row) -> tuple[str, ...]:
    result = "PASS" if row.ok else "FAIL" if row.ok is False else "info"
    ratio = (
        "–"
        if row.ratio is None
        else (f"{row.ratio:.2f}" if row.ratio >= 0.1 else f"{row.ratio:.3f}")
    )
    ref_unit = row.unit if row.ref_value is not None else ""
    return (
        row.metric,
        fmt_number(row.value, row.unit),
        row.reference or "–",
        fmt_number(row.ref_value, ref_unit),
        ratio,
        row.budget or "–",
        result,
    )


def text_table(rows: list[Row]) -> str:
    table = [COLUMNS] + [cells(r) for r in rows]
    widths = [min(max(len(line[i]) for line in table), 72) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(c[:72].ljust(w) for c, w in zip(line, widths, strict=False)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(report: dict[str, Any], rows: list[Row]) -> str:
    m = report["machine"]
    lines = [
        "| # | " + " | ".join(COLUMNS) + " |",
        "| --- | " + " | ".join("---" for _ in COLUMNS) + " |",
    ]
    titles = dict(SECTIONS)
    for row in rows:
        section = titles[row.section].split(".", 1)[0]
        lines.append(
            f"| {section} | " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |"
        )
    passed = sum(r.ok is True for r in rows)
    failed = sum(r.ok is False for r in rows)
    browser = f"; {m['chromium']}, CLIProxyAPI {m['cliproxyapi']}" if m.get("chromium") else ""
    return "\n".join(
        [
            "## Benchmarks",
            "",
            (
                f"`.venv/bin/python bench/run.py` on {m['cpu']}, {m['cores']} cores, Python {m['python']} "
                f"({m['os']}; pydantic {m['pydantic']}, httpx {m['httpx']}{browser}), {m['date']}; "
                f"run time {report['run_seconds']:.0f} s. Budgets: {passed} pass, {failed} fail."
            ),
            "",
            *lines,
            "",
        ]
    )


def readme_section(text: str) -> tuple[int, int]:
    """Where the "## Benchmarks" section of the README starts and ends (before the next "## ")."""
    start = text.index("\n## Benchmarks\n") + 1
    end = text.find("\n## ", start + 1)
    return start, (len(text) if end < 0 else end + 1)


def update_readme(table: str) -> None:
    """Put the table of a full run into README.md (tests/tooling/test_bench_table.py keeps them equal)."""
    text = README.read_text(encoding="utf-8")
    start, end = readme_section(text)
    README.write_text(text[:start] + table.rstrip("\n") + "\n\n" + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument(
        "--only", default="", help="comma-separated modules: " + ",".join(s for s, _ in SECTIONS)
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget fails")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - {s for s, _ in SECTIONS}
    if unknown:
        parser.error(f"unknown module(s): {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    versions: dict[str, str] = {}
    rows: list[Row] = []
    timings: dict[str, float] = {}
    for name, title in SECTIONS:
        if only and name not in only:
            continue
        print(f"{title} …", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        section_rows = module.run(quick=args.quick)
        for row in section_rows:
            row.section = name
        rows.extend(section_rows)
        versions.update(getattr(module, "VERSIONS", {}))  # e.g. the browser and server a module ran
        timings[name] = round(time.perf_counter() - t0, 1)
    total = time.perf_counter() - started

    report = {
        "machine": {**machine(), **versions},
        "run_seconds": round(total, 1),
        "section_seconds": timings,
        "quick": args.quick,
        "partial": bool(only),
        "budgets": {
            "pass": sum(r.ok is True for r in rows),
            "fail": sum(r.ok is False for r in rows),
        },
        "results": [r.as_dict() for r in rows],
    }
    print(text_table(rows))
    print(
        f"\n{report['budgets']['pass']} budgets pass, {report['budgets']['fail']} fail; "
        f"run time {total:.1f} s on {report['machine']['cpu']} ({report['machine']['cores']} cores), "
        f"Python {report['machine']['python']}" + "".join(f", {k} {v}" for k, v in versions.items())
    )

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    payload = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    (
        RESULTS / f"{stamp}{'-quick' if args.quick else ''}{'-partial' if only else ''}.json"
    ).write_text(payload, encoding="utf-8")
    if not args.quick and not only:
        (RESULTS / "latest.json").write_text(payload, encoding="utf-8")
        table = markdown(report, rows)
        (RESULTS / "latest.md").write_text(table, encoding="utf-8")
        update_readme(table)
        print(
            f"wrote {RESULTS / 'latest.json'}, {RESULTS / 'latest.md'} and the table in {README.name}"
        )
    return 1 if args.strict and report["budgets"]["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
