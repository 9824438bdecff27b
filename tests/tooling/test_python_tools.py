"""The Python side's linters and type check, as part of the test run (docs/lint.md).

ruff (lint and format check) over the whole repository and mypy, strict, over
``host/cpa_bridge``. Both are pinned in the ``test`` extra and configured in pyproject.toml.
Each has a second test that feeds it a known fault, so a broken configuration can't pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*argv: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_ruff_lint_is_clean() -> None:
    proc = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_clean() -> None:
    proc = run(str(BIN / "ruff"), "format", "--no-cache", "--check", ".")
    assert proc.returncode == 0, "run `.venv/bin/ruff format .`\n" + proc.stdout + proc.stderr


def test_ruff_catches_faults(tmp_path: Path) -> None:
    """The repository's config is live: an unused import, a function-level import in the host
    without a reason, and a badly formatted line are all reported."""
    bad = tmp_path / "host" / "cpa_bridge" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("import os\n\n\ndef f():\n    import json\n    return json.dumps( {} )\n")
    config = ["--config", str(ROOT / "pyproject.toml")]
    lint = run(str(BIN / "ruff"), "check", "--no-cache", *config, str(bad), cwd=tmp_path)
    assert lint.returncode == 1
    assert "F401" in lint.stdout and "PLC0415" in lint.stdout, lint.stdout
    fmt = run(str(BIN / "ruff"), "format", "--no-cache", "--check", *config, str(bad), cwd=tmp_path)
    assert fmt.returncode == 1, fmt.stdout


def test_mypy_strict_is_clean() -> None:
    # files and strictness: pyproject.toml; no cache left behind
    proc = run(str(BIN / "mypy"), "--no-incremental", "--cache-dir", os.devnull)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_catches_a_fault(tmp_path: Path) -> None:
    """Strict mode is on: an unannotated function and a wrong argument type both fail."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        textwrap.dedent(
            """
            def untyped(x):
                return x

            def typed(x: int) -> int:
                return x

            typed("one")
            """
        )
    )
    proc = run(
        str(BIN / "mypy"),
        "--no-incremental",
        "--cache-dir",
        os.devnull,
        "--config-file",
        str(ROOT / "pyproject.toml"),
        str(bad),
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "no-untyped-def" in proc.stdout and "arg-type" in proc.stdout, proc.stdout
