"""Reading other tools' exports: All API Hub backups (accounts and their tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cpa_bridge.core.lists import CLAUDE, CODEX, GEMINI, OPENAI
from cpa_bridge.core.notices import Notice
from cpa_bridge.core.notices import WarningCode as W
from cpa_bridge.errors import BridgeError, ErrorCode


@dataclass
class FoundSite:
    name: str
    url: str
    keys: list[tuple[str, str, str | None]] = field(
        default_factory=list
    )  # (label, key, provider type)
    #: ``SiteAccount.authType``: "access_token", "cookie", "none" (None: not a site account)
    auth_type: str | None = None
    #: for access-token accounts: ``{"user_id": int, "access_token": str, "family": str}``
    account: dict[str, Any] | None = None


#: All API Hub's ``site_type`` → our relay family ("auto": detect; its other New API forks).
SITE_TYPES = {"new-api": "new-api", "one-api": "one-api", "Veloera": "veloera"}


def _account(account: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """``SiteAccount.authType`` and, for access-token accounts, what a relay account needs."""
    auth = account.get("authType")
    auth = auth if isinstance(auth, str) else None
    info = account.get("account_info")
    if auth != "access_token" or not isinstance(info, dict):
        return auth, None
    token, raw_id = info.get("access_token"), info.get("id")
    try:
        user_id = int(str(raw_id).strip())
    except ValueError:
        return auth, None
    if not isinstance(token, str) or not token.strip() or user_id < 1:
        return auth, None
    family = SITE_TYPES.get(str(account.get("site_type")), "auto")
    return auth, {"user_id": user_id, "access_token": token.strip(), "family": family}


def _first(obj: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = obj.get(name)
        if value not in (None, ""):
            return value
    return None


def _accounts(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return []
    for path in (
        ("accounts", "accounts"),
        ("accounts",),
        ("data", "accounts", "accounts"),
        ("data", "accounts"),
    ):
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, list):
            return node
    return []


def _tokens(account: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = []
    for list_name in ("tokens", "apiTokens", "api_tokens", "keys"):
        tokens = account.get(list_name)
        if isinstance(tokens, list):
            for token in tokens:
                if isinstance(token, dict):
                    key = _first(token, "key", "apiKey", "api_key", "token")
                    if isinstance(key, str) and "*" not in key and "•" not in key:
                        label = _first(token, "name", "label") or ""
                        found.append((str(label), key, None))
                elif isinstance(token, str):
                    found.append(("", token, None))
    return found


#: All API Hub's API type → the CLIProxyAPI list it maps to (its own mapping, see the analysis §1.4).
API_TYPES = {
    "openai-compatible": OPENAI,
    "openai": CODEX,
    "anthropic": CLAUDE,
    "google": GEMINI,
}


def parse_all_api_hub(data: Any) -> tuple[list[FoundSite], list[str]]:
    """Sites (``accounts.accounts[]``) and keys (``apiCredentialProfiles.profiles[]``) from an
    All API Hub backup (format versions 1.0 to 4.0). Site accounts carry no API keys in the
    backup; a warning says how many sites came without one.
    """
    if isinstance(data, dict) and data.get("type") == "all-api-hub-webdav-backup-encrypted":
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            "this All API Hub backup is encrypted; export it again without encryption (Settings → Import/Export)",
            field="params.data",
        )
    sites: list[FoundSite] = []
    warnings: list[str] = []
    for account in _accounts(data):
        if not isinstance(account, dict):
            continue
        url = _first(account, "site_url", "siteUrl", "baseUrl", "base_url", "url")
        name = _first(account, "site_name", "siteName", "name") or ""
        if not isinstance(url, str):
            warnings.append(
                Notice(W.BACKUP_ACCOUNT_WITHOUT_URL, "skipped an account without a site URL")
            )
            continue
        auth, relay = _account(account)
        site = FoundSite(
            name=str(name), url=url, keys=_tokens(account), auth_type=auth, account=relay
        )
        sites.append(site)
    profiles = data.get("apiCredentialProfiles") if isinstance(data, dict) else None
    if isinstance(profiles, dict):
        profiles = profiles.get("profiles")
    if isinstance(profiles, list):
        for profile in profiles:
            if (
                isinstance(profile, dict)
                and isinstance(profile.get("baseUrl"), str)
                and isinstance(profile.get("apiKey"), str)
            ):
                sites.append(
                    FoundSite(
                        str(profile.get("name") or ""),
                        profile["baseUrl"],
                        [
                            (
                                str(profile.get("name") or ""),
                                profile["apiKey"],
                                API_TYPES.get(str(profile.get("apiType"))),
                            )
                        ],
                    )
                )
    keyless = sum(1 for s in sites if not s.keys and s.account is None)
    if keyless:
        warnings.append(
            Notice(
                W.BACKUP_SITES_WITHOUT_KEY,
                f"{keyless} site(s) have no API key in the backup (All API Hub keeps site keys on the site); "
                "add their keys by hand, or add the site as a relay account with an access token",
                count=keyless,
            )
        )
    return sites, warnings
