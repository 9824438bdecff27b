"""Where the host keeps its files (platformdirs; honours XDG_CONFIG_HOME / XDG_DATA_HOME).

* config dir: ``settings.json`` (management URLs and keys), 0600 in a 0700 directory.
* data dir: ``keys.json`` (key inventory), ``backups/``, ``locks/``, ``servers/``, ``logs/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "cpa-bridge"
#: ``sys.platform``, as a plain string (so the type checker checks every branch below)
PLATFORM: str = sys.platform


def _xdg(variable: str, fallback: str) -> Path:
    """Linux: what platformdirs answers (``$XDG_…`` when set, else the default under ~), without
    importing it: the CLI's offline commands start faster (bench/offline_cli.py)."""
    value = os.environ.get(variable, "").strip()
    return Path(value if value else os.path.expanduser(fallback)) / APP


def config_dir() -> Path:
    override = os.environ.get("CPA_BRIDGE_CONFIG_DIR")
    if override:
        return Path(override)
    if PLATFORM.startswith("linux"):
        return _xdg("XDG_CONFIG_HOME", "~/.config")
    import platformdirs  # noqa: PLC0415 (start-up: platformdirs only off Linux)

    return Path(platformdirs.user_config_dir(APP, appauthor=False, roaming=True))


def data_dir() -> Path:
    override = os.environ.get("CPA_BRIDGE_DATA_DIR")
    if override:
        return Path(override)
    if PLATFORM.startswith("linux"):
        return _xdg("XDG_DATA_HOME", "~/.local/share")
    import platformdirs  # noqa: PLC0415 (start-up: platformdirs only off Linux)

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def settings_file() -> Path:
    return config_dir() / "settings.json"


def keys_file() -> Path:
    return data_dir() / "keys.json"


def backups_dir() -> Path:
    return data_dir() / "backups"


def locks_dir() -> Path:
    return data_dir() / "locks"


def servers_dir() -> Path:
    """What the host knows of each CLIProxyAPI server (the 401s it received)."""
    return data_dir() / "servers"


def log_file() -> Path:
    return data_dir() / "logs" / "host.log"
