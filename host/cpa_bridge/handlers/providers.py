"""``providers.list``: what CLIProxyAPI holds, keys masked."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..dispatch import Context, handles
from ..protocol import Params
from ..redact import mask

ListName = Literal["openai-compatibility", "claude-api-key", "gemini-api-key", "codex-api-key"]


class ListParams(Params):
    target: str | None = Field(default=None, max_length=40)
    list: ListName | None = None


def _keys(item: dict[str, Any]) -> list[str]:
    entries = item.get("api-key-entries")
    if isinstance(entries, list):
        return [str(e.get("api-key", "")) for e in entries if isinstance(e, dict)]
    key = item.get("api-key")
    return [key] if isinstance(key, str) else []


def summarize(item: dict[str, Any]) -> dict[str, Any]:
    keys = _keys(item)
    models = item.get("models") if isinstance(item.get("models"), list) else []
    return {
        "name": item.get("name"),
        "base_url": item.get("base-url"),
        "disabled": bool(item.get("disabled", False)),
        "prefix": item.get("prefix") or None,
        "key_count": len(keys),
        "keys": [mask(k) for k in keys],
        "model_count": len(models),
        "models": [
            {"name": m.get("name"), "alias": m.get("alias")} for m in models[:200] if isinstance(m, dict)
        ],
    }


@handles(ListParams)
def list_(params: ListParams, ctx: Context) -> dict:
    from ..client import PROVIDER_LISTS
    from ..session import open_client

    names = [params.list] if params.list else list(PROVIDER_LISTS)
    with open_client(params.target) as client:
        lists = {name: [summarize(item) for item in client.get_list(name)] for name in names}
        return {"target": client.target.name, "server_version": client.server_version, "lists": lists}
