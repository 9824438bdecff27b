"""Talking to one relay account: who am I, list every token (all pages), reveal masked keys.

One :class:`RelayClient` per account and operation, over the shared site HTTP setup
(:mod:`.http`). The access token goes only to the site URL given, never across a redirect;
no message or detail carries it or a key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cpa_bridge.core.urls import display_url
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.net.http import is_https
from cpa_bridge.sites import families
from cpa_bridge.sites.families import MAX_PAGES, PAGE_SIZE, REVEAL_BATCH, Family
from cpa_bridge.sites.http import json_body, send, site_client


@dataclass
class Listing:
    family: str
    tokens: list[dict[str, Any]]  # the site's raw token objects, each id once
    pages: int
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)


class RelayClient:
    def __init__(
        self,
        site_url: str,
        user_id: int,
        access_token: str,
        *,
        timeout: float,
        allow_link_local: bool = False,
    ) -> None:
        self.base = site_url.strip().rstrip("/")
        self.user_id = user_id
        self.access_token = access_token
        self.requests_sent = 0
        self._http = site_client(
            timeout, allow_link_local=allow_link_local, https=is_https(self.base)
        )

    def __enter__(self) -> RelayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    # -- transport ---------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        fam: Family | None,
        *,
        json_payload: Any = None,
        allow_401: bool = False,
    ) -> tuple[int, Any]:
        url = self.base + path
        self.requests_sent += 1
        status, body = send(
            self._http,
            method,
            url,
            json_body=json_payload,
            what="answer",
            headers=families.headers(fam, self.access_token, self.user_id),
        )
        data = json_body(body)
        shown = display_url(url.split("?", 1)[0])
        if status == 429:
            raise BridgeError(
                ErrorCode.RELAY_RATE_LIMITED,
                f"{shown} says too many requests (429); New API allows 20 key reveals per 20 minutes "
                "per IP, so wait and try again",
                status=429,
                url=shown,
            )
        if status == 401:
            message = str(data.get("message") or "") if isinstance(data, dict) else ""
            if allow_401:
                return status, message
            named = families.detect(None, 401, message)
            if fam is not None and named is not None and named != fam.name:
                raise BridgeError(
                    ErrorCode.RELAY_FAMILY_MISMATCH,
                    f"this is a {families.FAMILIES[named].label} site, not {fam.label} "
                    "(it asks for its own user header); choose that site type or Detect",
                    family=fam.name,
                    detected=named,
                    status=401,
                )
            raise families.classify_refusal(401, message)
        if status in (301, 302, 307, 308):
            raise BridgeError(
                ErrorCode.RELAY_FAMILY_MISMATCH,
                f"{shown} redirected the request ({status}); check the site URL (use the site's "
                "own address, not a login page)",
                status=status,
                url=shown,
            )
        if status == 404:
            raise BridgeError(
                ErrorCode.RELAY_FAMILY_MISMATCH,
                f"{shown} does not exist (404): is this a New API / One API / Veloera site?",
                status=404,
                url=shown,
            )
        if status >= 500 or not 200 <= status < 300:
            raise BridgeError(
                ErrorCode.UPSTREAM_ERROR, f"{shown} answered {status}", status=status, url=shown
            )
        if data is None:
            raise BridgeError(
                ErrorCode.RELAY_FAMILY_MISMATCH,
                f"{shown} did not answer with JSON (a login page or another kind of site?)",
                status=status,
                url=shown,
            )
        return status, data

    # -- operations --------------------------------------------------------------------
    def detect(self) -> str:
        """The family, from one first-page request sent without a user header."""
        status, answer = self._call(
            "GET", f"/api/token/?p=0&size={PAGE_SIZE}", None, allow_401=True
        )
        if status == 401:
            found = families.detect(None, 401, answer)
            if found is None:
                raise families.classify_refusal(401, answer)
            return found
        data = families.envelope_data(answer, status)
        found = families.detect(data, status, "")
        if found is None:
            raise BridgeError(
                ErrorCode.RELAY_FAMILY_MISMATCH,
                "the site's token list has an unknown shape; choose the site family by hand",
            )
        return found

    def whoami(self, fam: Family) -> dict[str, Any]:
        """``GET /api/user/self``: the account's id and name (checks token and user id)."""
        status, answer = self._call("GET", "/api/user/self", fam)
        data = families.envelope_data(answer, status)
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise BridgeError(ErrorCode.BAD_RESPONSE, "the site's /api/user/self has no user id")
        if data["id"] != self.user_id:
            raise BridgeError(
                ErrorCode.RELAY_USER_MISMATCH,
                f"this access token belongs to user {data['id']}, not {self.user_id}; "
                "check the user id",
                actual=data["id"],
                expected=self.user_id,
            )
        return {"id": data["id"], "username": str(data.get("username") or "")[:100]}

    def list_tokens(self, fam: Family) -> Listing:
        """Every token of the account, each id once, following the family's pagination."""
        seen: dict[int, dict[str, Any]] = {}
        page: int | None = fam.first_page
        pages = 0
        while page is not None:
            if pages >= MAX_PAGES:
                return Listing(
                    fam.name,
                    list(seen.values()),
                    pages,
                    truncated=True,
                    warnings=[f"stopped after {MAX_PAGES} pages ({len(seen)} tokens)"],
                )
            status, answer = self._call("GET", f"/api/token/?p={page}&size={PAGE_SIZE}", fam)
            items, total = families.page_items(fam, families.envelope_data(answer, status))
            pages += 1
            new = 0
            for token in items:
                if token["id"] not in seen:
                    seen[token["id"]] = token
                    new += 1
            if items and not new:  # the site ignored the page number: stop instead of looping
                return Listing(
                    fam.name,
                    list(seen.values()),
                    pages,
                    truncated=True,
                    warnings=[
                        f"the site answered page {page} with tokens already seen; "
                        "stopped there (is the site type right?)"
                    ],
                )
            page = fam.next_page(page, len(items), total, len(seen))
        return Listing(fam.name, list(seen.values()), pages)

    def reveal(self, fam: Family, ids: list[int]) -> dict[int, str]:
        """Full keys of masked tokens: New API's batch route, at most 100 ids a call."""
        if not fam.can_reveal:
            raise BridgeError(
                ErrorCode.RELAY_FAMILY_MISMATCH, f"{fam.label} has no route to reveal a masked key"
            )
        out: dict[int, str] = {}
        for start in range(0, len(ids), REVEAL_BATCH):
            chunk = ids[start : start + REVEAL_BATCH]
            status, answer = self._call(
                "POST", "/api/token/batch/keys", fam, json_payload={"ids": chunk}
            )
            data = families.envelope_data(answer, status)
            keys = data.get("keys") if isinstance(data, dict) else None
            if not isinstance(keys, dict):
                raise BridgeError(
                    ErrorCode.BAD_RESPONSE, "the site's key reveal answer has no keys"
                )
            for raw_id, key in keys.items():
                try:
                    token_id = int(raw_id)
                except ValueError:
                    continue
                if isinstance(key, str) and key and not families.is_masked(key):
                    out[token_id] = families.full_key(key)
        return out
