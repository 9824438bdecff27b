"""The relay-site families and their token-list rules, as pure functions (no I/O).

Read from each server's own code (see ``shared/reference/relay-sites.md``):

* **New API** (QuantumNous/new-api): ``GET /api/token/?p=N&size=M``, ``p`` 1-based, size capped
  at 100, ``data`` = ``{items, total, page, page_size}``; keys masked in the list (revealed by
  ``POST /api/token/batch/keys``, at most 100 ids, rate-limited); ``New-Api-User`` header.
* **One API** (songquanpeng/one-api): ``p`` 0-based, the page size is fixed (10) and ``size`` is
  ignored, ``data`` is a bare array, so only an empty page ends the list; full keys; no user header.
* **Veloera** (Veloera/Veloera): ``p`` 0-based, ``size`` honoured (cap 100), bare array; full keys;
  ``Veloera-User`` header. A short page would end the list there, but a fork or a proxy may cap
  the size lower than asked, so only an empty page ends a bare-array list (one request more).

All three answer a business error with HTTP 200 and ``{"success": false, "message": …}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cpa_bridge.errors import BridgeError, ErrorCode

PAGE_SIZE = 100
#: At most this many list pages per refresh (100 per page on New API / Veloera: 5,000 tokens).
MAX_PAGES = 50
#: New API's batch reveal route takes at most this many ids per call.
REVEAL_BATCH = 100


@dataclass(frozen=True)
class Family:
    name: str
    label: str
    first_page: int
    user_header: str | None
    paged_envelope: bool  # data = {items,total,...} (else a bare array)
    trusts_size: bool  # a short page ends the list (else only an empty one)
    can_reveal: bool  # masked keys come back from POST /api/token/batch/keys

    def next_page(self, page: int, items: int, total: int | None, seen: int) -> int | None:
        """The page to ask for after ``page`` (which held ``items`` tokens), or None at the end."""
        if items == 0:
            return None
        if self.paged_envelope and total is not None:
            return page + 1 if seen < total else None
        if self.trusts_size and items < PAGE_SIZE:
            return None
        return page + 1


FAMILIES: dict[str, Family] = {
    "new-api": Family("new-api", "New API", 1, "New-Api-User", True, True, True),
    "one-api": Family("one-api", "One API", 0, None, False, False, False),
    "veloera": Family("veloera", "Veloera", 0, "Veloera-User", False, False, False),
}
FAMILY_NAMES = tuple(FAMILIES)

#: Where each family's web UI creates the system access token (for cookie-only accounts).
TOKEN_HINT = (
    "on the site: Personal settings (个人设置) → Security / Other → "
    "Generate a system access token (生成系统访问令牌); the user id is shown on the same page"
)

# token status codes (model/token.go in all three)
STATUS = {1: "enabled", 2: "disabled", 3: "expired", 4: "exhausted"}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            f"unknown site family '{name[:40]}'",
            field="params.family",
            known=list(FAMILY_NAMES),
        ) from None


def headers(fam: Family | None, access_token: str, user_id: int | None) -> dict[str, str]:
    """The account headers. ``fam`` None (detecting): no user header, so the site says which it wants."""
    out = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    if fam is not None and fam.user_header and user_id is not None:
        out[fam.user_header] = str(user_id)
    return out


def is_masked(key: str) -> bool:
    return "*" in key or "•" in key


def full_key(raw: str) -> str:
    """The key as clients send it: the sites store it without ``sk-`` and accept both."""
    key = raw.strip()
    return key if key.startswith("sk-") or not key else f"sk-{key}"


def classify_refusal(status: int, message: str) -> BridgeError:
    """Turn a site's refusal (401, or 200 with success:false) into an error code."""
    text = message[:200]
    low = text.lower()
    for header in ("New-Api-User", "Veloera-User"):
        if header.lower() in low:
            return BridgeError(
                ErrorCode.RELAY_USER_MISMATCH,
                f"the site refused the user id ({text}); check the user id of this account",
                header=header,
                site_message=text,
                status=status,
            )
    if "access token" in low or "未登录" in text or "封禁" in text or status == 401:
        return BridgeError(
            ErrorCode.RELAY_TOKEN_INVALID,
            f"the site refused the access token ({text or status}); create a new one "
            "(Personal settings → Generate a system access token) and save it again",
            site_message=text or None,
            status=status,
        )
    return BridgeError(
        ErrorCode.UPSTREAM_ERROR,
        f"the site answered: {text or 'success=false'}",
        site_message=text or None,
        status=status,
    )


