"""The pure relay-family rules: pagination, detection, refusals, token facts, folding a listing in."""

from __future__ import annotations

import pytest

from cpa_bridge.errors import BridgeError
from cpa_bridge.sites import families, tokens
from cpa_bridge.sites.families import FAMILIES
from cpa_bridge.store.keystore import Site

NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("family", "page", "items", "total", "seen", "expected"),
    [
        pytest.param("new-api", 1, 100, 250, 100, 2, id="new-api-more-by-total"),
        pytest.param("new-api", 3, 50, 250, 250, None, id="new-api-done-by-total"),
        pytest.param("new-api", 1, 0, None, 0, None, id="new-api-empty"),
        pytest.param("one-api", 0, 10, None, 10, 1, id="one-api-size-ignored-continue"),
        pytest.param("one-api", 3, 0, None, 30, None, id="one-api-empty-ends"),
        pytest.param("veloera", 0, 7, None, 7, 1, id="veloera-short-page-does-not-end"),
        pytest.param("veloera", 1, 0, None, 7, None, id="veloera-empty-ends"),
    ],
)
def test_next_page(family, page, items, total, seen, expected):
    assert FAMILIES[family].next_page(page, items, total, seen) == expected


def test_first_pages_and_headers():
    assert [FAMILIES[f].first_page for f in ("new-api", "one-api", "veloera")] == [1, 0, 0]
    assert families.headers(FAMILIES["veloera"], "tok", 7)["Veloera-User"] == "7"
    assert "New-Api-User" not in families.headers(None, "tok", 7)  # detection sends no user header
    assert set(families.headers(FAMILIES["one-api"], "tok", 7)) == {"Authorization", "Accept"}


@pytest.mark.parametrize(
    ("data", "status", "message", "expected"),
    [
        ({"items": [], "total": 0}, 200, "", "new-api"),
        ([], 200, "", "one-api"),
        (None, 401, "无权进行此操作，未提供 New-Api-User", "new-api"),
        (None, 401, "无权进行此操作，未提供 Veloera-User", "veloera"),
        ({"x": 1}, 200, "", None),
    ],
)
def test_detect(data, status, message, expected):
    assert families.detect(data, status, message) == expected


@pytest.mark.parametrize(
    ("status", "message", "code"),
    [
        (200, "无权进行此操作，access token 无效", "relay_token_invalid"),
        (401, "无权进行此操作，New-Api-User 与登录用户不匹配", "relay_user_mismatch"),
        (401, "无权进行此操作，Veloera-User 格式错误", "relay_user_mismatch"),
        (200, "用户已被封禁", "relay_token_invalid"),
        (200, "数据库错误", "upstream_error"),
    ],
)
def test_refusals(status, message, code):
    assert families.classify_refusal(status, message).code.value == code


def test_envelope_is_required():
    with pytest.raises(BridgeError) as caught:
        families.envelope_data({"object": "list"}, 200)
    assert caught.value.code.value == "relay_family_mismatch"
    with pytest.raises(BridgeError) as caught:
        families.envelope_data({"success": False, "message": "access token 无效"}, 200)
    assert caught.value.code.value == "relay_token_invalid"


def test_page_shape_per_family():
    with pytest.raises(BridgeError):
        families.page_items(FAMILIES["one-api"], {"items": [], "total": 0})
    with pytest.raises(BridgeError):
        families.page_items(FAMILIES["new-api"], [])
    assert families.page_items(FAMILIES["new-api"], {"items": [{"id": 1}], "total": 9}) == (
        [{"id": 1}],
        9,
    )


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ({"status": 1, "remain_quota": 5}, "enabled"),
        ({"status": 1, "unlimited_quota": True, "remain_quota": 0}, "enabled"),
        ({"status": 1, "remain_quota": 0}, "exhausted"),
        ({"status": 1, "remain_quota": 5, "expired_time": NOW - 1}, "expired"),
        ({"status": 2, "remain_quota": 5}, "disabled"),
        ({"status": 4}, "exhausted"),
        ({"status": 9, "remain_quota": 5}, "unknown"),
    ],
)
def test_facts_status_as_the_relay_decides(token, status):
    assert families.facts({"id": 1, **token}, NOW)["status"] == status


def test_facts_models_one_api_and_new_api():
    assert families.facts({"id": 1, "models": "a, b"}, NOW)["models"] == ["a", "b"]
    assert families.facts({"id": 1, "model_limits_enabled": True, "model_limits": "x,y"}, NOW)[
        "models"
    ] == ["x", "y"]
    assert (
        families.facts({"id": 1, "model_limits_enabled": False, "model_limits": "x"}, NOW)["models"]
        == []
    )


def test_masked_and_full_keys():
    assert families.is_masked("abcd**********wxyz") and families.is_masked("ab••cd")
    assert families.full_key("KEY") == "sk-KEY" and families.full_key("sk-KEY") == "sk-KEY"


def test_fold_marks_gone_revives_and_reveals():
    site = Site(name="s", url="https://s.invalid")
    listing = [
        {"id": 1, "key": "AAAA**********1111", "status": 1, "remain_quota": 9, "name": "a"},
        {"id": 2, "key": "BBBB2222", "status": 1, "remain_quota": 9, "name": "b"},
    ]
    first = tokens.apply(site, listing, {}, NOW)
    assert (first["added"], first["masked"]) == (2, 1)
    masked = tokens.masked_ids(site)
    assert list(masked) == [1]
    second = tokens.apply(site, listing[1:], {1: "sk-AAAAfull1111"}, NOW)
    assert second["gone"] == 1 and site.keys[0].gone and site.keys[0].problem() == "deleted"
    third = tokens.apply(site, listing, {1: "sk-AAAAfull1111"}, NOW)
    assert third["revived"] == 1 and not site.keys[0].gone
    assert site.keys[0].api_key == "sk-AAAAfull1111" and not site.keys[0].masked
    assert site.keys[1].api_key == "sk-BBBB2222"
    assert len(site.keys) == 2


def test_an_incomplete_listing_marks_nothing_gone():
    site = Site(name="s", url="https://s.invalid")
    tokens.apply(site, [{"id": 1, "key": "K1"}, {"id": 2, "key": "K2"}], {}, NOW)
    summary = tokens.apply(site, [{"id": 1, "key": "K1"}], {}, NOW, complete=False)
    assert summary["gone"] == 0 and not any(k.gone for k in site.keys)


def test_a_key_typed_in_by_hand_is_adopted_not_duplicated():
    from cpa_bridge.store.keystore import StoredKey

    site = Site(name="s", url="https://s.invalid", keys=[StoredKey(label="mine", api_key="sk-K1")])
    summary = tokens.apply(site, [{"id": 1, "key": "K1", "status": 2}], {}, NOW)
    assert (summary["added"], summary["updated"], len(site.keys)) == (0, 1, 1)
    assert site.keys[0].remote["status"] == "disabled" and site.keys[0].problem() == "disabled"
