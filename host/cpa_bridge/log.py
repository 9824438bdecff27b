"""Diagnostics for the host: a small rotating log file in the data dir (never stdout).

Only message types, ids, error codes and durations are logged: never params, keys or
response bodies. ``CPA_BRIDGE_LOG=debug|info|warning|off`` sets the level.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger("cpa_bridge")


def setup() -> None:
    level_name = os.environ.get("CPA_BRIDGE_LOG", "info").lower()
    if level_name == "off" or logger.handlers:
        logger.disabled = level_name == "off"
        return
    logger.setLevel(getattr(logging, level_name.upper(), logging.INFO))
    logger.propagate = False
    from logging.handlers import RotatingFileHandler

    from . import paths, storage

    try:
        path = paths.log_file()
        storage.ensure_private_dir(path.parent)
        handler: logging.Handler = RotatingFileHandler(path, maxBytes=512 * 1024, backupCount=2, encoding="utf-8")
        if os.name == "posix":
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
    except Exception:  # no writable data dir: fall back to stderr, never stdout
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    logger.addHandler(handler)
