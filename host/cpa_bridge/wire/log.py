"""Diagnostics for the host: a small rotating log file in the data dir (never stdout).

Only message types, ids, error codes and durations are logged: never params, keys or
response bodies. ``CPA_BRIDGE_LOG=debug|info|warning|off`` sets the level.
"""

from __future__ import annotations

import json
import logging
import os

from cpa_bridge.store import paths, storage

logger = logging.getLogger("cpa_bridge")


def safe(value: object, limit: int = 64) -> str:
    """``value`` as one printable ASCII line for the log: CR, LF, other control characters,
    non-ASCII and lone surrogates escaped (``\\n``, ``\\ud800``), so a request cannot forge a
    log line or make the log handler fail."""
    text = str(value)[:limit]
    return json.dumps(text, ensure_ascii=True)[1:-1]


def setup() -> None:
    level_name = os.environ.get("CPA_BRIDGE_LOG", "info").lower()
    if level_name == "off" or logger.handlers:
        logger.disabled = level_name == "off"
        return
    logger.setLevel(getattr(logging, level_name.upper(), logging.INFO))
    logger.propagate = False

    try:
        path = paths.log_file()
        storage.ensure_private_dir(path.parent)
        _rotate(path)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
        if os.name == "posix":
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
    except Exception:  # no writable data dir: fall back to stderr, never stdout
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    logger.addHandler(handler)


MAX_LOG_BYTES = 512 * 1024


def _rotate(path: os.PathLike[str]) -> None:
    """Keep the log small: at start-up, a log over 512 KiB becomes ``host.log.1`` (one generation)."""
    try:
        if os.path.getsize(path) > MAX_LOG_BYTES:
            os.replace(path, f"{os.fspath(path)}.1")
    except OSError:
        pass
