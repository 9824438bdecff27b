"""1. Cold start: spawn ``cpa-bridge-host`` → the reply to ``ping``, against importing pydantic.

Each run spawns a fresh process with the ping frame already written to its stdin and stops
the clock at the first byte of the reply. The reference is ``python -c "from pydantic import
BaseModel"`` on the same interpreter, clocked the same way (spawn → its first byte on
stdout, written right after the import). Variants and the reference are interleaved, in
one throwaway HOME per variant (the log file is created on the first run, like a real
install). Also: one ``-X importtime`` run of the host, to name what start-up imports.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .common import HOST_MODULE, HOST_SCRIPT, PYTHON, Row, request_frame, temp_home

REFERENCE = [PYTHON, "-c", "from pydantic import BaseModel; import os; os.write(1, b'.')"]
#: Informational: the floor of any start-up that creates one pydantic model class (pydantic
#: imports pydantic.fields/types, annotated_types and its plugin loader, importlib.metadata,
#: lazily on the first class).
ONE_MODEL = [
    PYTHON,
    "-c",
    "from pydantic import BaseModel\nclass M(BaseModel): pass\nimport os; os.write(1, b'.')",
]
REFERENCE_NAME = '`python -c "from pydantic import BaseModel"`'
BUDGET = 1.3
#: Modules a ping must not import (they are needed only when a request goes to the network).
HEAVY = ("httpx", "httpcore", "ssl", "yaml", "filelock", "certifi", "h11", "anyio", "idna")


def _time_to_first_byte(argv: list[str], env: dict[str, str], cwd: Path, stdin: bytes) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        bufsize=0,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        if stdin:
            proc.stdin.write(stdin)
        proc.stdin.close()
        first = proc.stdout.read(1)
        elapsed = time.perf_counter() - started
        if not first:
            raise RuntimeError(f"{argv[:3]} wrote nothing")
        proc.stdout.read()
        if proc.wait(30) != 0:
            raise RuntimeError(f"{argv[:3]} exited with {proc.returncode}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return elapsed


def import_profile(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """One ``python -X importtime -m cpa_bridge.host`` run answering ping: the heaviest imports."""
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", *HOST_MODULE[1:]],
        input=request_frame("ping"),
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )
    rows = []
    for line in proc.stderr.decode("utf-8", "replace").splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        head, cumulative_us, name = line.split("|", 2)
        rows.append((name[1:].rstrip(), int(head.split(":")[1]), int(cumulative_us)))
    top_level = sorted((r for r in rows if not r[0].startswith("  ")), key=lambda r: -r[2])
    loaded = {r[0].strip() for r in rows}
    return {
        "top_level_ms": {name.strip(): round(cum / 1000, 1) for name, _, cum in top_level[:12]},
        "total_import_ms": round(sum(r[1] for r in rows) / 1000, 1),
        "heavy_imported": sorted(m for m in HEAVY if m in loaded),
    }


def run(quick: bool = False) -> list[Row]:
    runs = 5 if quick else 20
    stdin = request_frame("ping")
    variants: dict[str, tuple[list[str], str | None]] = {
        "`python -m cpa_bridge.host`, default log": (HOST_MODULE, None),
        "`python -m cpa_bridge.host`, CPA_BRIDGE_LOG=off": (HOST_MODULE, "off"),
        "`.venv/bin/cpa-bridge-host`, default log": (HOST_SCRIPT, None),
        "`.venv/bin/cpa-bridge-host`, CPA_BRIDGE_LOG=off": (HOST_SCRIPT, "off"),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    reference: list[float] = []
    one_model: list[float] = []
    with ExitStack() as stack:
        ref_home, ref_env = stack.enter_context(temp_home())
        homes = {name: stack.enter_context(temp_home(log)) for name, (_, log) in variants.items()}
        for name, (argv, _) in variants.items():  # one unclocked run each: .pyc files, log dir
            _time_to_first_byte(argv, homes[name][1], homes[name][0], stdin)
        _time_to_first_byte(REFERENCE, ref_env, ref_home, b"")
        for _ in range(runs):
            reference.append(_time_to_first_byte(REFERENCE, ref_env, ref_home, b""))
            one_model.append(_time_to_first_byte(ONE_MODEL, ref_env, ref_home, b""))
            for name, (argv, _) in variants.items():
                home, env = homes[name]
                samples[name].append(_time_to_first_byte(argv, env, home, stdin))
        default_home, default_env = homes[next(iter(variants))]
        profile = import_profile(default_env, default_home)
        log_written = (
            Path(default_env["XDG_DATA_HOME"]) / "cpa-bridge" / "logs" / "host.log"
        ).is_file()

    ref_ms = statistics.median(reference) * 1000
    rows = []
    for name, values in samples.items():
        value = statistics.median(values) * 1000
        ratio = value / ref_ms
        rows.append(
            Row(
                "cold start",
                f"{name} → ping (median of {runs})",
                value,
                "ms",
                reference=REFERENCE_NAME,
                ref_value=ref_ms,
                ratio=ratio,
                budget=f"≤ {BUDGET}×",
                ok=ratio <= BUDGET,
                extra={
                    "min_ms": min(values) * 1000,
                    "max_ms": max(values) * 1000,
                    "ref_min_ms": min(reference) * 1000,
                },
            )
        )
    floor = statistics.median(one_model) * 1000
    rows.append(
        Row(
            "cold start",
            f"(info) same + `class M(BaseModel): pass` (median of {runs})",
            floor,
            "ms",
            reference=REFERENCE_NAME,
            ref_value=ref_ms,
            ratio=floor / ref_ms,
            budget="info",
        )
    )
    rows.append(
        Row(
            "cold start",
            "network modules imported for a ping (httpx, ssl, yaml …)",
            len(profile["heavy_imported"]),
            "modules",
            reference="needed before any network request",
            ref_value=0,
            budget="0 (lazy)",
            ok=not profile["heavy_imported"],
            extra={**profile, "log_file_written_by_default": log_written},
        )
    )
    return rows
