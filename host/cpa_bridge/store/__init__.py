"""The local store: where files live, atomic private writes, settings, the key inventory."""
