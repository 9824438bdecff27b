"""Fold a fresh token listing into the account's site in the key inventory (pure, no I/O).

Keys are matched by the site's token id. New tokens are added; known ones get the site's
new facts (and the full key once it is known); a token the site no longer lists is marked
``gone``, never silently dropped; one that comes back is unmarked.
"""

from __future__ import annotations

from typing import Any

from cpa_bridge.sites import families
from cpa_bridge.store.keystore import Site, StoredKey


def _stored_key(raw: str, revealed: str | None) -> tuple[str, bool]:
    """(api_key to store, still masked?)."""
    if revealed:
        return revealed, False
    if families.is_masked(raw):
        return raw.strip(), True
    return families.full_key(raw), False


def apply(
    site: Site,
    tokens: list[dict[str, Any]],
    revealed: dict[int, str],
    now: float,
    *,
    complete: bool = True,
) -> dict[str, Any]:
    """Update ``site.keys`` in place; return counts and the ids of keys that turned unusable.

    Only a ``complete`` listing (every page read) marks the unlisted tokens ``gone``.
    """
    by_remote = {
        k.remote["remote_id"]: k for k in site.keys if k.remote and "remote_id" in k.remote
    }
    listed: set[int] = set()
    added = updated = revived = 0
    turned_bad: list[str] = []
    for token in tokens:
        facts = families.facts(token, now)
        rid = facts["remote_id"]
        listed.add(rid)
        key = token.get("key")
        raw = key if isinstance(key, str) else ""
        known = by_remote.get(rid)
        if known is None:
            api_key, masked = _stored_key(raw, revealed.get(rid))
            if not api_key:
                continue
            by_hand = next(
                (
                    k
                    for k in site.keys
                    if k.remote is None
                    and not masked
                    and k.api_key.strip() in (api_key, api_key.removeprefix("sk-"))
                ),
                None,
            )
            if (
                by_hand is not None
            ):  # a key typed in before the account existed: it gets the site's facts
                by_hand.remote, by_hand.api_key = facts, api_key
                by_remote[rid] = by_hand
                updated += 1
                if not by_hand.usable:
                    turned_bad.append(by_hand.id)
                continue
            key = StoredKey(label=facts["name"], api_key=api_key, remote=facts, masked=masked)
            site.keys.append(key)
            added += 1
            if not key.usable:
                turned_bad.append(key.id)
            continue
        was_usable = known.usable
        if known.gone:
            known.gone = False
            revived += 1
        if known.masked:
            api_key, masked = _stored_key(raw, revealed.get(rid))
            if api_key and not masked:
                known.api_key, known.masked = api_key, False
        elif raw and not families.is_masked(raw) and families.full_key(raw) != known.api_key:
            known.api_key = families.full_key(raw)  # the site regenerated the key
            known.check = None
        if known.remote != facts:
            updated += 1
        known.remote, known.label = facts, facts["name"] or known.label
        if was_usable and not known.usable:
            turned_bad.append(known.id)
    gone = 0
    for rid, key in by_remote.items():
        if complete and rid not in listed and not key.gone:
            key.gone = True
            gone += 1
            turned_bad.append(key.id)
    usable = sum(1 for k in site.keys if k.remote and k.usable)
    return {
        "total": len(listed),
        "added": added,
        "updated": updated,
        "gone": gone,
        "revived": revived,
        "usable": usable,
        "masked": sum(1 for k in site.keys if k.masked and not k.gone),
        "turned_unusable": turned_bad,
    }


def masked_ids(site: Site, only: set[str] | None = None) -> dict[int, StoredKey]:
    """Remote token id → key for keys whose full key is not known yet."""
    return {
        k.remote["remote_id"]: k
        for k in site.keys
        if k.masked and not k.gone and k.remote and (only is None or k.id in only)
    }
