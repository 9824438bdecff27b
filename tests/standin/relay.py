"""A stand-in relay site (New API, One API or Veloera): the user's token list and its rules.

What each family does, as read from its own code (``shared/reference/relay-sites.md``):

* all: ``{"success","message","data"}`` envelope; no ``Authorization`` → 401; an unknown access
  token → **200** ``success:false``; ``GET /api/token`` (no slash) → 301 to ``/api/token/``; the
  list is ordered ``id desc``; ``/api/user/self``; the relay ``GET /v1/models`` takes a token key
  (``sk-`` optional) and refuses disabled, expired and exhausted tokens with 401; unknown
  ``/api``/``/v1`` paths → 404 ``Invalid URL``.
* ``new-api``: ``p`` 1-based (``p<1`` → 1), size from ``page_size``/``ps``/``size`` (default 10,
  cap 100), ``data = {page, page_size, total, items}``; keys masked (first 4 + ``**********`` +
  last 4); ``POST /api/token/{id}/key`` and ``POST /api/token/batch/keys`` (≤100 ids) reveal
  them, both under one limit of ``reveal_limit`` calls (default 20), then 429 with an empty
  body; ``New-Api-User`` is required and must match.
* ``one-api``: ``p`` 0-based, page size fixed at 10 (``size`` ignored), bare array, full keys,
  no user header.
* ``veloera``: ``p`` 0-based, ``size`` honoured (≤0 → 10, cap 100), bare array, full keys,
  ``Veloera-User`` required.

``page_cap`` (default 100, as the servers) lowers the largest page so tests see several pages.

``requests`` logs ``(method, path, status)`` only (never headers, tokens or keys).
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

try:
    from tests.standin.serving import BackgroundServer, QuietHandler, QuietServer
except ImportError:  # run as a script
    from serving import BackgroundServer, QuietHandler, QuietServer  # type: ignore[import-not-found,no-redef]

JSON_TYPE = "application/json; charset=utf-8"
FAMILIES = ("new-api", "one-api", "veloera")
USER_HEADER = {"new-api": "New-Api-User", "veloera": "Veloera-User"}
ERROR_TYPE = {"new-api": "new_api_error", "one-api": "one_api_error", "veloera": "veloera_error"}


def new_key() -> str:
    return secrets.token_urlsafe(36).replace("-", "a").replace("_", "b")[:48]


def masked(key: str) -> str:
    return key[:4] + "**********" + key[-4:]


class StandinRelay(BackgroundServer):
    """One relay site with one user. Tokens: ``add_token``/``delete_token``/``set_status``."""

    _thread_name = "standin-relay"

    def __init__(
        self,
        family: str = "new-api",
        *,
        access_token: str = "relay-access-token-0123456789",
        user_id: int = 7,
        username: str = "alice",
        models: tuple[str, ...] = ("gpt-4o-mini", "deepseek-chat"),
        reveal_limit: int = 20,
        page_cap: int = 100,
        delay_seconds: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        assert family in FAMILIES
        self.family = family
        self.access_token = access_token
        self.user_id = user_id
        self.username = username
        self.models = list(models)
        self.reveal_limit = reveal_limit
        self.delay_seconds = delay_seconds  # every answer waits this long (timeouts)
        self.page_cap = (
            page_cap  # the servers cap a page at 100; a smaller cap makes pages in tests
        )
        self.reveal_calls = 0
        self.tokens: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, int]] = []
        self._next_id = 1
        self._lock = threading.Lock()
        super().__init__(host, port)

    def _make_server(self) -> _Server:
        return _Server((self._host, self._port), _Handler)

    def _attach(self, server: _Server) -> None:
        server.relay = self

    # -- state ---------------------------------------------------------------------------
    def add_token(
        self,
        name: str,
        *,
        status: int = 1,
        remain_quota: int = 500000,
        unlimited: bool = False,
        expired_time: int = -1,
        group: str = "default",
        model_limits: str = "",
    ) -> dict[str, Any]:
        with self._lock:
            token = {
                "id": self._next_id,
                "user_id": self.user_id,
                "key": new_key(),
                "status": status,
                "name": name,
                "created_time": int(time.time()),
                "accessed_time": int(time.time()),
                "expired_time": expired_time,
                "remain_quota": remain_quota,
                "unlimited_quota": unlimited,
                "used_quota": 0,
                "group": group,
                "model_limits_enabled": bool(model_limits),
                "model_limits": model_limits,
            }
            self._next_id += 1
            self.tokens.append(token)
            return token

    def add_tokens(self, count: int, prefix: str = "key") -> list[dict[str, Any]]:
        return [self.add_token(f"{prefix}-{i + 1:02d}") for i in range(count)]

    def delete_token(self, token_id: int) -> None:
        with self._lock:
            self.tokens = [t for t in self.tokens if t["id"] != token_id]

    def set_status(self, token_id: int, status: int) -> None:
        with self._lock:
            for t in self.tokens:
                if t["id"] == token_id:
                    t["status"] = status

    def full_key(self, token_id: int) -> str:
        return "sk-" + next(t["key"] for t in self.tokens if t["id"] == token_id)

    # -- views ---------------------------------------------------------------------------
    def _shown(self, token: dict[str, Any]) -> dict[str, Any]:
        out = dict(token)
        if self.family == "new-api":
            out["key"] = masked(token["key"])
        if self.family == "one-api":
            for name in ("model_limits_enabled", "model_limits", "group"):
                out.pop(name, None)
            out["models"] = token["model_limits"] or None
            out["subnet"] = ""
        return out

    def _page(self, query: dict[str, list[str]]) -> Any:
        def num(name: str) -> int | None:
            try:
                return int(query[name][0])
            except (KeyError, ValueError, IndexError):
                return None

        ordered = sorted(self.tokens, key=lambda t: -t["id"])
        p = num("p") or 0
        if self.family == "new-api":
            page = max(p, 1)
            size = next((v for v in (num("page_size"), num("ps"), num("size")) if v), None) or 10
            size = min(max(size, 1), self.page_cap)
            items = ordered[(page - 1) * size : page * size]
            return {
                "page": page,
                "page_size": size,
                "total": len(ordered),
                "items": [self._shown(t) for t in items],
            }
        p = max(p, 0)
        if self.family == "one-api":
            size = 10
        else:
            size = num("size") or 0
            size = 10 if size <= 0 else min(size, self.page_cap)
        return [self._shown(t) for t in ordered[p * size : (p + 1) * size]]

    def _relay_ok(self, authorization: str) -> bool:
        key = authorization.removeprefix("Bearer ").removeprefix("sk-").split("-", 1)[0]
        now = time.time()
        for t in self.tokens:
            if secrets.compare_digest(t["key"], key):
                if t["status"] != 1 or (t["expired_time"] != -1 and t["expired_time"] <= now):
                    return False
                return t["unlimited_quota"] or t["remain_quota"] > 0
        return False

    def answer(
        self, method: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/v1/models" and method == "GET":
            if not self._relay_ok(headers.get("Authorization") or ""):
                return (
                    401,
                    _json({"error": {"message": "无效的令牌", "type": ERROR_TYPE[self.family]}}),
                    {},
                )
            data = [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "relay"}
                for m in self.models
            ]
            return (
                200,
                _json(
                    {
                        "object": "list",
                        "data": data,
                        **({"success": True} if self.family != "one-api" else {}),
                    }
                ),
                {},
            )
        if path == "/api/status" and method == "GET":
            return (
                200,
                _ok({"version": "v0.0.0-standin", "system_name": f"{self.family} stand-in"}),
                {},
            )
        if path == "/api/token" and method == "GET":
            return (
                301,
                b"",
                {"Location": "/api/token/" + (f"?{parts.query}" if parts.query else "")},
            )
        user_routes = path == "/api/user/self" or path.startswith("/api/token/")
        if not user_routes:
            return (
                404,
                _json(
                    {
                        "error": {
                            "message": f"Invalid URL ({method} {path})",
                            "type": "invalid_request_error",
                        }
                    }
                ),
                {},
            )
        refusal = self._auth(headers)
        if refusal is not None:
            return refusal
        if path == "/api/user/self" and method == "GET":
            return (
                200,
                _ok(
                    {
                        "id": self.user_id,
                        "username": self.username,
                        "display_name": self.username,
                        "role": 1,
                        "status": 1,
                        "group": "default",
                        "quota": 1000000,
                    }
                ),
                {},
            )
        if path == "/api/token/" and method == "GET":
            with self._lock:
                return 200, _ok(self._page(query)), {}
        if (
            self.family == "new-api"
            and method == "POST"
            and (path == "/api/token/batch/keys" or path.endswith("/key"))
        ):
            with self._lock:
                self.reveal_calls += 1
                if self.reveal_calls > self.reveal_limit:
                    return 429, b"", {}
                if path == "/api/token/batch/keys":
                    try:
                        ids = json.loads(body)["ids"]
                    except (ValueError, KeyError, TypeError):
                        ids = None
                    if not isinstance(ids, list) or not ids:
                        return 200, _fail("参数错误"), {}
                    if len(ids) > 100:
                        return 200, _fail("批量操作数量过多，最多 100 个"), {}
                    keys = {str(t["id"]): t["key"] for t in self.tokens if t["id"] in ids}
                    return 200, _ok({"keys": keys}), {}
                try:
                    token_id = int(path.split("/")[3])
                except (ValueError, IndexError):
                    return 200, _fail("参数错误"), {}
                token = next((t for t in self.tokens if t["id"] == token_id), None)
                if token is None:
                    return 200, _fail("record not found"), {}
                return 200, _ok({"key": token["key"]}), {}
        return (
            404,
            _json(
                {
                    "error": {
                        "message": f"Invalid URL ({method} {path})",
                        "type": "invalid_request_error",
                    }
                }
            ),
            {},
        )

    def _auth(self, headers: Any) -> tuple[int, bytes, dict[str, str]] | None:
        token = (headers.get("Authorization") or "").replace("Bearer ", "", 1)
        if not token:
            return 401, _fail("无权进行此操作，未登录且未提供 access token"), {}
        if not secrets.compare_digest(token, self.access_token):
            return 200, _fail("无权进行此操作，access token 无效"), {}
        header = USER_HEADER.get(self.family)
        if header:
            value = headers.get(header)
            if not value:
                return 401, _fail(f"无权进行此操作，未提供 {header}"), {}
            try:
                given = int(value)
            except ValueError:
                return 401, _fail(f"无权进行此操作，{header} 格式错误"), {}
            if given != self.user_id:
                return 401, _fail(f"无权进行此操作，{header} 与登录用户不匹配"), {}
        return None

    def log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _ok(data: Any) -> bytes:
    return _json({"success": True, "message": "", "data": data})


def _fail(message: str) -> bytes:
    return _json({"success": False, "message": message})


class _Server(QuietServer):
    relay: StandinRelay


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:
        relay = self.server.relay
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if relay.delay_seconds > 0:
            time.sleep(relay.delay_seconds)
        status, out, extra = relay.answer(self.command, self.path, self.headers, body)
        relay.log(self.command, urlsplit(self.path).path, status)
        self.send_response(status)
        self.send_header("Content-Type", JSON_TYPE)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = do_PUT = do_DELETE = do_GET


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT after printing ``READY <url>`` (tokens from ``--tokens N``)."""
    parser = argparse.ArgumentParser(description="Relay-site stand-in (tests only)")
    parser.add_argument("--family", choices=FAMILIES, default="new-api")
    parser.add_argument("--access-token", default="relay-access-token-0123456789")
    parser.add_argument("--user-id", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=3)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    relay = StandinRelay(
        args.family,
        access_token=args.access_token,
        user_id=args.user_id,
        host=args.host,
        port=args.port,
    )
    relay.add_tokens(args.tokens)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    relay.start()
    print(f"READY {relay.url}", flush=True)
    while not stopping.wait(0.2):
        pass
    relay.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
