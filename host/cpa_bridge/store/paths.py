"""Where the host keeps its files (platformdirs; honours XDG_CONFIG_HOME / XDG_DATA_HOME).

* config dir: ``settings.json`` (management URLs and keys), 0600 in a 0700 directory.
* data dir: ``keys.json`` (key inventory), ``backups/``, ``locks/``, ``servers/``, ``logs/``.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "cpa-bridge"


def config_dir() -> Path:
    override = os.environ.get("CPA_BRIDGE_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False, roaming=True))


def data_dir() -> Path:
    override = os.environ.get("CPA_BRIDGE_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

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
