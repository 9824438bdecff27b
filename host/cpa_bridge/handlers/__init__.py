"""Message handlers, one module per namespace (see ``cpa_bridge.wire.dispatch.ROUTES``)."""
