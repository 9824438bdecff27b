"""Real CLIProxyAPI servers for the tests: built with Go (build.py), run on loopback (server.py)."""
