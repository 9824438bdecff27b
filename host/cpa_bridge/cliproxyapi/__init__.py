"""The CLIProxyAPI side: the Management API client, the one write path (engine), backups,
opening a client for a configured target (lock-out safety) and fan-out over targets."""
