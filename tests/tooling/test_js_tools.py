"""The JS side's linters and unit tests, as part of the Python test run (docs/lint.md).

ESLint over extension/ and tests/js/, Mozilla's web-ext lint over extension/ and the built
.xpi, and node's test runner over tests/js/. The tools come from `npm ci` (scripts/test.sh);
without them these tests are skipped, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "node_modules" / ".bin"
LINT_DOC = ROOT / "docs" / "lint.md"


def need(name: str) -> str:
    path = BIN / name if name != "node" else shutil.which("node")
    if path and Path(path).exists():
        return str(path)
    why = f"{name} is not installed: run `npm ci` (bash scripts/test.sh does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def run(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_UPDATE_NOTIFIER": "1", "NODE_OPTIONS": "", "FORCE_COLOR": "0"}
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def accepted_warnings(target: str) -> dict[str, str]:
    """code → reason, from the table in docs/lint.md, for `source` or `xpi`."""
    rows = re.findall(
        r"^\| `([A-Z_]+)` \| ([a-z, ]+) \| (.+) \|$",
        LINT_DOC.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    return {
        code: reason
        for code, targets, reason in rows
        if target in [t.strip() for t in targets.split(",")]
    }


def check_linter_report(report: dict, target: str) -> None:
    assert report["errors"] == [], json.dumps(report["errors"], indent=1)
    accepted = accepted_warnings(target)
    unexplained = [w for w in report["warnings"] + report["notices"] if w["code"] not in accepted]
    assert not unexplained, "warnings without a reason in docs/lint.md:\n" + json.dumps(
        unexplained, indent=1
    )


def test_lint_doc_gives_reasons() -> None:
    assert set(accepted_warnings("source")) >= {"BACKGROUND_SERVICE_WORKER_IGNORED"}
    assert "BACKGROUND_SERVICE_WORKER_IGNORED" not in accepted_warnings("xpi")
    assert all(len(reason) > 40 for reason in accepted_warnings("source").values())


def test_eslint_is_clean() -> None:
    eslint = need("eslint")
    proc = run(eslint, "--max-warnings", "0", "extension", "tests/js", "eslint.config.js")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_eslint_catches_a_fault() -> None:
    """The config is live: a page script with `var` and an undefined name fails."""
    eslint = need("eslint")
    proc = subprocess.run(
        [eslint, "--format", "json", "--stdin", "--stdin-filename", "extension/lib/probe.js"],
        input="var x = 1;\nexport const y = undefinedName + x + chrome.runtime.id + document.title;\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    messages = [m for f in json.loads(proc.stdout) for m in f["messages"]]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert {m["ruleId"] for m in messages} == {"no-var", "no-undef"}, messages
    assert [m["message"] for m in messages if m["ruleId"] == "no-undef"] == [
        "'undefinedName' is not defined."
    ]


def test_web_ext_lint_source() -> None:
    web_ext = need("web-ext")
    proc = run(
        web_ext,
        "lint",
        "--source-dir",
        "extension",
        "--self-hosted",
        "--output",
        "json",
        "--no-input",
    )
    report = json.loads(proc.stdout)
    check_linter_report(report, "source")
    assert proc.returncode == 0, proc.stderr


def test_addons_linter_on_the_built_xpi(tmp_path: Path) -> None:
    linter = need("addons-linter")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (xpi,) = tmp_path.glob("*.xpi")
    proc = run(linter, "--self-hosted", "--output", "json", str(xpi))
    check_linter_report(json.loads(proc.stdout), "xpi")


def url_case_names() -> list[str]:
    """The test names tests/js/urls.test.js gives the cases of tests/fixtures/url_cases.json."""
    table = json.loads((ROOT / "tests" / "fixtures" / "url_cases.json").read_text(encoding="utf-8"))
    return [f"{c['provider_type']}: {c['site_url']}" for c in table["provider_base_url"]]


def test_node_unit_tests() -> None:
    node = need("node")
    proc = run(node, "--test", "--test-reporter=tap", "tests/js/")
    tail = proc.stdout[-3000:]
    assert proc.returncode == 0, tail + proc.stderr
    passed = int(re.search(r"^# pass (\d+)$", proc.stdout, re.MULTILINE).group(1))
    assert passed >= 30 and "# fail 0" in proc.stdout, tail  # i18n and URL cases
    # The extension's half of the shared base-URL table: every case ran, and passed, by name.
    ok = set(re.findall(r"^ok \d+ - (.+)$", proc.stdout, re.MULTILINE))
    missing = [name for name in url_case_names() if name not in ok]
    assert len(url_case_names()) >= 15 and not missing, missing
