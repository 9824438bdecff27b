"""Message type → handler. One table; handler modules are imported on first use.

Every handler is ``fn(params: <pydantic model>) -> dict`` and raises
:class:`BridgeError` on failure. ``ping`` and ``settings.*`` never import httpx, which
keeps a cold start fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from cpa_bridge import operation
from cpa_bridge.core.notices import add_codes
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.wire.protocol import invalid_request

if TYPE_CHECKING:
    from pydantic import BaseModel

#: type → (module under cpa_bridge.handlers, function name). Append-only, like error codes.
ROUTES: dict[str, tuple[str, str]] = {
    "ping": ("meta", "ping"),
    "settings.get": ("settings", "get"),
    "settings.set": ("settings", "set_"),
    "settings.delete_target": ("settings", "delete_target"),
    "connection.test": ("connection", "test"),
    "models.list": ("connection", "models_list"),
    "keys.list": ("keys", "list_"),
    "keys.save": ("keys", "save_key"),
    "keys.delete": ("keys", "delete_key"),
    "keys.reveal": ("keys", "reveal"),
    "keys.import_backup": ("keys", "import_backup"),
    "sites.save": ("keys", "save_site"),
    "sites.delete": ("keys", "delete_site"),
    "import": ("imports", "import_one"),
    "import.batch": ("imports", "import_batch"),
    "history.list": ("imports", "history_list"),
    "history.undo": ("imports", "history_undo"),
    "providers.list": ("providers", "list_"),
    "providers.show": ("providers", "show"),
    "providers.remove_key": ("providers", "remove_key"),
    "providers.set_disabled": ("providers", "set_disabled"),
    "providers.delete": ("providers", "delete"),
    "providers.set_models": ("providers", "set_models"),
    "providers.drift": ("providers", "drift"),
    "providers.sync": ("providers", "sync"),
    "accounts.add": ("accounts", "add"),
    "accounts.list": ("accounts", "list_"),
    "accounts.refresh": ("accounts", "refresh"),
    "accounts.remove": ("accounts", "remove"),
    "accounts.stale": ("accounts", "stale"),
    "accounts.cleanup": ("accounts", "cleanup"),
    "keys.check": ("accounts", "check_keys"),
}

P = TypeVar("P", bound="BaseModel")
#: What a handler answers: the ``result`` object of a reply (host/PROTOCOL.md).
Reply = dict[str, Any]
Handler = Callable[[Any], Reply]


def handles(model: type[P] | None) -> Callable[[Callable[[P], Reply]], Handler]:
    """Mark a function as the handler of a message whose params are ``model`` (``None``: no params)."""

    def mark(fn: Callable[[P], Reply]) -> Handler:
        fn.params_model = model  # type: ignore[attr-defined]
        return fn

    return mark


def resolve(message_type: str) -> Handler:
    route = ROUTES.get(message_type)
    if route is None:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            f"unknown message type '{message_type[:64]}'",
            field="type",
            known=sorted(ROUTES),
        )
    module = importlib.import_module(f"cpa_bridge.handlers.{route[0]}")
    handler: Handler = getattr(module, route[1])
    return handler


def call(message_type: str, params: dict[str, Any]) -> Reply:
    """Validate ``params`` for ``message_type`` and run its handler."""
    handler = resolve(message_type)
    model: type[BaseModel] | None = handler.params_model  # type: ignore[attr-defined]
    if model is None:  # a message without params (ping): no pydantic needed
        if params:
            field = f"params.{str(next(iter(params)))[:40]}"
            raise BridgeError(
                ErrorCode.INVALID_REQUEST,
                f"unknown field '{field}'",
                field=field,
                reason="extra_forbidden",
            )
        return handler(None)
    # imported here, not at the top: ``ping`` (above) needs no pydantic
    from pydantic import ValidationError  # noqa: PLC0415 (start-up: pydantic loads only past ping)

    try:
        parsed = model.model_validate(params)
    except ValidationError as exc:
        raise invalid_request(exc, prefix="params") from None
    with operation.scope():
        reply: Reply = add_codes(handler(parsed))
        return reply
