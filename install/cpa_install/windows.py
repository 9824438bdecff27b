"""The Windows registry: the only code that calls ``winreg``.

Keys are written whole, hive first: ``HKCU\\Software\\Google\\Chrome\\
NativeMessagingHosts\\io.cpabridge.host``. We only ever use a key's default
value (a string: the manifest's absolute path). ``MemoryRegistry`` has the
same five methods and stands in for the real one in tests and dry runs on
other systems.
"""

from __future__ import annotations

from typing import Any

HIVES = ("HKCU", "HKLM")


def split_key(key: str) -> tuple[str, str]:
    hive, _, sub = key.partition("\\")
    if hive not in HIVES or not sub:
        raise ValueError(f"bad registry key {key!r}")
    return hive, sub


def parent_key(key: str) -> str | None:
    """The parent key, or None for a key directly under its hive."""
    head, sep, _ = key.rpartition("\\")
    return head if sep and "\\" in head else None


class Registry:
    """winreg, reduced to what a native-messaging install needs."""

    def __init__(self) -> None:
        import winreg  # noqa: PLC0415 (only importable on Windows)

        self._w: Any = winreg
        self._hives = {"HKCU": self._w.HKEY_CURRENT_USER, "HKLM": self._w.HKEY_LOCAL_MACHINE}

    def _open(self, key: str):
        hive, sub = split_key(key)
        return self._w.OpenKey(self._hives[hive], sub)

    def exists(self, key: str) -> bool:
        try:
            self._open(key).Close()
        except FileNotFoundError:
            return False
        return True

    def get(self, key: str) -> str | None:
        """The key's default value, or None if the key or the value is missing."""
        try:
            with self._open(key) as handle:
                value, kind = self._w.QueryValueEx(handle, "")
        except FileNotFoundError:
            return None
        return value if kind in (self._w.REG_SZ, self._w.REG_EXPAND_SZ) else None

    def set_default(self, key: str, value: str) -> None:
        """Create the key (and missing parents) and set its default value."""
        hive, sub = split_key(key)
        with self._w.CreateKeyEx(self._hives[hive], sub, 0, self._w.KEY_WRITE) as handle:
            self._w.SetValueEx(handle, "", 0, self._w.REG_SZ, value)

    def is_empty(self, key: str) -> bool:
        with self._open(key) as handle:
            subkeys, values, _ = self._w.QueryInfoKey(handle)
        return subkeys == 0 and values == 0

    def delete(self, key: str) -> None:
        """Delete a key that has no subkeys."""
        hive, sub = split_key(key)
        self._w.DeleteKey(self._hives[hive], sub)


class MemoryRegistry:
    """A registry in a dict: {key: default value or None}. Keys compare case-insensitively."""

    def __init__(self, keys: dict[str, str | None] | None = None) -> None:
        self.keys: dict[str, str | None] = {}
        for key, value in (keys or {}).items():
            self.keys[self._create(key)] = value

    def _find(self, key: str) -> str | None:
        return next((k for k in self.keys if k.lower() == key.lower()), None)

    def _create(self, key: str) -> str:
        split_key(key)
        parent = parent_key(key)
        if parent:
            self._create(parent)
        found = self._find(key)
        if found is None:
            self.keys[key] = None
            found = key
        return found

    def exists(self, key: str) -> bool:
        return self._find(key) is not None

    def get(self, key: str) -> str | None:
        found = self._find(key)
        return None if found is None else self.keys[found]

    def set_default(self, key: str, value: str) -> None:
        self.keys[self._create(key)] = value

    def is_empty(self, key: str) -> bool:
        found = self._find(key)
        if found is None:
            raise FileNotFoundError(key)
        prefix = found.lower() + "\\"
        return self.keys[found] is None and not any(k.lower().startswith(prefix) for k in self.keys)

    def delete(self, key: str) -> None:
        found = self._find(key)
        if found is None:
            raise FileNotFoundError(key)
        prefix = found.lower() + "\\"
        if any(k.lower().startswith(prefix) for k in self.keys):
            raise OSError(f"registry key {key} has subkeys")
        del self.keys[found]
