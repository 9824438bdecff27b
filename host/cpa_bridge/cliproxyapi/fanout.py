"""Run one operation on several CLIProxyAPI targets at once (bounded), collecting each outcome."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import settings as store

MAX_PARALLEL = 4


def target_names(
    targets: list[str] | Literal["all"] | None, default: str | None
) -> list[str | None]:
    settings = store.load()
    if targets is None:
        return [default]
    if targets == "all":
        names = [t.name for t in settings.targets if t.configured]
        if not names:
            raise BridgeError(ErrorCode.NOT_CONFIGURED, "no CLIProxyAPI target is configured")
        return list(names)
    if not targets:
        raise BridgeError(ErrorCode.INVALID_REQUEST, "'targets' is empty", field="params.targets")
    for name in targets:
        if settings.find(name) is None:
            raise BridgeError(
                ErrorCode.NOT_FOUND, f"no CLIProxyAPI target named '{name[:40]}'", target=name[:40]
            )
    return list(dict.fromkeys(targets))


def run(
    names: list[str | None], operation: Callable[[str | None], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``operation`` per target concurrently; one failing never stops another."""

    def one(name: str | None) -> dict[str, Any]:
        try:
            return {"target": name, "ok": True, "result": operation(name)}
        except BridgeError as exc:
            return {"target": name, "ok": False, "error": exc.to_dict()}

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(names))) as pool:
        # each thread runs in a copy of this context: they share the message's scope (cpa_bridge.operation)
        futures = [pool.submit(contextvars.copy_context().run, one, name) for name in names]
        results = [f.result() for f in futures]
    failed = [r["target"] for r in results if not r["ok"]]
    return {
        "results": results,
        "summary": {
            "total": len(results),
            "succeeded": len(results) - len(failed),
            "failed": len(failed),
        },
        "failed_targets": failed,
    }
