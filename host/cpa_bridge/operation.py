"""One message's scope: state that lives exactly as long as one handled message.

:func:`cpa_bridge.wire.dispatch.call` opens a scope around each handler; a layer keeps
what it learns during the message under its own name (:func:`state`). Threads of a
fan-out run in a copy of the context (``contextvars.copy_context()``) and share it.
Outside a message (unit tests, direct calls) every :func:`state` call gets a fresh value.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_scope: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "cpa_bridge_operation", default=None
)
_lock = threading.Lock()


@contextmanager
def scope() -> Iterator[None]:
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def state(name: str, make: Callable[[], T]) -> T:
    """This message's value for ``name`` (made on first use)."""
    current = _scope.get()
    if current is None:
        return make()
    with _lock:
        if name not in current:
            current[name] = make()
        return current[name]  # type: ignore[no-any-return]
