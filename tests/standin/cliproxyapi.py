"""A stand-in for the CLIProxyAPI Management API (``/v0/management``), for tests.

Written from the project's CLIProxyAPI Management API reference notes ("ref section N" below);
the real Go server cannot be built here (ref section 9). Stdlib HTTP server + PyYAML only.

Run it in-process::

    with StandinCLIProxyAPI(Path("config.yaml")).start() as cpa:
        httpx.get(cpa.management_url + "/config", headers={"Authorization": "Bearer test-mgmt-key"})

or as a process (prints ``READY http://127.0.0.1:<port>`` once it serves)::

    python -m tests.standin.cliproxyapi --config FILE [--secret S | --no-secret] [--allow-remote] [--port N]

Test-only control routes, never authenticated: ``POST /__standin/faults`` (JSON with
:class:`Faults` field names), ``DELETE /__standin/faults`` (all off), ``POST /__standin/restart``,
``GET /__standin/requests``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import ipaddress
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

try:  # package import (python -m tests.standin.cliproxyapi, pytest)
    from tests.standin import cpa_lists as model
    from tests.standin.serving import BackgroundServer
except ImportError:  # pragma: no cover - script mode (python tests/standin/cliproxyapi.py)
    import cpa_lists as model  # type: ignore[import-not-found,no-redef]
    from serving import BackgroundServer  # type: ignore[import-not-found,no-redef]

MANAGEMENT_PREFIX = "/v0/management"
CONTROL_PREFIX = "/__standin/"
MAX_FAILURES = 5
BAN_SECONDS = 30 * 60
LOCAL_IPS = frozenset({"127.0.0.1", "::1"})
HIDDEN_CONFIG_KEYS = frozenset({"host", "port", "remote-management", "auth-dir", "home"})
#: CLIProxyAPI's ``configReloadDebounce`` (internal/watcher/watcher.go, v6.10.9 and v7.2.140).
RELOAD_DEBOUNCE = 0.150
GARBAGE_MODES = frozenset({"non_json", "no_list", "wrong_type", "huge", "null"})
JSON_TYPE = "application/json; charset=utf-8"


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------


@dataclass
class Faults:
    """Failure switches, all off by default; mutable while the server runs.

    * ``save_fails``: a write is applied in memory, not saved, answered 500 (ref section 3.3).
    * ``drop_after_write``: a successful write is applied and saved, then the connection closes unanswered.
    * ``delay_seconds``: sleep before answering any management request.
    * ``get_garbage``: list GETs answer 200 with "non_json", "no_list", "wrong_type", "huge" or "null".
    * ``fail_next_writes``: the next N writes answer 500 without applying anything.
    * ``restart_before_next_write``: :meth:`StandinCLIProxyAPI.restart` runs just before the next write.
    * ``mutate_before_next_write``: called with the in-memory config right before the next write
      (an outside writer racing the client); Python only.
    * ``reload_race``: CLIProxyAPI's debounced config reload (internal/watcher/config_reload.go,
      v6.10.9 and v7.2.140): :data:`RELOAD_DEBOUNCE` after the last save the file is read (skipped
      if its hash is the last reload's), ``reload_seconds`` later (or as soon as a write lands in
      between) the parsed file replaces memory, and the hash is taken from a second read. A write
      landing in that window is reverted in memory and its own reload is skipped by hash, as in
      the real server.
    """

    save_fails: bool = False
    drop_after_write: bool = False
    delay_seconds: float = 0.0
    get_garbage: str | None = None
    fail_next_writes: int = 0
    restart_before_next_write: bool = False
    mutate_before_next_write: Callable[[dict[str, Any]], None] | None = None
    reload_race: bool = False
    reload_seconds: float = 0.05

    def reset(self) -> None:
        """Turn every switch off."""
        for item in fields(self):
            setattr(self, item.name, item.default)

    def update_from_json(self, data: Any) -> None:
        """Set switches from a ``POST /__standin/faults`` body; raises ``ValueError`` on a bad field."""
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        checks: dict[str, Callable[[Any], bool]] = {
            "save_fails": lambda v: isinstance(v, bool),
            "drop_after_write": lambda v: isinstance(v, bool),
            "delay_seconds": lambda v: (
                isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            ),
            "get_garbage": lambda v: v is None or v in GARBAGE_MODES,
            "fail_next_writes": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
            "restart_before_next_write": lambda v: isinstance(v, bool),
            "reload_race": lambda v: isinstance(v, bool),
            "reload_seconds": lambda v: (
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 5
            ),
        }
        for name, value in data.items():
            if name not in checks or not checks[name](value):
                raise ValueError(f"bad fault field {name!r}")
        for name, value in data.items():
            setattr(self, name, value)

    def to_json(self) -> dict[str, Any]:
        """The JSON-settable switches."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "mutate_before_next_write"
        }


