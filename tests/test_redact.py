"""Masked keys: enough to tell keys apart (length-dependent, plus a fingerprint), never the secret."""

from __future__ import annotations

import pytest

from cpa_bridge.core.manage import key_id
from cpa_bridge.core.redact import mask


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("sk-abcdefghijklmnopqrstuvwxyz", "sk-ab…wxyz"),
        ("sk-0123456789abcdefg", "sk-01…defg"),  # 20
        ("sk-0123456789abcdef", "sk-…ef"),  # 19
        ("abcdefghijkl", "abc…kl"),  # 12
        ("abcdefghijk", "…jk"),  # 11
        ("abcdef", "…ef"),
        ("abcde", "…"),
    ],
)
def test_how_much_shows_depends_on_the_length(key, shown):
    masked, _, fp = mask(key).partition(" #")
    assert masked == shown
    assert fp == key_id(key)[:4]  # the fingerprint is the start of the key's id
    hidden = len(key) - len(masked.replace("…", ""))
    assert hidden >= len(key) * 0.4, "too much of a short key shows"


def test_keys_sharing_prefix_and_suffix_are_told_apart():
    a, b = "sk-live-AAAA-0000-wxyz", "sk-live-BBBB-0000-wxyz"
    assert mask(a).split(" #")[0] == mask(b).split(" #")[0]
    assert mask(a) != mask(b)
    short = [mask(k) for k in ("k1", "k2", "k3")]
    assert len(set(short)) == 3 and all(m.startswith("… #") for m in short)


def test_the_mask_never_holds_the_secret():
    for key in ("sk-abcdefghijklmnopqrstuvwxyz", "0123456789ab", "secret"):
        assert key not in mask(key)
    assert mask("") == "" and mask(None) == ""