def envelope_data(body: Any, status: int) -> Any:
    """``data`` of ``{"success": true, "data": …}``; refusals become errors."""
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        raise BridgeError(
            ErrorCode.RELAY_FAMILY_MISMATCH,
            "the site did not answer like New API / One API / Veloera "
            "(no {success, data} envelope); check the site URL",
            status=status,
        )
    if not body["success"]:
        raise classify_refusal(status, str(body.get("message") or ""))
    return body.get("data")


def detect(data: Any, status: int, message: str) -> str | None:
    """The family a first-page answer (sent without a user header) points at, if it tells."""
    if status == 401:
        if "new-api-user" in message.lower():
            return "new-api"
        if "veloera-user" in message.lower():
            return "veloera"
        return None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return "new-api"
    if isinstance(data, list):
        return "one-api"
    return None


def page_items(fam: Family, data: Any) -> tuple[list[dict[str, Any]], int | None]:
    """The tokens of one page and the total (New API), checked against the family's shape."""
    if fam.paged_envelope:
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise BridgeError(
                ErrorCode.RELAY_FAMILY_MISMATCH,
                f"the site's token list is not a {fam.label} page ({{items, total}}); "
                "choose another site family",
                family=fam.name,
            )
        total = data.get("total")
        items, total = (
            data["items"],
            total if isinstance(total, int) and not isinstance(total, bool) else None,
        )
    else:
        if not isinstance(data, list):
            raise BridgeError(
                ErrorCode.RELAY_FAMILY_MISMATCH,
                f"the site's token list is not a {fam.label} list (a bare array); "
                "choose another site family",
                family=fam.name,
            )
        items, total = data, None
    if not all(isinstance(t, dict) and isinstance(t.get("id"), int) for t in items):
        raise BridgeError(
            ErrorCode.BAD_RESPONSE,
            "the site's token list holds entries without an id",
            family=fam.name,
        )
    return items, total


def _models(token: dict[str, Any]) -> list[str]:
    if token.get("model_limits_enabled") and isinstance(token.get("model_limits"), str):
        raw = token["model_limits"]
    elif isinstance(token.get("models"), str):  # One API
        raw = token["models"]
    else:
        return []
    return [m.strip() for m in raw.split(",") if m.strip()][:500]


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def facts(token: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """What the site says about one token: name, status, quota, expiry, group, model limits.

    ``status`` is the site's, corrected the way its relay decides: past ``expired_time`` is
    "expired" and no quota left (not unlimited) is "exhausted", even while the list still says 1.
    """
    now = time.time() if now is None else now
    code = _int(token.get("status"), 1)
    status = STATUS.get(code, "unknown")
    expires = _int(token.get("expired_time"), -1)
    unlimited = bool(token.get("unlimited_quota"))
    remain = _int(token.get("remain_quota"))
    if status == "enabled" and expires != -1 and expires <= now:
        status = "expired"
    elif status == "enabled" and not unlimited and remain <= 0:
        status = "exhausted"
    return {
        "remote_id": token["id"],
        "name": str(token.get("name") or "")[:200],
        "status": status,
        "unlimited_quota": unlimited,
        "remain_quota": remain,
        "used_quota": _int(token.get("used_quota")),
        "expires_at": None if expires == -1 else expires,
        "group": str(token.get("group") or "")[:100] or None,
        "models": _models(token),
    }
