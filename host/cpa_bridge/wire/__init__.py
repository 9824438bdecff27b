"""The wire: native-messaging frames, message envelopes, the ``type`` → handler table, the host log.

Nothing here talks to CLIProxyAPI or a relay site; ``ping`` runs on this layer alone.
"""