# ---------------------------------------------------------------------------------------------
# Small helpers: Go JSON, Go durations, gin's ClientIP, auth header parsing
# ---------------------------------------------------------------------------------------------


def go_json(value: Any) -> bytes:
    """Compact JSON escaped like Go's encoding/json (``<``, ``>``, ``&``, U+2028/9)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text.encode("utf-8")


def go_duration(seconds: float) -> str:
    """``time.Duration.Round(time.Second).String()``, e.g. ``30m0s``, ``29m58s``, ``1h0m0s`` (ref section 2)."""
    total = int(seconds + 0.5) if seconds > 0 else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def gin_client_ip(peer: str, headers: Mapping[str, str]) -> str:
    """gin's ``ClientIP`` with every proxy trusted (ref section 2, "Client locality").

    X-Forwarded-For is walked right to left; since all hops are trusted the left-most address
    wins. A header with an unparsable address is skipped, then X-Real-IP, then the peer address.
    """
    for name in ("X-Forwarded-For", "X-Real-IP"):
        value = headers.get(name)
        if not value:
            continue
        items = [item.strip() for item in value.split(",")]
        if all(_valid_ip(item) for item in items):
            return items[0]
    return peer


def extract_key(headers: Mapping[str, str]) -> str:
    """Authorization (``Bearer <key>`` case-insensitive, else the whole value), then X-Management-Key (ref 2)."""
    authorization = headers.get("Authorization") or ""
    key = ""
    if authorization:
        parts = authorization.split(" ", 1)
        key = parts[1] if len(parts) == 2 and parts[0].lower() == "bearer" else authorization
    if not key:
        key = headers.get("X-Management-Key") or ""
    return key


# ---------------------------------------------------------------------------------------------
# Requests and responses
# ---------------------------------------------------------------------------------------------


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    client_ip: str


@dataclass
class Response:
    """One HTTP answer; ``drop`` closes the connection without answering."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] | None = None
    drop: bool = False


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    """A gin ``c.JSON`` answer."""
    return Response(status, go_json(value), JSON_TYPE, headers)


def error_response(status: int, message: str) -> Response:
    """``{"error": message}`` (ref section 2.1)."""
    return json_response(status, {"error": message})


OK = {"status": "ok"}


# ---------------------------------------------------------------------------------------------
# Ban table (ref section 2, "Lockout details")
# ---------------------------------------------------------------------------------------------


class BanTable:
    """Per-IP failure counter: the 5th failure bans the IP; only a success or a ban resets the count."""

    def __init__(self, ban_seconds: float) -> None:
        self.ban_seconds = ban_seconds
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._banned_until: dict[str, float] = {}

    def remaining(self, ip: str) -> float | None:
        """Seconds left on the IP's ban, or ``None``; an expired ban resets the IP."""
        with self._lock:
            until = self._banned_until.get(ip)
            if until is None:
                return None
            left = until - time.monotonic()
            if left > 0:
                return left
            del self._banned_until[ip]
            self._failures.pop(ip, None)
            return None

    def fail(self, ip: str) -> None:
        """Count a failure; the 5th bans the IP and resets the counter."""
        with self._lock:
            count = self._failures.get(ip, 0) + 1
            if count >= MAX_FAILURES:
                self._banned_until[ip] = time.monotonic() + self.ban_seconds
                count = 0
            self._failures[ip] = count

    def succeed(self, ip: str) -> None:
        """A success resets the counter."""
        with self._lock:
            self._failures.pop(ip, None)

    def clear(self) -> None:
        """Forget everything (a restart; ref section 2: bans live in memory only)."""
        with self._lock:
            self._failures.clear()
            self._banned_until.clear()


