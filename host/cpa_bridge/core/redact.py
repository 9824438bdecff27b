"""Masking of secrets for display, logs and errors: ``sk-ab…wxyz #3f2a``."""

from __future__ import annotations

import hashlib


def fingerprint(secret: str) -> str:
    """Four hex digits that tell keys apart (the start of the key's ``key_id``); never the key."""
    return hashlib.sha256(("cpa-bridge/key\x00" + secret.strip()).encode("utf-8")).hexdigest()[:4]


def mask(secret: str | None) -> str:
    """A secret as ``sk-ab…wxyz #3f2a``: a few characters and a fingerprint.

    How much shows depends on the length: from 20 characters the first 5 and last 4,
    from 12 the first 3 and last 2, from 6 the last 2, below that none. The fingerprint
    tells apart keys that share a prefix and a suffix, and short keys.
    """
    if not secret:
        return ""
    s = secret.strip()
    if len(s) >= 20:
        shown = f"{s[:5]}…{s[-4:]}"
    elif len(s) >= 12:
        shown = f"{s[:3]}…{s[-2:]}"
    elif len(s) >= 6:
        shown = "…" + s[-2:]
    else:
        shown = "…"
    return f"{shown} #{fingerprint(s)}"


def safe_proxy_url(value: str | None) -> str | None:
    """A proxy URL with any ``user:password@`` replaced by ``…@``."""
    if not isinstance(value, str) or not value:
        return None
    if value == "direct" or "@" not in value:
        return value
    scheme, _, rest = value.partition("://")
    return f"{scheme}://…@{rest.rsplit('@', 1)[-1]}"
