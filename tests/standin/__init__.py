"""Test stand-ins: a CLIProxyAPI Management API server and an upstream relay (no network beyond 127.0.0.1)."""
