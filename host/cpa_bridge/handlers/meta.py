"""``ping``: the host's version, protocol and features."""

from __future__ import annotations

from cpa_bridge import PROTOCOL_VERSION, __version__
from cpa_bridge.wire.dispatch import ROUTES, Reply, handles

FEATURES = [
    "import",
    "import.batch",
    "dry_run",
    "history",
    "undo",
    "keys",
    "targets",
    "providers",
    "provider_management",
    "drift",
    "relay_accounts",
]


@handles(None)
def ping(params: None) -> Reply:
    return {
        "host_version": __version__,
        "protocol": PROTOCOL_VERSION,
        "features": FEATURES,
        "types": sorted(ROUTES),
    }
