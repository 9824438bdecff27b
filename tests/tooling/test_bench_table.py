"""The README's benchmark table is the one bench/run.py wrote last (bench/results/latest.md)."""

from __future__ import annotations

import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_table_is_the_last_full_bench_run() -> None:
    run = importlib.import_module("bench.run")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = run.readme_section(text)
    latest = (ROOT / "bench" / "results" / "latest.md").read_text(encoding="utf-8")
    assert text[start:end].strip() == latest.strip(), (
        "run `.venv/bin/python bench/run.py` (a full run) to refresh"
    )


def test_every_bench_section_is_in_the_table() -> None:
    run = importlib.import_module("bench.run")
    latest = (ROOT / "bench" / "results" / "latest.md").read_text(encoding="utf-8")
    sections = {
        line.split("|")[1].strip()
        for line in latest.splitlines()
        if line.startswith("| ") and "---" not in line
    }
    assert sections - {"#"} == {title.split(".", 1)[0] for _, title in run.SECTIONS}
