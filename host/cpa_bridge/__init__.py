"""cpa-bridge: import API keys from the browser into CLIProxyAPI, safely.

The package is the native-messaging host (``cpa-bridge-host``) and the command-line
tool (``cpa-bridge``). Both call the same handlers through :mod:`cpa_bridge.wire.dispatch`.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1

__all__ = ["PROTOCOL_VERSION", "__version__"]
