"""The host's folders on Linux are exactly what platformdirs would give (without importing it)."""

from __future__ import annotations

import sys

import platformdirs
import pytest

from cpa_bridge.store import paths


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux fast path")
@pytest.mark.parametrize("xdg", [True, False])
def test_linux_dirs_agree_with_platformdirs(monkeypatch, isolated_home, xdg):
    if not xdg:
        monkeypatch.delenv("XDG_CONFIG_HOME")
        monkeypatch.setenv("XDG_DATA_HOME", "  ")
    assert paths.config_dir() == platformdirs.user_config_path(
        "cpa-bridge", appauthor=False, roaming=True
    )
    assert paths.data_dir() == platformdirs.user_data_path("cpa-bridge", appauthor=False)


def test_other_platforms_ask_platformdirs(monkeypatch, isolated_home):
    """Off Linux (macOS, Windows) the folders are platformdirs' own."""
    monkeypatch.setattr(paths, "PLATFORM", "darwin")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    config = platformdirs.user_config_path("cpa-bridge", appauthor=False, roaming=True)
    assert paths.config_dir() == config
    assert paths.data_dir() == platformdirs.user_data_path("cpa-bridge", appauthor=False)
    monkeypatch.setenv("CPA_BRIDGE_CONFIG_DIR", str(isolated_home / "cfg"))
    assert paths.config_dir() == isolated_home / "cfg"
