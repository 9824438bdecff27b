"""The host's side of the masking cases shared with the extension's JS units (tests/js/mask.test.js).

The base-URL cases (tests/fixtures/url_cases.json) are run on the host by tests/test_urls.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpa_bridge.core.redact import mask

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def cases(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", cases("masks.json"), ids=lambda c: str(len(c["secret"])))
def test_mask_agrees_with_the_extension(case: dict) -> None:
    assert mask(case["secret"]) == case["masked"]
