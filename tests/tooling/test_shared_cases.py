"""The masking cases (tests/fixtures/masks.json): what the host shows as key_hint (the extension never masks).

The base-URL cases (tests/fixtures/url_cases.json) are run on the host by tests/test_urls.py and
on the extension by tests/js/urls.test.js (checked case by case in test_js_tools.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpa_bridge.core.redact import mask

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def cases(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", cases("masks.json"), ids=lambda c: str(len(c["secret"])))
def test_mask_cases(case: dict) -> None:
    assert mask(case["secret"]) == case["masked"]
