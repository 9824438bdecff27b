"""The host's side of the cases shared with the extension's JS units (tests/js/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpa_bridge.redact import mask
from cpa_bridge.urls import provider_base_url

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def cases(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", cases("base_urls.json"), ids=lambda c: f"{c['type']}:{c['site_url']}")
def test_base_url_rule_agrees_with_the_extension(case: dict) -> None:
    assert provider_base_url(case["type"], case["site_url"]) == case["expected"]


@pytest.mark.parametrize("case", cases("masks.json"), ids=lambda c: str(len(c["secret"])))
def test_mask_agrees_with_the_extension(case: dict) -> None:
    assert mask(case["secret"]) == case["masked"]
