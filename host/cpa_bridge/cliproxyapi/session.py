"""Open a :class:`ManagementClient` for a configured target, with lock-out safety.

After a 401 the key is marked rejected in the settings file, on every target naming the
same server with it; until the user saves the key again (even the same one), :func:`open_client` refuses with ``auth_blocked`` without
sending anything, so the host can never walk a user into CLIProxyAPI's 5-failure ban.
"""

from __future__ import annotations

import os

from cpa_bridge.cliproxyapi import servers
from cpa_bridge.cliproxyapi.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
    ManagementClient,
)
from cpa_bridge.core.urls import normalize_management_url
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import settings as store


def _timeout(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
        return value if value > 0 else default
    except ValueError:
        return default


def timeouts() -> tuple[float, float]:
    return (
        _timeout("CPA_BRIDGE_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT),
        _timeout("CPA_BRIDGE_TIMEOUT", DEFAULT_TOTAL_TIMEOUT),
    )


def _mark_rejected(server_id: str, key: str) -> None:
    """After a 401: block ``key`` on every target that names the same server with it."""
    settings = store.load()
    changed = False
    for target in settings.targets:
        if (
            target.management_key == key
            and not target.key_rejected
            and target.management_url
            and servers.identity(target.management_url) == server_id
        ):
            target.key_rejected = True
            changed = True
    if changed:
        store.save(settings)


def client_for(target: store.Target, settings: store.Settings) -> ManagementClient:
    normalize_management_url(
        target.management_url,
        allow_insecure_http=target.allow_insecure_http,
        allow_link_local=settings.allow_link_local,
    )
    if target.key_rejected:
        raise BridgeError(
            ErrorCode.AUTH_BLOCKED,
            "CLIProxyAPI rejected this management key before; the host will not try it again "
            f"({servers.BAN_FAILURES} failures ban this IP for {servers.BAN_MINUTES} minutes). "
            "Save the key again (the same one, once it is correct on the server) to try again.",
            target=target.name,
            ban_failures=servers.BAN_FAILURES,
            ban_minutes=servers.BAN_MINUTES,
        )
    connect, total = timeouts()
    key = target.management_key
    server_id = servers.identity(target.management_url)
    return ManagementClient(
        target,
        connect_timeout=connect,
        total_timeout=total,
        on_unauthorized=lambda: _mark_rejected(server_id, key),
        server_id=server_id,
        allow_link_local=settings.allow_link_local,
    )


def open_client(target_name: str | None = None) -> ManagementClient:
    settings = store.load()
    return client_for(store.require_target(settings, target_name), settings)
