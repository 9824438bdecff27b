"""``ping``: the host's version, protocol and features."""

from __future__ import annotations

from .. import PROTOCOL_VERSION, __version__
from ..dispatch import ROUTES, Context, handles
from ..protocol import Params

FEATURES = ["import", "import.batch", "dry_run", "history", "undo", "keys", "targets", "providers"]


class PingParams(Params):
    pass


@handles(PingParams)
def ping(params: PingParams, ctx: Context) -> dict:
    return {
        "host_version": __version__,
        "protocol": PROTOCOL_VERSION,
        "features": FEATURES,
        "types": sorted(ROUTES),
    }
