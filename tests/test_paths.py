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
