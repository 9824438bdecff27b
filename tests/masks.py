"""What a masked key looks like (host/cpa_bridge/redact.py ``mask``), written out independently
so the tests pin the format: ``sk-ab…wxyz #3f2a`` (5 + 4 characters from 20 up, 3 + 2 from 12,
the last 2 from 6, none below; then a fingerprint: the first 4 hex digits of the key's ``key_id``)."""

from __future__ import annotations

import hashlib


def fingerprint(key: str) -> str:
    return hashlib.sha256(("cpa-bridge/key\x00" + key.strip()).encode("utf-8")).hexdigest()[:4]


def hint(key: str) -> str:
    key = key.strip()
    if len(key) >= 20:
        shown = f"{key[:5]}…{key[-4:]}"
    elif len(key) >= 12:
        shown = f"{key[:3]}…{key[-2:]}"
    elif len(key) >= 6:
        shown = f"…{key[-2:]}"
    else:
        shown = "…"
    return f"{shown} #{fingerprint(key)}"
