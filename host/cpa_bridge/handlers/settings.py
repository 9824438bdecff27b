"""``settings.get``, ``settings.set``, ``settings.delete_target``: CLIProxyAPI targets.

Replies never carry a management key: ``has_key`` and a masked ``key_hint`` only.
"""

from __future__ import annotations

from pydantic import Field

from cpa_bridge.core.urls import normalize_management_url
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.handlers.drafts import clean_key
from cpa_bridge.store import settings as store
from cpa_bridge.store import views
from cpa_bridge.wire.dispatch import Reply, handles
from cpa_bridge.wire.params import Params

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$"


class GetParams(Params):
    pass


class SetParams(Params):
    management_url: str | None = Field(default=None, max_length=2048)
    management_key: str | None = Field(default=None, max_length=4096)
    allow_insecure_http: bool | None = None
    target: str | None = Field(default=None, pattern=NAME_PATTERN)
    make_default: bool = False
    allow_link_local: bool | None = None


class DeleteTargetParams(Params):
    target: str = Field(pattern=NAME_PATTERN)


def describe(settings: store.Settings, warnings: list[str] | None = None) -> Reply:
    return views.describe_settings(settings.model_dump(), warnings)


@handles(GetParams)
def get(params: GetParams) -> Reply:
    return describe(store.load())


def _check_key(key: str) -> str:
    return clean_key(key, "params.management_key") if key.strip() else ""


@handles(SetParams)
def set_(params: SetParams) -> Reply:
    settings = store.load()
    name = params.target or settings.default_target
    target = (settings.find(name) or store.Target(name=name)).model_copy()
    if params.allow_insecure_http is not None:
        target.allow_insecure_http = params.allow_insecure_http
    if params.allow_link_local is not None:
        settings.allow_link_local = params.allow_link_local
    warnings: list[str] = []
    if params.management_url is not None and not params.management_url.strip():
        # Saving a blank form must never wipe a stored URL (or create a target without one).
        raise BridgeError(
            ErrorCode.INVALID_URL,
            "the management URL is empty",
            url="",
            field="params.management_url",
        )
    url = params.management_url if params.management_url is not None else target.management_url
    if url:
        normalized = normalize_management_url(
            url,
            allow_insecure_http=target.allow_insecure_http,
            allow_link_local=settings.allow_link_local,
        )
        if params.management_url is not None:
            warnings = normalized.warnings
        if normalized.url != target.management_url:
            target.key_rejected = False
        target.management_url = normalized.url
    if params.management_key is not None:
        # saving a key, even the same one, is the user saying "try it again"
        target.management_key = _check_key(params.management_key)
        target.key_rejected = False
    settings.upsert(target)
    if params.make_default or not settings.find(settings.default_target):
        settings.default_target = target.name
    store.save(settings)
    return describe(settings, warnings)


@handles(DeleteTargetParams)
def delete_target(params: DeleteTargetParams) -> Reply:
    settings = store.load()
    target = settings.find(params.target)
    if target is None:
        raise BridgeError(
            ErrorCode.NOT_FOUND,
            f"no CLIProxyAPI target named '{params.target}'",
            target=params.target,
        )
    settings.targets = [t for t in settings.targets if t is not target]
    if settings.default_target.lower() == target.name.lower():
        settings.default_target = (
            settings.targets[0].name if settings.targets else store.DEFAULT_TARGET
        )
    store.save(settings)
    return describe(settings)
