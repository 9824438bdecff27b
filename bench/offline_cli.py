"""7. Offline CLI start-up: ``settings show``, ``keys list``, ``history`` against ``python -c pass``.

These commands only read the host's own files, so they must not pay for pydantic or httpx:
each must finish within 2 × ``python -c pass`` + 50 ms (medians, runs interleaved, one
throwaway HOME holding a target, a small key inventory and a few backups).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from .common import PYTHON, SECRET, Row, temp_home

CLI = str(Path(PYTHON).parent / "cpa-bridge")
COMMANDS = (("settings", "show"), ("keys", "list"), ("history",))
REFERENCE = [PYTHON, "-c", "pass"]

SETUP = """
from cpa_bridge.cliproxyapi import backups
for i in range(20):
    backups.save("http://127.0.0.1:9/v0/management", {"target": "default", "list": "openai-compatibility",
                 "operation": "import", "summary": [{"op": "add_key", "key_hint": "sk-ab…wxyz #0000"}],
                 "before": [], "outcome": "succeeded"})
"""


def _wall(argv: list[str], env: dict[str, str], cwd: Path, stdin: bytes = b"") -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        argv, input=stdin, capture_output=True, env=env, cwd=cwd, timeout=60, check=False
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"{argv[1:]} exited with {proc.returncode}: {proc.stderr.decode()[-300:]}"
        )
    return elapsed


def _setup(env: dict[str, str], home: Path) -> None:
    _wall(
        [CLI, "settings", "set", "--url", "http://127.0.0.1:9", "--key"],
        env,
        home,
        SECRET.encode() + b"\n",
    )
    site = subprocess.run(
        [
            CLI,
            "--json",
            "keys",
            "add-site",
            "--name",
            "Relay",
            "--url",
            "https://relay.example.invalid",
        ],
        capture_output=True,
        env=env,
        cwd=home,
        timeout=60,
        check=True,
    ).stdout
    import json

    site_id = json.loads(site)["result"]["site"]["id"]
    for i in range(10):
        _wall(
            [CLI, "keys", "add", "--site-id", site_id, "--label", f"k{i}"],
            env,
            home,
            f"sk-bench-key-{i:04d}-0123456789\n".encode(),
        )
    _wall([PYTHON, "-c", SETUP], env, home)


def _imports(argv: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "cpa_bridge.cli", *argv],
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )
    loaded = {
        line.split("|", 2)[2].strip()
        for line in proc.stderr.decode().splitlines()
        if line.startswith("import time:") and "cumulative" not in line
    }
    return sorted(m for m in ("pydantic", "httpx", "ssl", "yaml", "filelock") if m in loaded)


def run(quick: bool = False) -> list[Row]:
    runs = 7 if quick else 25
    with temp_home() as (home, env):
        _setup(env, home)
        for argv in COMMANDS:  # unclocked: .pyc files
            _wall([CLI, *argv], env, home)
        reference: list[float] = []
        samples: dict[tuple[str, ...], list[float]] = {argv: [] for argv in COMMANDS}
        for _ in range(runs):
            reference.append(_wall(REFERENCE, env, home))
            for argv in COMMANDS:
                samples[argv].append(_wall([CLI, *argv], env, home))
        heavy = {argv: _imports(list(argv), env, home) for argv in COMMANDS}
    ref_ms = statistics.median(reference) * 1000
    budget_ms = 2 * ref_ms + 50
    rows = []
    for argv, values in samples.items():
        value = statistics.median(values) * 1000
        rows.append(
            Row(
                "offline cli",
                f"`cpa-bridge {' '.join(argv)}` (median of {runs})",
                value,
                "ms",
                reference="`python -c pass`",
                ref_value=ref_ms,
                ratio=value / ref_ms,
                budget=f"≤ 2× + 50 ms ({budget_ms:.0f} ms)",
                ok=value <= budget_ms,
                extra={"min_ms": min(values) * 1000, "max_ms": max(values) * 1000},
            )
        )
    imported = sorted({m for mods in heavy.values() for m in mods})
    rows.append(
        Row(
            "offline cli",
            "pydantic / httpx / ssl / yaml / filelock imported by those commands",
            len(imported),
            "modules",
            reference="needed only for writes and network requests",
            ref_value=0,
            budget="0",
            ok=not imported,
            extra={"imported": imported},
        )
    )
    return rows
