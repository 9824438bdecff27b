"""scripts/build.py: the Chromium zip and the Firefox xpi, built and looked into; one version."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import cpa_bridge

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "extension"
BUILD = ROOT / "scripts" / "build.py"


def load_build():
    spec = importlib.util.spec_from_file_location("cpa_build", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def version() -> str:
    return json.loads((EXT / "manifest.json").read_text(encoding="utf-8"))["version"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, str(BUILD), "--out", str(out)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return {
        "chromium": out / f"cpa-bridge-{version()}-chromium.zip",
        "firefox": out / f"cpa-bridge-{version()}.xpi",
    }


def test_one_version_in_manifest_pyproject_and_package() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^version = "([^"]+)"$', pyproject, re.MULTILINE).group(1) == version()
    assert cpa_bridge.__version__ == version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version())  # what both stores accept


def test_builds_both_packages_named_by_version(built) -> None:
    for path in built.values():
        assert path.is_file() and zipfile.is_zipfile(path), path
    assert not list(built["chromium"].parent.glob("*.part"))


def test_packages_hold_exactly_the_shipped_files(built) -> None:
    expected = sorted(p.relative_to(EXT).as_posix() for p in EXT.rglob("*") if p.is_file())
    for path in built.values():
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            assert names == expected, path.name
            assert archive.testzip() is None
            for name in names:
                if name != "manifest.json":
                    assert archive.read(name) == (EXT / name).read_bytes(), name
    for name in expected:
        assert not re.search(r"(^|/)\.|\.(md|map|py|txt|bak|orig)$|~$", name), name


def test_each_family_gets_its_own_manifest(built) -> None:
    source = json.loads((EXT / "manifest.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(built["chromium"]) as archive:
        chromium = json.loads(archive.read("manifest.json"))
    with zipfile.ZipFile(built["firefox"]) as archive:
        firefox = json.loads(archive.read("manifest.json"))
    assert "key" not in chromium and "browser_specific_settings" not in chromium
    assert chromium["background"] == {"service_worker": "background.js", "type": "module"}
    assert "key" not in firefox
    assert firefox["background"] == {"scripts": ["background.js"], "type": "module"}
    assert firefox["browser_specific_settings"] == source["browser_specific_settings"]
    same = {
        k: v
        for k, v in source.items()
        if k not in ("key", "background", "browser_specific_settings")
    }
    for manifest in (chromium, firefox):
        assert {k: manifest[k] for k in same} == same
        assert manifest["version"] == version()


def test_build_is_reproducible(built, tmp_path) -> None:
    again = load_build().build(tmp_path)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert sorted(map(digest, again)) == sorted(map(digest, built.values()))
    with zipfile.ZipFile(built["firefox"]) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {info.external_attr >> 16 for info in archive.infolist()} == {0o644}


def test_a_stray_file_stops_the_build(tmp_path) -> None:
    build = load_build()
    ext = tmp_path / "extension"
    shutil.copytree(EXT, ext)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (ext / "lib" / "notes.md").write_text("todo\n")
    (ext / ".keys.js.swp").write_bytes(b"\0")
    with pytest.raises(build.BuildError, match=r"\.keys\.js\.swp.*lib/notes\.md"):
        build.build(tmp_path / "dist", extension=ext, root=tmp_path)
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())


def test_a_version_mismatch_stops_the_build(tmp_path) -> None:
    build = load_build()
    shutil.copytree(EXT, tmp_path / "extension")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "9.9.9"\n')
    with pytest.raises(build.BuildError, match="version mismatch"):
        build.build(tmp_path / "dist", extension=tmp_path / "extension", root=tmp_path)
    proc = subprocess.run(
        [sys.executable, str(BUILD), "--out", str(tmp_path / "d")], capture_output=True, text=True
    )
    assert proc.returncode == 0  # the real tree is consistent
