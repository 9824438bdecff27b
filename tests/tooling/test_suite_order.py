"""The order test files run in (tests/conftest.py): longest first, by tests/file_seconds.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tests import conftest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FakeItem:
    nodeid: str


def test_every_file_in_the_table_exists_and_has_a_duration():
    table = json.loads(conftest.FILE_SECONDS.read_text(encoding="utf-8"))
    assert table, "the table is empty"
    for path, seconds in table.items():
        assert (ROOT / path).is_file(), f"{path} is listed in file_seconds.json but does not exist"
        assert isinstance(seconds, (int, float)) and seconds >= 0, (path, seconds)


def test_files_run_longest_first_keeping_their_own_order(tmp_path, monkeypatch):
    table = tmp_path / "file_seconds.json"
    table.write_text(json.dumps({"tests/a.py": 1.0, "tests/b.py": 30.0}), encoding="utf-8")
    monkeypatch.setattr(conftest, "FILE_SECONDS", table)
    items = [
        FakeItem("tests/a.py::one"),
        FakeItem("tests/a.py::two"),
        FakeItem("tests/b.py::one"),
        FakeItem("tests/new.py::one"),  # not listed: one second per test
        FakeItem("tests/new.py::two"),
        FakeItem("tests/b.py::two"),
    ]
    conftest.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        "tests/b.py::one",
        "tests/b.py::two",
        "tests/new.py::one",
        "tests/new.py::two",
        "tests/a.py::one",
        "tests/a.py::two",
    ]
