"""Build the pinned real CLIProxyAPI servers with Go, cached outside the work tree.

    python -m tests.real.build            # build what is missing, print one line per server
    python -m tests.real.build --list     # print the cached binaries, build nothing

Each server in ``versions.txt`` is fetched from the Go module proxy with ``go mod download`` and
built in the module's own directory (its go.mod and go.sum) with ``CGO_ENABLED=0 go build``.
``go install <module>/cmd/server@<version>`` would be shorter, but it asks the proxy for the
module's version list to check for deprecation, and the proxy answers that with 403 (see
docs/cliproxyapi-compat.md), so it fails before building.

Binaries go to ``$CPA_BRIDGE_REAL_CACHE`` (default ``~/.cache/cpa-bridge-tests/cliproxyapi``),
one folder per version and build flavour, so a rerun costs nothing. A file lock keeps two test
runs from building the same server at once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

VERSIONS_FILE = Path(__file__).with_name("versions.txt")
MODULE = "github.com/router-for-me/CLIProxyAPI"
BUILD_FLAVOURS = ("release", "dev")
#: The user's home as it was when this module was imported: tests run with a throwaway HOME, but
#: the binaries and Go's own caches must stay in the real one so that reruns are fast.
REAL_HOME = Path.home()
_REAL_ENV = dict(os.environ)


class BuildError(Exception):
    """A server could not be fetched or built; the message says which and why."""


@dataclass(frozen=True)
class ServerSpec:
    """One pinned server: ``version`` (a tag such as ``v7.2.140``) and its build flavour."""

    version: str
    build: str

    @property
    def major(self) -> str:
        return self.version.split(".", 1)[0]

    @property
    def module(self) -> str:
        return f"{MODULE}/{self.major}" if self.major not in ("v0", "v1") else MODULE

    @property
    def id(self) -> str:
        """The pytest id: ``v7.2.140`` for a release build, ``v6.10.9-dev`` for a source build."""
        return self.version if self.build == "release" else f"{self.version}-dev"

    @property
    def announced_version(self) -> str:
        """What the server sends as ``X-CPA-VERSION``."""
        return self.version if self.build == "release" else "dev"

    def binary(self, cache: Path | None = None) -> Path:
        return (cache or cache_dir()) / self.id / "server"


def cache_dir() -> Path:
    configured = _REAL_ENV.get("CPA_BRIDGE_REAL_CACHE")
    if configured:
        return Path(configured)
    return REAL_HOME / ".cache" / "cpa-bridge-tests" / "cliproxyapi"


def pinned(path: Path = VERSIONS_FILE) -> list[ServerSpec]:
    """The servers listed in ``versions.txt``; raises :class:`BuildError` on a malformed line."""
    specs = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].startswith("v") or parts[1] not in BUILD_FLAVOURS:
            raise BuildError(f"{path.name}:{number}: expected '<version> release|dev', got {raw!r}")
        specs.append(ServerSpec(parts[0], parts[1]))
    return specs


def go_available() -> bool:
    return shutil.which("go") is not None


def _go(args: list[str], cwd: Path | None = None) -> str:
    env = dict(_REAL_ENV, CGO_ENABLED="0")
    result = subprocess.run(
        ["go", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-6:])
        raise BuildError(f"go {' '.join(args[:2])} failed ({result.returncode}):\n{tail}")
    return result.stdout


def build(spec: ServerSpec, cache: Path | None = None) -> Path:
    """Return the binary for ``spec``, building it first when it is not cached."""
    target = spec.binary(cache)
    if target.exists():
        return target
    if not go_available():
        raise BuildError("Go is not installed (no 'go' on PATH)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / ".build.lock"), timeout=1800):
        if target.exists():
            return target
        info = json.loads(_go(["mod", "download", "-json", f"{spec.module}@{spec.version}"]))
        source = Path(info["Dir"])
        ldflags = ["-s", "-w"]
        if spec.build == "release":
            ldflags += [
                f"-X main.Version={spec.version}",
                f"-X main.Commit={info.get('Origin', {}).get('Hash', 'none')[:12]}",
            ]
        partial = target.with_suffix(".partial")
        _go(
            [
                "build",
                "-trimpath",
                "-buildvcs=false",
                "-ldflags",
                " ".join(ldflags),
                "-o",
                str(partial),
                "./cmd/server",
            ],
            cwd=source,
        )
        partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.real.build", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--list", action="store_true", help="print the cached binaries, build nothing"
    )
    args = parser.parse_args(argv)
    failed = 0
    for spec in pinned():
        if args.list:
            print(f"{spec.id}: {spec.binary() if spec.binary().exists() else 'not built'}")
            continue
        try:
            print(f"{spec.id}: {build(spec)}", flush=True)
        except BuildError as exc:
            failed += 1
            print(f"{spec.id}: BUILD FAILED: {exc}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
