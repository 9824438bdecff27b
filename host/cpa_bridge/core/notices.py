"""Warnings with a stable code: ``Notice("url_suffix_removed", "removed '/x' …", suffix="x")``.

A :class:`Notice` is a ``str`` (the English text, for logs and the CLI), so every
``warnings`` list stays a list of strings. :func:`add_codes` gives each result dict that has
``warnings`` a parallel ``warning_codes`` list (``[{code, details}]``, same order) for the
extension to localise; a plain string gets the code ``other``. Codes are append-only, like
error codes: PROTOCOL.md section 4b lists them, and a test checks every code has a
``warning_<code>`` message in each locale.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class WarningCode(str, Enum):
    URL_QUERY_REMOVED = "url_query_removed"
    URL_SUFFIX_REMOVED = "url_suffix_removed"
    URL_PATH_ADDED = "url_path_added"
    MODEL_LIST_FAILED = "model_list_failed"
    MODEL_LIST_EMPTY = "model_list_empty"
    PROVIDER_WITHOUT_MODELS = "provider_without_models"
    PROVIDER_WITHOUT_KEY = "provider_without_key"
    READ_BACK_FAILED = "read_back_failed"
    READ_BACK_MISMATCH = "read_back_mismatch"
    WRITE_UNCERTAIN = "write_uncertain"
    CONFIG_NOT_SAVED = "config_not_saved"
    CONFIG_NOT_SAVED_UNCERTAIN = "config_not_saved_uncertain"
    CONFIG_RESENT = "config_resent"
    OPTIONS_DROPPED = "options_dropped"
    SYNC_SKIPPED_NO_KEY = "sync_skipped_no_key"
    TARGETS_NOT_READ = "targets_not_read"
    TOO_FEW_TARGETS = "too_few_targets"
    BACKUP_ACCOUNT_WITHOUT_URL = "backup_account_without_url"
    BACKUP_SITES_WITHOUT_KEY = "backup_sites_without_key"
    BACKUP_SITE_SKIPPED = "backup_site_skipped"


class Notice(str):
    """A warning's English text, carrying its ``code`` and ``details`` (no secrets: shown as is)."""

    code: WarningCode
    details: dict[str, Any]

    def __new__(cls, code: WarningCode, text: str, **details: Any) -> Notice:
        obj = super().__new__(cls, text)
        obj.code = code
        obj.details = details
        return obj


OTHER = "other"
#: Keys under which results nest further results (fan-out, batch items, sync lists).
_NESTED = ("result", "results", "items", "lists")


def codes_of(warnings: list[Any]) -> list[dict[str, Any]]:
    return [
        {"code": w.code.value, "details": w.details}
        if isinstance(w, Notice)
        else {"code": OTHER, "details": {}}
        for w in warnings
    ]


def add_codes(result: Any) -> Any:
    """Add ``warning_codes`` next to every ``warnings`` list in ``result`` (in place); returns it."""
    if isinstance(result, dict):
        warnings = result.get("warnings")
        if isinstance(warnings, list) and "warning_codes" not in result:
            result["warning_codes"] = codes_of(warnings)
        for key in _NESTED:
            value = result.get(key)
            if key == "lists" and isinstance(value, dict):  # {list name: result or entries}
                for inner in value.values():
                    add_codes(inner)
            elif value is not None:
                add_codes(value)
    elif isinstance(result, list):
        for item in result:
            if isinstance(item, dict):
                add_codes(item)
    return result
