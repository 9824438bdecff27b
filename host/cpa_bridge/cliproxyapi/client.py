"""The CLIProxyAPI Management API client (httpx), with every failure mapped to an ErrorCode.

One :class:`ManagementClient` per target and request: TLS verification on, redirects
never followed, ``Authorization: Bearer``, connect and read timeouts, bodies capped.
Exception text from httpx is never forwarded (it can carry URLs and headers); the
messages built here name the URL without credentials and never a key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from cpa_bridge.cliproxyapi import servers
from cpa_bridge.core.lists import LATER_LISTS
from cpa_bridge.core.urls import display_url
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.net import http
from cpa_bridge.store.settings import Target

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TOTAL_TIMEOUT = 20.0


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def error_text(self) -> str:
        """The server's ``{"error": "..."}`` string, if any (server strings carry no secret)."""
        try:
            data = self.json()
        except (ValueError, UnicodeDecodeError):
            return ""
        error = data.get("error") if isinstance(data, dict) else None
        return error[:300] if isinstance(error, str) else ""


V0_PREFIX = "/v0/management"
V8_PREFIX = "/v8/management"


@dataclass
class ManagementClient:
    """Talks to one CLIProxyAPI target. ``on_unauthorized`` runs after a 401 or ``banned``
    (lock-out safety); ``server_id`` is the server's identity (:func:`servers.identity`)."""

    target: Target
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT
    on_unauthorized: Callable[[], None] | None = None
    server_id: str = ""
    allow_link_local: bool = False
    server_version: str | None = None
    requests_sent: int = 0
    _http: httpx.Client | None = field(default=None, repr=False)

    def __enter__(self) -> ManagementClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = http.new_client(
                connect_timeout=self.connect_timeout,
                total_timeout=self.total_timeout,
                allow_link_local=self.allow_link_local,
                headers={"Accept": "application/json"},
                https=http.is_https(self.target.management_url),
            )
        return self._http

    # -- transport -------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        api: str = "v0",
    ) -> Response:
        """Send one request; raise BridgeError for transport failures and auth/5xx statuses.

        ``api="v8"`` sends it to the v8 management API (``/v8/management``) of the same server.
        """
        base = self.target.management_url.rstrip("/")
        if api == "v8":
            base = base.removesuffix(V0_PREFIX) + V8_PREFIX
        url = base + "/" + path.strip("/")
        headers = {"Authorization": f"Bearer {self.target.management_key}"}
        content = None
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8"
            )
            headers["Content-Type"] = "application/json"
        server_id = self.server_id or servers.identity(self.target.management_url)
        with servers.current().sending(server_id, self.target.management_key):
            self.requests_sent += 1
            try:
                with self._client().stream(
                    method, url, headers=headers, content=content, params=params
                ) as resp:
                    body = http.read_capped(resp, "CLIProxyAPI's answer")
                    response = Response(resp.status_code, resp.headers, body)
            except BridgeError:
                raise
            except httpx.HTTPError as exc:
                raise http.map_error(
                    exc, url, who="CLIProxyAPI", timeout=self.total_timeout, sent=method != "GET"
                ) from None
            version = response.headers.get("x-cpa-version")
            if version:
                self.server_version = version[:64]
            self._raise_for_status(response, url, server_id)
        return response

    def _raise_for_status(self, response: Response, url: str, server_id: str) -> None:
        status = response.status
        if 200 <= status < 300:
            return
        text = response.error_text()
        shown = display_url(url)
        if 300 <= status < 400:
            raise BridgeError(
                ErrorCode.BAD_RESPONSE,
                f"CLIProxyAPI redirected the request ({status}); check the management URL (redirects are not followed)",
                status=status,
                url=shown,
            )
        if status == 401:
            reason = "missing" if "missing" in text else "invalid"
            servers.record_failure(server_id)
            if self.on_unauthorized is not None:
                self.on_unauthorized()
            details = servers.ban_details(server_id)
            seen = details.get("failures_seen", 0)
            raise BridgeError(
                ErrorCode.UNAUTHORIZED,
                (
                    "CLIProxyAPI says the management key is missing (is a reverse proxy in front of it dropping "
                    "the Authorization header?)"
                    if reason == "missing"
                    else "CLIProxyAPI rejected the management key (invalid management key)"
                )
                + f". The host will not retry this key: CLIProxyAPI bans an IP for {servers.BAN_MINUTES} minutes "
                f"after {servers.BAN_FAILURES} failed attempts"
                + (
                    f" (this computer has had {seen} in the last {servers.BAN_MINUTES} minutes)"
                    if seen
                    else ""
                )
                + ". Check the key and save it again.",
                reason=reason,
                status=401,
                **details,
            )
        if status == 403:
            if text.startswith("IP banned"):
                match = re.search(r"Try again in (\S+)", text)
                if self.on_unauthorized is not None:
                    self.on_unauthorized()
                raise BridgeError(
                    ErrorCode.BANNED,
                    f"CLIProxyAPI has banned this IP after {servers.BAN_FAILURES} failed key attempts; the ban "
                    f"lasts {servers.BAN_MINUTES} minutes"
                    + (f" (try again in {match.group(1)})" if match else "")
                    + ". Check the management key and save it again before the next try.",
                    retry_in=match.group(1) if match else None,
                    status=403,
                    **servers.ban_details(server_id),
                )
            if text.startswith("remote management"):
                hint = (
                    "set remote-management.allow-remote: true in CLIProxyAPI's config.yaml (or MANAGEMENT_PASSWORD), "
                    "or run this on the same machine"
                    if "disabled" in text
                    else "set remote-management.secret-key in CLIProxyAPI's config.yaml"
                )
                raise BridgeError(
                    ErrorCode.REMOTE_DISABLED,
                    f"CLIProxyAPI refused remote management ({text}): {hint}",
                    server_error=text,
                    status=403,
                )
            raise BridgeError(
                ErrorCode.SERVER_ERROR,
                f"CLIProxyAPI answered 403 ({text or 'forbidden'})",
                status=403,
            )
        # v7+ answers an unregistered management API with an empty 404; v6 has no such route at all,
        # so gin's own "404 page not found" comes back (docs/cliproxyapi-compat.md).
        if status == 404 and response.body.strip() in (b"", b"404 page not found"):
            raise BridgeError(
                ErrorCode.MANAGEMENT_DISABLED,
                f"no CLIProxyAPI management API at {shown}: check the URL, and that "
                "remote-management.secret-key (or MANAGEMENT_PASSWORD) is set on the server",
                status=404,
                url=shown,
            )
        if status >= 500:
            raise BridgeError(
                ErrorCode.SERVER_ERROR,
                f"CLIProxyAPI answered {status}" + (f": {text}" if text else ""),
                status=status,
                server_error=text or None,
            )
        raise BridgeError(
            ErrorCode.REJECTED,
            f"CLIProxyAPI refused the request ({status}" + (f": {text})" if text else ")"),
            status=status,
            server_error=text or None,
        )

    # -- management API ----------------------------------------------------------------
    def has_v8_api(self) -> bool:
        """Whether the server serves the v8 management API (added in v8; v0 stays).

        Call it only after a request with this key succeeded: on a v8 server the route checks the
        key like any other, and a server without it answers 404 before any key check.
        """
        try:
            self.request("GET", "config", api="v8")
        except BridgeError as exc:
            if (
                exc.code in (ErrorCode.MANAGEMENT_DISABLED, ErrorCode.REJECTED)
                and exc.details.get("status") == 404
            ):
                return False
            raise
        return True

    def get_config(self) -> dict[str, Any]:
        response = self.request("GET", "config")
        data = _json_object(response)
        return data

    def get_list(self, name: str) -> list[dict[str, Any]]:
        """GET a provider list, strictly validated; ``auth-index`` is removed (read-only).

        A list the server does not have (404 once another management request succeeded) is
        ``rejected`` with ``details.reason = "no_such_list"``.
        """
        try:
            response = self.request("GET", name)
        except BridgeError as exc:
            if (
                exc.code == ErrorCode.MANAGEMENT_DISABLED
                and name in LATER_LISTS
                and self._management_answers()
            ):
                raise BridgeError(
                    ErrorCode.REJECTED,
                    f"this CLIProxyAPI has no {name} list (it came with a later version: see "
                    "docs/cliproxyapi-compat.md); nothing was written",
                    list=name,
                    reason="no_such_list",
                    status=404,
                ) from None
            raise
        data = _json_object(response)
        if name not in data:
            raise BridgeError(
                ErrorCode.BAD_RESPONSE,
                f"CLIProxyAPI's answer for {name} has no '{name}' list; nothing was written",
                list=name,
            )
        items = data[name]
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise BridgeError(
                ErrorCode.BAD_RESPONSE,
                f"CLIProxyAPI's '{name}' is not a list of objects; nothing was written",
                list=name,
            )
        return [strip_runtime_fields(item) for item in items]

    def _management_answers(self) -> bool:
        try:
            self.request("GET", "config")
        except BridgeError:
            return False
        return True

    def put_list(self, name: str, items: list[dict[str, Any]]) -> None:
        self._expect_ok(self.request("PUT", name, json_body=items))

    def patch_item(self, name: str, body: dict[str, Any]) -> None:
        self._expect_ok(self.request("PATCH", name, json_body=body))

    def delete_item(self, name: str, params: dict[str, str]) -> None:
        self._expect_ok(self.request("DELETE", name, params=params))

    @staticmethod
    def _expect_ok(response: Response) -> None:
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if not (isinstance(data, dict) and data.get("status") == "ok"):
            raise BridgeError(
                ErrorCode.BAD_RESPONSE,
                'CLIProxyAPI did not confirm the write with {"status":"ok"}',
                sent=True,
            )


def strip_runtime_fields(item: dict[str, Any]) -> dict[str, Any]:
    """Drop ``auth-index`` (a read-only runtime field) from an item and its key entries."""
    clean = {k: v for k, v in item.items() if k != "auth-index"}
    entries = clean.get("api-key-entries")
    if isinstance(entries, list):
        clean["api-key-entries"] = [
            {k: v for k, v in e.items() if k != "auth-index"} if isinstance(e, dict) else e
            for e in entries
        ]
    return clean


def _json_object(response: Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BridgeError(
            ErrorCode.BAD_RESPONSE,
            "CLIProxyAPI answered with something that is not JSON (a login page or another server?); "
            "nothing was written",
        ) from None
    if not isinstance(data, dict):
        raise BridgeError(
            ErrorCode.BAD_RESPONSE, "CLIProxyAPI's answer is not a JSON object; nothing was written"
        )
    return data
