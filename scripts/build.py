#!/usr/bin/env python3
"""Build the extension packages from extension/ into dist/.

    python3 scripts/build.py [--out DIR]

makes ``cpa-bridge-<version>-chromium.zip`` (for the Chrome Web Store, or to unpack and
Load unpacked) and ``cpa-bridge-<version>.xpi`` (for AMO signing, or about:debugging).

Reproducible: the same source gives byte-identical packages (sorted entries, one fixed
timestamp, fixed permissions). Only the files the browser loads are packed (scripts,
pages, styles, locales, icons); anything else under extension/ is an error, so an
editor backup or a notes file never ships. Each family gets its own manifest:

* Chromium: no ``key`` (the Chrome Web Store refuses it and assigns the id),
  no ``browser_specific_settings``, no ``background.scripts``;
* Firefox: no ``key``, no ``background.service_worker`` (Firefox ignores both).

Standard library only; the version must be the same in manifest.json and pyproject.toml.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "extension"
# What the browser loads. Anything else under extension/ stops the build.
SHIPPED_SUFFIXES = frozenset({".js", ".html", ".css", ".json", ".png", ".svg"})
# 1980-01-01, the earliest time a zip entry can hold: no build date leaks into the package.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class BuildError(Exception):
    """The source tree cannot be packed as it is."""


def manifest_version(extension: Path = EXTENSION) -> str:
    return json.loads((extension / "manifest.json").read_text(encoding="utf-8"))["version"]


def project_version(root: Path = ROOT) -> str:
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', project, re.MULTILINE)
    if not match:
        raise BuildError("pyproject.toml: no version in [project]")
    return match.group(1)


def source_files(extension: Path = EXTENSION) -> list[Path]:
    """The files to pack, sorted by their path inside the package."""
    files, stray = [], []
    for path in sorted(extension.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(extension)
        hidden = any(part.startswith(".") or part == "__pycache__" for part in rel.parts)
        (stray if hidden or path.suffix not in SHIPPED_SUFFIXES else files).append(rel)
    if stray:
        raise BuildError(
            "not a shipped file type, move it out of extension/: " + ", ".join(map(str, stray))
        )
    return [extension / rel for rel in files]


def family_manifest(manifest: dict, family: str) -> dict:
    out = json.loads(json.dumps(manifest))
    out.pop("key", None)
    background = out.get("background", {})
    if family == "chromium":
        out.pop("browser_specific_settings", None)
        background.pop("scripts", None)
    else:
        background.pop("service_worker", None)
    return out


def write_package(
    target: Path, files: list[Path], manifest: dict, extension: Path = EXTENSION
) -> None:
    tmp = target.with_name(target.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            name = path.relative_to(extension).as_posix()
            data = path.read_bytes()
            if name == "manifest.json":
                data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, so the permissions above are read as such
            archive.writestr(info, data, compresslevel=9)
    tmp.replace(target)


def build(out_dir: Path, extension: Path = EXTENSION, root: Path = ROOT) -> list[Path]:
    version = manifest_version(extension)
    if version != project_version(root):
        raise BuildError(
            f"version mismatch: manifest.json {version}, pyproject.toml {project_version(root)}"
        )
    manifest = json.loads((extension / "manifest.json").read_text(encoding="utf-8"))
    files = source_files(extension)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = []
    for family, name in (
        ("chromium", f"cpa-bridge-{version}-chromium.zip"),
        ("firefox", f"cpa-bridge-{version}.xpi"),
    ):
        target = out_dir / name
        write_package(target, files, family_manifest(manifest, family), extension)
        outputs.append(target)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the extension packages into dist/.")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)"
    )
    args = parser.parse_args(argv)
    try:
        outputs = build(args.out)
    except BuildError as exc:
        print(f"build.py: error: {exc}", file=sys.stderr)
        return 2
    for path in outputs:
        print(f"{path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
