"""The host's settings: one or more CLIProxyAPI targets (URL, key, insecure switch).

Stored in ``settings.json`` under the user config dir, 0600, written atomically. The
management key never leaves this file except in the Authorization header: replies
carry ``has_key`` and a masked ``key_hint``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cpa_bridge import operation
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import paths, storage, views

DEFAULT_TARGET = "default"


class Target(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = DEFAULT_TARGET
    management_url: str = ""
    management_key: str = ""
    allow_insecure_http: bool = False
    #: Set after a 401 with this key: the host does not try the key again until it changes.
    key_rejected: bool = False

    def public(self, default: bool) -> dict[str, Any]:
        return views.public_target(self.model_dump(), default)

    @property
    def configured(self) -> bool:
        return bool(self.management_url and self.management_key)


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = 1
    default_target: str = DEFAULT_TARGET
    targets: list[Target] = Field(default_factory=list)
    #: Allow provider/upstream URLs on link-local or metadata addresses (169.254.0.0/16).
    allow_link_local: bool = False

    def find(self, name: str | None) -> Target | None:
        wanted = (name or self.default_target).strip().lower()
        for target in self.targets:
            if target.name.lower() == wanted:
                return target
        return None

    def default(self) -> Target:
        return self.find(None) or Target(name=self.default_target)

    def upsert(self, target: Target) -> None:
        for i, existing in enumerate(self.targets):
            if existing.name.lower() == target.name.lower():
                self.targets[i] = target
                return
        self.targets.append(target)


def load() -> Settings:
    """The settings, read from the file once per message (:mod:`cpa_bridge.operation`): each
    caller gets its own copy to change and :func:`save`."""
    cache = operation.state("settings", dict)
    if "value" not in cache:
        cache["value"] = _read()
    return cache["value"].model_copy(deep=True)


def _read() -> Settings:
    return storage.load_model(paths.settings_file(), Settings)


def save(value: Settings) -> None:
    _write(value)
    operation.state("settings", dict[str, Settings])["value"] = value.model_copy(deep=True)


def _write(value: Settings) -> None:
    storage.save_model(paths.settings_file(), value)


def require_target(settings: Settings, name: str | None = None) -> Target:
    """The named (or default) target, which must have a URL and a key."""
    target = settings.find(name)
    if target is None and name:
        raise BridgeError(ErrorCode.NOT_FOUND, f"no CLIProxyAPI target named '{name}'", target=name)
    if target is None or not target.configured:
        raise views.not_configured(name or settings.default_target)
    return target