# ---------------------------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------------------------

Route = Callable[[Request], Response]


class StandinCLIProxyAPI(BackgroundServer):
    """The stand-in server: state, auth, routes and persistence (ref sections 1-5, 8, 8a).

    The management secret and remote access come from the constructor, not from the YAML file
    (the file's ``remote-management`` block, if any, is kept untouched and hidden from GET /config).
    """

    def __init__(
        self,
        config_path: Path,
        *,
        secret: str | None = "test-mgmt-key",
        allow_remote: bool = False,
        version: str = "v7.2.140",
        host: str = "127.0.0.1",
        port: int = 0,
        env_password: str | None = None,
    ) -> None:
        self.config_path = Path(config_path)
        self._secret = secret or ""
        self._env_password = (env_password or "").strip()
        self._allow_remote = allow_remote or bool(self._env_password)
        self.version = version
        super().__init__(host, port)
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        self.errors: list[BaseException] = []
        self.bans = BanTable(BAN_SECONDS)
        self._requests_lock = threading.Lock()
        self._lock = threading.RLock()
        self._memory: dict[str, Any] = self._load_file()
        self._routes = self._build_routes()
        # the reload_race fault: the pending debounce timer, the last reload's file hash, and
        # events for tests (a reload read the file; a write landed while one was running)
        self._reload_timer: threading.Timer | None = None
        self._reload_due = 0.0  # time.monotonic() when the pending reload should start
        self._reload_closes = 0.0  # when the running reload's window closes (time.monotonic())
        self._reload_text = ""  # the file as the running reload read it
        self._swapped = False  # a write after the window's end did the late reload's swap
        self._reload_hash = ""
        self._reloading = False
        self.reload_started = threading.Event()
        self.reload_started_at = 0.0  # time.monotonic() when the last reload read the file
        self._landed_in_reload = threading.Event()
        self.reverted_writes = 0

    # -- lifecycle --------------------------------------------------------------------------

    _thread_name = "standin-cliproxyapi"

    def _make_server(self) -> _Server:
        server_class = _Server6 if ":" in self._host else _Server
        return server_class((self._host, self._port), _Handler)

    def _attach(self, server: _Server) -> None:
        server.standin = self

    def _before_close(self, server: _Server) -> None:
        server.close_connections()
        with self._lock:
            if self._reload_timer is not None:
                self._reload_timer.cancel()
                self._reload_timer = None

    @property
    def management_url(self) -> str:
        """``url + "/v0/management"``."""
        return self.url + MANAGEMENT_PREFIX

    @property
    def management_enabled(self) -> bool:
        """Routes are on when a secret or env password is set (ref section 1.1)."""
        return bool(self._secret or self._env_password)

    # -- state inspection -------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The YAML file as parsed now."""
        loaded = yaml.safe_load(self.yaml_text())
        return loaded if isinstance(loaded, dict) else {}

    def memory(self) -> dict[str, Any]:
        """A copy of the in-memory config (differs from :meth:`config` after a failed save)."""
        with self._lock:
            return copy.deepcopy(self._memory)

    def yaml_text(self) -> str:
        """The raw YAML file (empty if missing)."""
        try:
            return self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def reset_requests(self) -> None:
        """Forget the request log."""
        with self._requests_lock:
            self.requests.clear()

    def restart(self) -> None:
        """Simulate a restart: reload memory from the YAML file and clear the ban table (ref section 2)."""
        with self._lock:
            self._memory = self._load_file()
        self.bans.clear()

    # -- persistence (ref section 5) ----------------------------------------------------------

    def _load_file(self) -> dict[str, Any]:
        """Parse the config file and sanitise the lists as LoadConfig does; other keys are kept as-is."""
        document = yaml.safe_load(self.yaml_text()) or {}
        if not isinstance(document, dict):
            raise ValueError(f"{self.config_path}: the config must be a YAML mapping")
        return self._canonical(document)

    @staticmethod
    def _canonical(document: dict[str, Any]) -> dict[str, Any]:
        """Decode and sanitise every provider list and ``api-keys`` in ``document``."""
        out = dict(document)
        for name, spec in model.LISTS.items():
            if name in out:
                try:
                    out[name] = model.load_list(spec, out[name])
                except model.DecodeError as exc:
                    raise ValueError(f"config: {exc}") from exc
        if out.get("api-keys") is not None:
            out["api-keys"] = model.decode(out["api-keys"], model.STR_LIST, "api-keys")
        return out

    def _save_locked(self) -> str | None:
        """Merge the in-memory lists into the file; returns an error text instead of raising.

        Like SaveConfigPreserveComments, the file must already be a YAML mapping and unrelated
        keys stay as they are (comments are not kept). Written via a temp file + rename.
        """
        try:
            text = self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return f"open {self.config_path}: no such file or directory"
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            return f"yaml: {exc.__class__.__name__}"
        if not isinstance(document, dict):
            return "invalid yaml document structure"
        for name in (*model.LISTS, "api-keys"):
            if name in self._memory and (self._memory[name] or name in document):
                document[name] = self._memory[name]
        _atomic_write(
            self.config_path,
            yaml.dump(
                document,
                Dumper=_NoAliasDumper,
                sort_keys=False,
                allow_unicode=True,
                default_flow_style=False,
                indent=2,
            ),
        )
        return None

    # -- request entry point ----------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Route one request: control, management, health, root."""
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        is_management = request.path == MANAGEMENT_PREFIX or request.path.startswith(
            MANAGEMENT_PREFIX + "/"
        )
        if is_management:
            with self._requests_lock:
                self.requests.append((request.method, request.path))
        if request.method == "OPTIONS":
            return Response(
                204,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Headers": "*",
                    "Access-Control-Allow-Methods": "*",
                },
            )
        if is_management:
            return self._management(request)
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            return json_response(200, {"status": "ok"})
        if request.path == "/" and request.method == "GET":
            return json_response(
                200,
                {
                    "message": "CLI Proxy API Server",
                    "endpoints": [
                        "POST /v1/chat/completions",
                        "POST /v1/completions",
                        "GET /v1/models",
                    ],
                },
            )
        return Response(404, b"404 page not found", "text/plain")

    def _management(self, request: Request) -> Response:
        """Delay fault, availability (404 empty), trailing-slash redirect, auth, route (ref 1.1, 2, 8a.6)."""
        if self.faults.delay_seconds > 0:
            time.sleep(self.faults.delay_seconds)
        if not self.management_enabled:
            return Response(404)
        redirect = self._trailing_slash_redirect(request)
        if redirect is not None:
            return redirect
        response = self._authenticate(request) or self._route(request)
        response.headers = {**self._version_headers(), **(response.headers or {})}
        return response

    def _version_headers(self) -> dict[str, str]:
        """X-CPA-* headers, sent on every response that reaches auth (ref section 1.1)."""
        return {
            "X-CPA-VERSION": self.version,
            "X-CPA-COMMIT": "standin",
            "X-CPA-BUILD-DATE": "2026-08-22T00:00:00Z",
            "X-CPA-SUPPORT-PLUGIN": "true",
        }

    def _trailing_slash_redirect(self, request: Request) -> Response | None:
        """gin RedirectTrailingSlash: 301 for GET, 307 otherwise, when the path without ``/`` is a route."""
        if (
            not request.path.endswith("/")
            or (request.method, request.path.rstrip("/")) not in self._routes
        ):
            return None
        location = request.path.rstrip("/") + (f"?{request.raw_query}" if request.raw_query else "")
        status = 301 if request.method == "GET" else 307
        body = (
            f'<a href="{location}">Moved Permanently</a>.\n\n'.encode()
            if request.method == "GET"
            else b""
        )
        return Response(
            status, body, "text/html; charset=utf-8" if body else None, {"Location": location}
        )

    def _authenticate(self, request: Request) -> Response | None:
        """AuthenticateManagementKey's decision order (ref section 2 and 8a.1); ``None`` means allowed."""
        ip = request.client_ip
        left = self.bans.remaining(ip)
        if left is not None:
            return error_response(
                403, "IP banned due to too many failed attempts. Try again in " + go_duration(left)
            )
        if ip not in LOCAL_IPS and not self._allow_remote:
            return error_response(403, "remote management disabled")
        if not self._secret and not self._env_password:
            return error_response(403, "remote management key not set")
        key = extract_key(request.headers)
        if not key:
            self.bans.fail(ip)
            return error_response(401, "missing management key")
        if (self._env_password and key == self._env_password) or (
            self._secret and key == self._secret
        ):
            self.bans.succeed(ip)
            return None
        self.bans.fail(ip)
        return error_response(401, "invalid management key")

    # -- routes (ref section 1.2) -------------------------------------------------------------

    def _build_routes(self) -> dict[tuple[str, str], Route]:
        """(method, path) -> handler for every route the stand-in serves."""
        routes: dict[tuple[str, str], Route] = {
            ("GET", "/config"): self._get_config,
            ("GET", "/config.yaml"): self._get_config_yaml,
            ("PUT", "/config.yaml"): lambda r: self._write(r, self._put_config_yaml),
            ("GET", "/latest-version"): lambda r: json_response(
                502, {"error": "request_failed", "message": "stand-in has no network"}
            ),
            ("GET", "/api-keys"): self._get_api_keys,
            ("PUT", "/api-keys"): lambda r: self._write(r, self._api_keys_op(model.put_api_keys)),
            ("PATCH", "/api-keys"): lambda r: self._write(
                r, self._api_keys_op(model.patch_api_keys)
            ),
            ("DELETE", "/api-keys"): lambda r: self._write(
                r, self._api_keys_op(model.delete_api_keys)
            ),
        }
        for name, spec in model.LISTS.items():
            path = MANAGEMENT_PREFIX + "/" + name
            routes[("GET", path)] = self._list_getter(spec)
            routes[("PUT", path)] = self._list_writer(
                spec, lambda s, items, r: model.put_list(s, r.body)
            )
            routes[("PATCH", path)] = self._list_writer(
                spec, lambda s, items, r: model.patch_list(s, items, r.body, r.query)
            )
            routes[("DELETE", path)] = self._list_writer(
                spec, lambda s, items, r: model.delete_from_list(s, items, r.query)
            )
        return {
            (method, p if p.startswith(MANAGEMENT_PREFIX) else MANAGEMENT_PREFIX + p): handler
            for (method, p), handler in routes.items()
        }

    def _route(self, request: Request) -> Response:
        """Dispatch after auth; unknown path or method -> 404 with an empty body (ref section 1.1)."""
        handler = self._routes.get((request.method, request.path))
        return handler(request) if handler is not None else Response(404)

    def _get_config(self, request: Request) -> Response:
        """``GET /config``: the config as JSON, lists at the top level, no remote-management (ref 1.4)."""
        with self._lock:
            out = {k: v for k, v in self._memory.items() if k not in HIDDEN_CONFIG_KEYS}
            for name, spec in model.LISTS.items():
                if name in out:
                    out[name] = model.render_config_list(spec, out[name])
            return json_response(200, _jsonable(out))

    def _get_config_yaml(self, request: Request) -> Response:
        """``GET /config.yaml``: the raw file bytes (ref section 1.4)."""
        try:
            data = self.config_path.read_bytes()
        except FileNotFoundError:
            return json_response(404, {"error": "not_found", "message": "config file not found"})
        return Response(200, data, "application/yaml; charset=utf-8", {"Cache-Control": "no-store"})

    def _get_api_keys(self, request: Request) -> Response:
        """``GET /api-keys``: ``{"api-keys": [...]}`` or ``null`` when unset (ref section 1.4)."""
        with self._lock:
            return json_response(200, {"api-keys": copy.deepcopy(self._memory.get("api-keys"))})

    def _list_getter(self, spec: model.ListSpec) -> Route:
        """List GET: ``{"<list>": [...]}`` with auth-index, under the write lock (ref sections 3.2, 5)."""

        def get(request: Request) -> Response:
            garbage = self.faults.get_garbage
            if garbage is not None:
                return _garbage_response(spec.name, garbage)
            with self._lock:
                return json_response(
                    200, {spec.name: model.render_list(spec, self._memory.get(spec.name) or [])}
                )

        return get

    # -- writes (ref sections 3.3-3.5, 4, 5) --------------------------------------------------

    def _list_writer(
        self,
        spec: model.ListSpec,
        op: Callable[[model.ListSpec, list[dict[str, Any]], Request], list[dict[str, Any]]],
    ) -> Route:
        """Wrap a pure list operation into a write that replaces ``memory[<list>]``."""

        def apply(request: Request) -> None:
            items = op(spec, list(self._memory.get(spec.name) or []), request)
            # a PUT re-creates every entry: claude/codex/xai models then read back [] (a PATCH keeps null)
            self._memory[spec.name] = (
                model.mark_written(spec, items) if request.method == "PUT" else items
            )

        return lambda request: self._write(request, apply)

    def _api_keys_op(self, op: Callable[..., list[str]]) -> Callable[[Request], None]:
        """Adapt the /api-keys operations (PUT takes the body, PATCH the list+body, DELETE the list+query)."""

        def apply(request: Request) -> None:
            keys = list(self._memory.get("api-keys") or [])
            if op is model.put_api_keys:
                self._memory["api-keys"] = op(request.body)
            elif op is model.patch_api_keys:
                self._memory["api-keys"] = op(keys, request.body)
            else:
                self._memory["api-keys"] = op(keys, request.query)

        return apply

    def _put_config_yaml(self, request: Request) -> Response | None:
        """``PUT /config.yaml``: 400 invalid_yaml, 422 invalid_config, else written verbatim (ref 1.4)."""
        try:
            document = yaml.safe_load(request.body.decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            return json_response(
                400, {"error": "invalid_yaml", "message": "the body is not valid YAML"}
            )
        try:
            memory = self._canonical(document if isinstance(document, dict) else {})
        except ValueError as exc:
            return json_response(422, {"error": "invalid_config", "message": str(exc)})
        if self.faults.save_fails:
            return json_response(500, {"error": "write_failed", "message": "disk full"})
        _atomic_write(self.config_path, request.body.decode("utf-8"))
        self._memory = memory
        return json_response(200, {"ok": True, "changed": ["config"]})

    def _write(self, request: Request, apply: Callable[[Request], Response | None]) -> Response:
        """One serialised write: one-shot faults, apply, save, answer (ref sections 3.3 and 5).

        ``apply`` mutates ``self._memory`` or raises :class:`model.ApiError` having changed
        nothing; it may return its own response (PUT /config.yaml), which skips the list save.
        """
        with self._lock:
            early = self._pre_write_faults()
            if early is not None:
                return early
            try:
                custom = apply(request)
            except model.ApiError as exc:
                return error_response(exc.status, exc.message)
            if custom is not None:
                response = custom
            elif self.faults.save_fails:
                response = error_response(500, "failed to save config: disk full")
            else:
                problem = self._save_locked()
                response = (
                    error_response(500, f"failed to save config: {problem}")
                    if problem
                    else json_response(200, OK)
                )
                if not problem:
                    self._file_saved_locked()
        if response.status == 200 and self.faults.drop_after_write:
            return Response(0, drop=True)
        return response

    # -- the reload_race fault (see Faults) ---------------------------------------------------

    def _file_saved_locked(self) -> None:
        """A save's file event: (re)start the debounce timer; a reload running now is raced."""
        if not self.faults.reload_race:
            return
        if self._reloading:
            if time.monotonic() < self._reload_closes:
                self.reverted_writes += 1
            else:
                # the window closed before this write came, only the reload's thread is late:
                # its swap (of the file it read) came first, and its second read saw that file
                self._reloading = False
                self._swapped = True
                self._swap_hash_locked(self._reload_text)
            self._landed_in_reload.set()
        if self._reload_timer is not None:
            self._reload_timer.cancel()
        self._reload_due = time.monotonic() + RELOAD_DEBOUNCE
        self._reload_timer = threading.Timer(RELOAD_DEBOUNCE, self._reload_if_changed)
        self._reload_timer.daemon = True
        self._reload_timer.start()

    def _reload_if_changed(self) -> None:
        """reloadConfigIfChanged: hash check, read and parse, swap, hash from a second read.

        The window between the read and the swap closes ``reload_seconds`` after the moment the
        debounce ended, as on a server whose timer fires on time: a busy test machine that runs
        this timer late shifts the window's start, not its end (which writes it catches must not
        depend on the machine's load)."""
        with self._lock:
            self._reload_timer = None
            text = self.yaml_text()
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if not text or digest == self._reload_hash:
                return
            try:
                parsed = self._canonical(yaml.safe_load(text) or {})
            except (ValueError, yaml.YAMLError):
                return
            self.reload_started_at = time.monotonic()
            self.reload_started.set()
            closes = self._reload_due + self.faults.reload_seconds
            if closes <= time.monotonic():
                # the timer ran that late: on time, this reload would be over, so it swaps at
                # once, under the same lock (no write can land in a window that has closed)
                self._swap_locked(parsed, text)
                return
            self._reloading, self._swapped = True, False
            self._reload_closes, self._reload_text = closes, text
            self._landed_in_reload.clear()
        self._landed_in_reload.wait(max(0.0, closes - time.monotonic()))
        with self._lock:
            self._reloading = False
            if not self._swapped:
                self._swap_locked(parsed, text)

    def _swap_locked(self, parsed: dict[str, Any], text: str) -> None:
        """The reload's swap, and the hash of the file read a second time."""
        self._memory = parsed
        self._swap_hash_locked(self.yaml_text() or text)

    def _swap_hash_locked(self, text: str) -> None:
        self._reload_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _pre_write_faults(self) -> Response | None:
        """restart_before_next_write, fail_next_writes, mutate_before_next_write (in that order)."""
        if self.faults.restart_before_next_write:
            self.faults.restart_before_next_write = False
            self.restart()
        if self.faults.fail_next_writes > 0:
            self.faults.fail_next_writes -= 1
            return error_response(500, "failed to save config: injected")
        mutate = self.faults.mutate_before_next_write
        if mutate is not None:
            self.faults.mutate_before_next_write = None
            mutate(self._memory)
            self._memory = self._canonical(self._memory)
        return None

    # -- control routes (test only) -------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        """``/__standin/faults``, ``/__standin/restart``, ``/__standin/requests``; no auth, not logged."""
        action = (request.method, request.path[len(CONTROL_PREFIX) :])
        if action == ("POST", "faults"):
            try:
                self.faults.update_from_json(json.loads(request.body or b"{}"))
            except ValueError as exc:
                return error_response(400, str(exc))
            return json_response(200, self.faults.to_json())
        if action == ("GET", "faults"):
            return json_response(200, self.faults.to_json())
        if action == ("DELETE", "faults"):
            self.faults.reset()
            return json_response(200, self.faults.to_json())
        if action == ("POST", "restart"):
            self.restart()
            return json_response(200, OK)
        if action == ("GET", "requests"):
            with self._requests_lock:
                return json_response(200, [list(item) for item in self.requests])
        return Response(404)


# ---------------------------------------------------------------------------------------------
# Garbage bodies for the get_garbage fault
# ---------------------------------------------------------------------------------------------


def _garbage_response(list_name: str, mode: str) -> Response:
    """A 200 answer that a client must reject (see :class:`Faults`)."""
    if mode == "non_json":
        return Response(
            200,
            b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>",
            "text/html; charset=utf-8",
        )
    if mode == "no_list":
        return json_response(200, {"something": "else"})
    if mode == "wrong_type":
        return json_response(200, {list_name: {"a": 1}})
    if mode == "null":
        return json_response(200, {list_name: None})
    if mode == "huge":
        return Response(200, _huge_body(list_name), JSON_TYPE)
    return error_response(500, f"stand-in: unknown get_garbage mode {mode!r}")


def _huge_body(list_name: str, target_bytes: int = 8 * 1024 * 1024) -> bytes:
    """A valid JSON document of about 8 MiB: ``{"<list>": [junk entries...]}``."""
    item = (
        b'{"name":"junk-%07d","disabled":false,"base-url":"http://junk.invalid/v1","models":[{"name":"m","alias":"'
        + b"x" * 160
        + b'"}]}'
    )
    count = target_bytes // (len(item) + 1) + 1
    entries = b",".join(item % i for i in range(count))
    return b'{"' + list_name.encode() + b'":[' + entries + b"]}"


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


class _NoAliasDumper(yaml.SafeDumper):
    """Never write YAML anchors/aliases for shared objects."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temp file in the same directory + rename, so readers never see half a file."""
    handle, temp = tempfile.mkstemp(prefix=".standin-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    """Make YAML-loaded values JSON-safe (dates and other scalars become strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# ---------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the stand-in; handler threads are daemons."""

    daemon_threads = True
    allow_reuse_address = True
    standin: StandinCLIProxyAPI

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut open keep-alive connections, so a stopped server answers nothing more."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection resets are normal for tests; anything else is reported without values."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return
        _report(exc)


class _Server6(_Server):
    address_family = socket.AF_INET6


def _report(exc: BaseException | None) -> None:
    """Print an internal error's type and location only (messages may hold secrets)."""
    if exc is None:
        return
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {frame.filename}:{frame.lineno}" if frame else ""
    sys.stderr.write(f"standin: internal error {type(exc).__name__}{where}\n")


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every answer carries Content-Length; never logs."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as Go's net/http sets it: without it a kept-alive client waits out the
    # 40 ms delayed ACK between the header and body writes of each answer.
    disable_nagle_algorithm = True
    server: _Server
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines can carry secrets in query strings."""

    def version_string(self) -> str:
        return "cpa-standin"

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        standin = self.server.standin
        body = self._read_body()
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = dict(self.headers.items())
        request = Request(
            self.command,
            parts.path,
            parts.query,
            query,
            _CaseInsensitive(headers),
            body,
            gin_client_ip(self.client_address[0], _CaseInsensitive(headers)),
        )
        try:
            response = standin.handle(request)
        except Exception as exc:
            standin.errors.append(exc)
            _report(exc)
            response = error_response(500, f"stand-in internal error: {type(exc).__name__}")
        self._send(response)

    def _read_body(self) -> bytes:
        """Read the whole request body (Content-Length or chunked) so keep-alive stays in sync."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, response: Response) -> None:
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in (response.headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)


class _CaseInsensitive(dict[str, str]):
    """Header mapping with case-insensitive ``get``."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__((k.lower(), v) for k, v in headers.items())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT after printing ``READY <url>``."""
    parser = argparse.ArgumentParser(description="CLIProxyAPI Management API stand-in (tests only)")
    parser.add_argument(
        "--config", required=True, type=Path, help="YAML config file (read and written)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--secret", default="test-mgmt-key", help="management key (plaintext)")
    group.add_argument(
        "--no-secret", action="store_true", help="management off: 404 on every route"
    )
    parser.add_argument("--allow-remote", action="store_true")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--version", default="v7.2.140", help="value of X-CPA-VERSION")
    args = parser.parse_args(argv)
    standin = StandinCLIProxyAPI(
        args.config,
        secret=None if args.no_secret else args.secret,
        allow_remote=args.allow_remote,
        version=args.version,
        host=args.host,
        port=args.port,
    )
    return _serve_until_signal(standin)


def _serve_until_signal(standin: StandinCLIProxyAPI) -> int:
    """Start, announce readiness on stdout, wait for SIGTERM/SIGINT, stop."""
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    standin.start()
    print(f"READY {standin.url}", flush=True)
    while not stopping.wait(0.2):
        pass
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
