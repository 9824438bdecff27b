"""An All API Hub backup, built field by field from All API Hub's own types and export code.

qixing-jk/all-api-hub @634f28bfeff6: ``src/features/ImportExport/utils.ts`` (``handleExportAll``
writes ``BackupFullV2`` = ``{version: BACKUP_VERSION, timestamp, accounts, tagStore, preferences,
channelConfigs, apiCredentialProfiles}``), ``src/constants/importExport.ts`` (``BACKUP_VERSION =
"4.0"``), ``src/types/index.ts`` (``AccountStorageConfig``, ``SiteAccount``, ``AccountInfo``),
``src/types/auth.ts`` (``AuthTypeEnum``: ``access_token`` | ``cookie`` | ``none``),
``src/services/accountSiteDefinitions/identifiers.ts`` (``site_type``: ``new-api``, ``one-api``,
``Veloera`` …), ``src/types/apiCredentialProfiles.ts`` (``ApiCredentialProfilesConfig``).
"""

from __future__ import annotations

from typing import Any

BACKUP_VERSION = "4.0"
NOW = 1767225600000  # ms, as All API Hub stores timestamps


def site_account(
    *,
    id: str,
    site_name: str,
    site_url: str,
    site_type: str,
    auth_type: str,
    user_id: str = "",
    access_token: str = "",
    cookie: str | None = None,
) -> dict[str, Any]:
    """One ``SiteAccount`` (every required field of the type, with its canonical default)."""
    account: dict[str, Any] = {
        "id": id,
        "site_name": site_name,
        "site_url": site_url,
        "health": {"status": "healthy"},
        "site_type": site_type,
        "exchange_rate": 7.2,
        "account_info": {
            "id": user_id,
            "access_token": access_token,
            "username": "alice",
            "quota": 500000,
            "today_prompt_tokens": 0,
            "today_completion_tokens": 0,
            "today_quota_consumption": 0,
            "today_requests_count": 0,
            "today_income": 0,
        },
        "last_sync_time": NOW,
        "updated_at": NOW,
        "user_updated_at": NOW,
        "created_at": NOW,
        "notes": "",
        "tagIds": [],
        "disabled": False,
        "excludeFromTotalBalance": False,
        "excludeFromTodayIncome": False,
        "authType": auth_type,
        "checkIn": {
            "automaticExecutionEnabled": False,
            "methodKnowledge": {"methods": {}},
            "selection": {"mode": "auto"},
        },
        "configVersion": 6,
    }
    if cookie is not None:
        account["cookieAuth"] = {"sessionCookie": cookie}
    return account


def credential_profile(
    *, id: str, name: str, base_url: str, api_key: str, api_type: str
) -> dict[str, Any]:
    """One ``ApiCredentialProfile``."""
    return {
        "id": id,
        "name": name,
        "apiType": api_type,
        "baseUrl": base_url,
        "apiKey": api_key,
        "tagIds": [],
        "notes": "",
        "createdAt": NOW,
        "updatedAt": NOW,
    }


def backup_full(
    accounts: list[dict[str, Any]], profiles: list[dict[str, Any]] = ()
) -> dict[str, Any]:
    """``BackupFullV2`` as ``handleExportAll`` writes it (``accounts`` is an ``AccountStorageConfig``)."""
    return {
        "version": BACKUP_VERSION,
        "timestamp": NOW,
        "accounts": {
            "accounts": accounts,
            "bookmarks": [],
            "pinnedAccountIds": [],
            "orderedAccountIds": [a["id"] for a in accounts],
            "last_updated": NOW,
        },
        "tagStore": {"version": 1, "tagsById": {}},
        "preferences": {},
        "channelConfigs": {},
        "apiCredentialProfiles": {
            "version": 2,
            "profiles": list(profiles),
            "links": [],
            "linkTombstones": [],
            "lastUpdated": NOW,
        },
    }
