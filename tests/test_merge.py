"""The pure merge: input list + drafts → new list + changes."""

from __future__ import annotations

import copy

import pytest

from cpa_bridge.core.merge import Draft, Model, list_hash, merge, validate_list
from cpa_bridge.errors import BridgeError, ErrorCode
from tests.masks import hint

OPENAI = "openai-compatibility"


def draft(
    key="sk-new-0123456789abcd", name="Relay", base="https://relay.example.invalid/v1", **kw
) -> Draft:
    return Draft(
        provider_type=kw.pop("provider_type", OPENAI),
        provider_name=name,
        base_url=base,
        api_key=key,
        **kw,
    )


EXISTING = [
    {
        "name": "Relay",
        "disabled": False,
        "base-url": "https://relay.example.invalid/v1",
        "priority": 3,
        "headers": {"X-A": "1"},
        "prefix": "team",
        "api-key-entries": [
            {"api-key": "sk-old-1", "weight": 7, "proxy-url": "socks5://127.0.0.1:1080"}
        ],
        "models": [{"name": "gpt-4o", "alias": "4o"}],
    },
    {"name": "Other", "disabled": True, "base-url": "https://other.example.invalid/v1"},
]


def test_create_new_provider_with_models():
    result = merge([], [draft(models=(Model("gpt-4o-mini", "mini"),))])
    (outcome,) = result.outcomes
    assert outcome.action == "created"
    assert result.items == [
        {
            "name": "Relay",
            "base-url": "https://relay.example.invalid/v1",
            "api-key-entries": [{"api-key": "sk-new-0123456789abcd"}],
            "models": [{"name": "gpt-4o-mini", "alias": "mini"}],
        }
    ]
    assert result.created == {0}


def test_update_appends_key_and_keeps_everything_else():
    before = copy.deepcopy(EXISTING)
    result = merge(before, [draft(models=(Model("gpt-4o", "4o"), Model("o3", "o3")))])
    assert before == EXISTING, "input not mutated"
    updated = result.items[0]
    assert updated["api-key-entries"] == [
        {"api-key": "sk-old-1", "weight": 7, "proxy-url": "socks5://127.0.0.1:1080"},
        {"api-key": "sk-new-0123456789abcd"},
    ]
    assert updated["models"] == [{"name": "gpt-4o", "alias": "4o"}, {"name": "o3", "alias": "o3"}]
    for field in ("priority", "headers", "prefix", "disabled", "name"):
        assert updated[field] == EXISTING[0][field]
    assert result.items[1] == EXISTING[1]
    assert result.touched == {0} and not result.created
    ops = [c["op"] for c in result.outcomes[0].changes]
    assert ops == ["add_key", "add_models"]
    assert result.outcomes[0].changes[0]["key_hint"] == hint("sk-new-0123456789abcd")


def test_reimport_same_key_is_unchanged():
    result = merge(EXISTING, [draft(key="sk-old-1")])
    assert result.outcomes[0].action == "unchanged" and not result.changed
    assert result.items == EXISTING


def test_match_by_normalised_base_url_not_name():
    result = merge(
        EXISTING, [draft(name="Completely different", base="https://RELAY.example.invalid:443/v1/")]
    )
    assert result.outcomes[0].action == "updated"
    assert result.items[0]["name"] == "Relay", "never renamed"


def test_name_conflict_is_never_repointed():
    result = merge(EXISTING, [draft(name="relay", base="https://elsewhere.example.invalid/v1")])
    (error,) = result.outcomes
    assert isinstance(error, BridgeError) and error.code == ErrorCode.NAME_CONFLICT
    assert error.details["existing_base_url"] == "https://relay.example.invalid/v1"
    assert not result.changed


def test_name_conflict_rename_and_use_existing():
    renamed = merge(
        EXISTING,
        [
            draft(
                name="relay", base="https://elsewhere.example.invalid/v1", on_name_conflict="rename"
            )
        ],
    )
    assert renamed.items[-1]["name"] == "relay-2"
    assert renamed.items[-1]["base-url"] == "https://elsewhere.example.invalid/v1"
    used = merge(
        EXISTING,
        [
            draft(
                name="relay",
                base="https://elsewhere.example.invalid/v1",
                on_name_conflict="use_existing",
            )
        ],
    )
    assert used.items[0]["base-url"] == "https://relay.example.invalid/v1", "not re-pointed"
    assert used.items[0]["api-key-entries"][-1]["api-key"] == "sk-new-0123456789abcd"


def test_default_models_only_for_new_providers():
    defaults = (Model("a", "a"), Model("b", "b"))
    created = merge([], [draft(default_models=defaults)])
    assert created.items[0]["models"] == [{"name": "a", "alias": "a"}, {"name": "b", "alias": "b"}]
    updated = merge(EXISTING, [draft(default_models=defaults)])
    assert updated.items[0]["models"] == EXISTING[0]["models"]


def test_batch_same_site_lands_in_one_provider():
    result = merge([], [draft(key=f"sk-k{i}-0123456789") for i in range(3)])
    assert len(result.items) == 1
    assert [o.action for o in result.outcomes] == ["created", "updated", "updated"]
    assert len(result.items[0]["api-key-entries"]) == 3


def test_key_lists_one_entry_per_key():
    d = draft(provider_type="claude-api-key", base="https://claude.example.invalid")
    result = merge([{"api-key": "sk-other", "base-url": "", "weight": 3}], [d, d])
    assert [o.action for o in result.outcomes] == ["created", "unchanged"]
    assert result.items == [
        {"api-key": "sk-other", "base-url": "", "weight": 3},
        {"api-key": "sk-new-0123456789abcd", "base-url": "https://claude.example.invalid"},
    ]


def test_list_hash_is_of_the_content_as_sent():
    assert list_hash([{"a": 1, "b": 2}]) == list_hash([{"a": 1, "b": 2}])
    assert list_hash([{"a": 1}]) != list_hash([{"a": 2}])
    assert list_hash([{"a": 1}, {"b": 2}]) != list_hash([{"b": 2}, {"a": 1}])
    # what orjson refuses still hashes (integers beyond 64 bits, lone surrogates)
    assert list_hash([{"a": 2**70}]) != list_hash([{"a": 2**71}])
    assert list_hash([{"a": "\ud800"}])


@pytest.mark.parametrize(
    "items",
    [
        [{"name": "x", "base-url": ""}],
        [
            {
                "name": "x",
                "base-url": "https://x",
                "api-key-entries": [{"api-key": "k", "weight": "5"}],
            }
        ],
        [
            {
                "name": "x",
                "base-url": "https://x",
                "api-key-entries": [{"api-key": "k", "weight": 1000001}],
            }
        ],
        [{"name": "x", "base-url": "https://x", "models": "gpt"}],
        ["not an object"],
    ],
)
def test_validate_list_refuses_what_the_server_would_drop_or_reject(items):
    with pytest.raises(BridgeError):
        validate_list(OPENAI, items)
