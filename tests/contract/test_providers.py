"""Provider management (providers.show / remove_key / set_disabled / delete / set_models) against
the stand-in CLIProxyAPI, through host frames and the CLI: ids instead of keys, the safe
write path, exact undo, dry runs, and no raw key in any reply."""

from __future__ import annotations

import json

import httpx
import pytest

from cpa_bridge.core.merge import comparable
from tests.conftest import MGMT_KEY
from tests.masks import hint
from tests.real.plugin import kept_lists, served, without_dropped

OPENAI = "openai-compatibility"

SECRETS = (
    "sk-relay-key-1111111111",
    "sk-relay-key-2222222222",
    "sk-other-key-333333333",
    "sk-claude-key-44444444",
    "AIza-gemini-key-5555555",
    "sk-codex-key-666666666",
    "header-secret-value",
    "user:pw",
    "sk-twin-key-77777777",
    "sk-twin-key-88888888",
)

MANAGED_YAML = """\
# managed config
port: 8317
openai-compatibility:
  - name: Relay
    base-url: https://relay.example.invalid/v1
    prefix: team
    headers:
      X-Custom: header-secret-value
    api-key-entries:
      - api-key: sk-relay-key-1111111111
        weight: 7
        proxy-url: socks5://user:pw@127.0.0.1:1080
      - api-key: sk-relay-key-2222222222
    models:
      - name: gpt-4o
        alias: 4o
        display-name: GPT 4o
      - name: o3
        alias: o3
  - name: Other
    base-url: https://other.example.invalid/v1
    api-key-entries:
      - api-key: sk-other-key-333333333
    models:
      - name: m1
        alias: m1
claude-api-key:
  - api-key: sk-claude-key-44444444
    base-url: https://claude.example.invalid
    excluded-models:
      - claude-2
    models:
      - name: claude-3-5-sonnet
        alias: sonnet
gemini-api-key:
  - api-key: AIza-gemini-key-5555555
    base-url: https://gemini.example.invalid
codex-api-key:
  - api-key: sk-codex-key-666666666
    base-url: https://codex.example.invalid/v1
"""


def writes(server) -> list[tuple[str, str]]:
    return [r for r in server.requests if r[0] in ("PUT", "PATCH", "DELETE")]


def assert_no_secret(replies) -> None:
    text = json.dumps(replies, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text, secret


def _managed(host, server):
    assert host.call("settings.set", {"management_url": server.url, "management_key": MGMT_KEY})[
        "ok"
    ]
    yield server
    assert_no_secret(host.replies)


@pytest.fixture
def managed(host, cpa_factory):
    yield from _managed(host, cpa_factory(initial_yaml=MANAGED_YAML))


@pytest.fixture
def standin_managed(host, standin_factory):
    yield from _managed(host, standin_factory(initial_yaml=MANAGED_YAML))


def listing(host, list_name=None):
    reply = host.call("providers.list", {"list": list_name} if list_name else {})
    assert reply["ok"], reply
    return reply["result"]["lists"]


def find(host, list_name, predicate):
    return next(p for p in listing(host, list_name)[list_name] if predicate(p))


def by_name(host, name):
    return find(host, OPENAI, lambda p: p["name"] == name)


def entry(server, list_name, index=0):
    return server.config()[list_name][index]


def test_list_has_stable_ids_and_masked_keys(host, managed):
    lists = listing(host)
    relay = lists[OPENAI][0]
    assert relay["keys"] == [hint("sk-relay-key-1111111111"), hint("sk-relay-key-2222222222")]
    assert len(relay["key_ids"]) == 2 and len(set(relay["key_ids"])) == 2
    assert len(relay["entry_id"]) == 12
    assert lists["claude-api-key"][0]["disabled"] is False
    ids = [p["entry_id"] for items in lists.values() for p in items]
    assert len(ids) == len(set(ids)) == 5
    # the ids are stable across reads and across targets (same provider, same id)
    assert listing(host) == lists


def test_show_masks_keys_proxies_and_header_values(host, managed):
    relay = by_name(host, "Relay")
    result = host.call("providers.show", {"list": OPENAI, "entry_id": relay["entry_id"]})["result"]
    provider = result["provider"]
    assert provider["name"] == "Relay" and provider["prefix"] == "team"
    assert [k["key_hint"] for k in provider["keys"]] == [
        hint("sk-relay-key-1111111111"),
        hint("sk-relay-key-2222222222"),
    ]
    assert [k["key_id"] for k in provider["keys"]] == relay["key_ids"]
    assert provider["keys"][0].get("weight") == (None if "weight" in managed.drops else 7)
    assert provider["keys"][0]["proxy_url"] == "socks5://…@127.0.0.1:1080"
    assert provider["headers"] == ["X-Custom"]
    assert (
        provider["models"][0]
        == without_dropped(
            managed, {OPENAI: [{"name": "gpt-4o", "alias": "4o", "display-name": "GPT 4o"}]}
        )[OPENAI][0]
    )
    assert result["list_hash"]
    claude = listing(host, "claude-api-key")["claude-api-key"][0]
    shown = host.call("providers.show", {"list": "claude-api-key", "entry_id": claude["entry_id"]})[
        "result"
    ]
    assert (
        shown["provider"]["excluded_models"] == ["claude-2"]
        and shown["provider"]["disabled"] is False
    )


def _action(host, name):
    """(message type, params) for each management action, computed from the live listing."""
    relay = by_name(host, "Relay")
    claude = listing(host, "claude-api-key")["claude-api-key"][0]
    gemini = listing(host, "gemini-api-key")["gemini-api-key"][0]
    codex = listing(host, "codex-api-key")["codex-api-key"][0]
    return {
        "remove_key": (
            "providers.remove_key",
            {"list": OPENAI, "entry_id": relay["entry_id"], "key_id": relay["key_ids"][0]},
        ),
        "disable": (
            "providers.set_disabled",
            {"list": OPENAI, "entry_id": relay["entry_id"], "disabled": True},
        ),
        "delete": ("providers.delete", {"list": OPENAI, "entry_id": relay["entry_id"]}),
        "set_models": (
            "providers.set_models",
            {
                "list": OPENAI,
                "entry_id": relay["entry_id"],
                "models": [{"name": "gpt-4o", "alias": "four-o"}, {"name": "gpt-4.1"}],
            },
        ),
        "claude_remove_key": (
            "providers.remove_key",
            {
                "list": "claude-api-key",
                "entry_id": claude["entry_id"],
                "key_id": claude["key_ids"][0],
            },
        ),
        "claude_disable": (
            "providers.set_disabled",
            {"list": "claude-api-key", "entry_id": claude["entry_id"], "disabled": True},
        ),
        "claude_models": (
            "providers.set_models",
            {
                "list": "claude-api-key",
                "entry_id": claude["entry_id"],
                "models": [{"name": "claude-opus-4"}],
            },
        ),
        "gemini_disable": (
            "providers.set_disabled",
            {"list": "gemini-api-key", "entry_id": gemini["entry_id"], "disabled": True},
        ),
        "gemini_models": (
            "providers.set_models",
            {
                "list": "gemini-api-key",
                "entry_id": gemini["entry_id"],
                "models": [{"name": "gemini-2.5-pro", "alias": "pro"}],
            },
        ),
        "codex_delete": (
            "providers.delete",
            {"list": "codex-api-key", "entry_id": codex["entry_id"]},
        ),
    }[name]


def _applied(server, name) -> None:
    config = server.config()
    relay = next((p for p in config.get(OPENAI) or [] if p["name"] == "Relay"), None)
    if name == "remove_key":
        assert [e["api-key"] for e in relay["api-key-entries"]] == ["sk-relay-key-2222222222"]
        assert relay["headers"] == {"X-Custom": "header-secret-value"} and relay["prefix"] == "team"
        assert relay["models"][0].get("display-name") == (
            None if "display-name" in server.drops else "GPT 4o"
        )
    elif name == "disable":
        assert relay["disabled"] is True and len(relay["api-key-entries"]) == 2
    elif name == "delete":
        assert relay is None and [p["name"] for p in config[OPENAI]] == ["Other"]
    elif name == "set_models":
        assert (
            relay["models"]
            == without_dropped(
                server,
                {
                    OPENAI: [
                        {"name": "gpt-4o", "alias": "four-o", "display-name": "GPT 4o"},
                        {"name": "gpt-4.1", "alias": "gpt-4.1"},
                    ]
                },
            )[OPENAI]
        )
    elif name == "claude_remove_key":
        assert not config.get("claude-api-key")
    elif name == "claude_disable":
        assert config["claude-api-key"][0]["excluded-models"] == ["claude-2", "*"]
    elif name == "claude_models":
        assert config["claude-api-key"][0]["models"] == [
            {"name": "claude-opus-4", "alias": "claude-opus-4"}
        ]
    elif name == "gemini_disable":
        assert config["gemini-api-key"][0]["excluded-models"] == ["*"]
    elif name == "gemini_models":
        assert config["gemini-api-key"][0]["models"] == [{"name": "gemini-2.5-pro", "alias": "pro"}]
    elif name == "codex_delete":
        assert not config.get("codex-api-key")
    else:  # pragma: no cover
        raise AssertionError(name)


ACTIONS = [
    "remove_key",
    "disable",
    "delete",
    "set_models",
    "claude_remove_key",
    "claude_disable",
    "claude_models",
    "gemini_disable",
    "gemini_models",
    "codex_delete",
]


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_is_applied_safely_and_undone_exactly(host, managed, name):
    mtype, params = _action(host, name)
    list_name = params["list"]
    before, before_yaml_lists = served(managed, list_name), kept_lists(managed)
    managed.reset_requests()
    reply = host.call(mtype, params)
    assert reply["ok"], reply
    result = reply["result"]
    assert result["outcome"] == "succeeded" and result["action"] == "written", result
    assert result["read_back"] == "applied" and result["backup_id"]
    assert result["changes"] and result["entry_id"] == params["entry_id"]
    # lock, GET, one write, read-back GET
    methods = [m for m, _ in managed.requests]
    assert (
        methods[0] == "GET"
        and methods[-1] == "GET"
        and len(writes(managed)) == 1
        and len(methods) == 3
    )
    _applied(managed, name)
    other_lists = {k: v for k, v in kept_lists(managed).items() if k != list_name}
    assert other_lists == {k: v for k, v in before_yaml_lists.items() if k != list_name}

    history = host.call("history.list")["result"]["entries"]
    assert history[0]["backup_id"] == result["backup_id"] and history[0]["operation"].startswith(
        "providers."
    )
    undo = host.call("history.undo", {"backup_id": result["backup_id"]})
    assert undo["ok"] and undo["result"]["outcome"] == "succeeded", undo
    assert kept_lists(managed) == before_yaml_lists
    assert comparable(served(managed, list_name)) == comparable(before)


def test_patch_by_name_where_unique(host, managed):
    relay = by_name(host, "Relay")
    result = host.call(
        "providers.set_disabled", {"list": OPENAI, "entry_id": relay["entry_id"], "disabled": True}
    )["result"]
    assert result["request"] == {
        "method": "PATCH",
        "path": OPENAI,
        "body": {"name": "Relay", "value": {"disabled": True}},
    }
    removed = host.call(
        "providers.remove_key",
        {"list": OPENAI, "entry_id": relay["entry_id"], "key_id": relay["key_ids"][1]},
    )["result"]
    assert removed["request"]["method"] == "PATCH"
    assert removed["request"]["body"]["value"]["api-key-entries"][0]["api-key"] == hint(
        "sk-relay-key-1111111111"
    )
    assert (
        removed["provider"]["keys"] == [hint("sk-relay-key-1111111111")]
        and removed["provider"]["disabled"] is True
    )
    deleted = host.call("providers.delete", {"list": OPENAI, "entry_id": relay["entry_id"]})[
        "result"
    ]
    assert deleted["request"] == {"method": "DELETE", "path": OPENAI, "params": {"name": "Relay"}}
    assert deleted["provider"] is None


TWINS_YAML = """\
openai-compatibility:
  - name: Twin
    base-url: https://twin-a.example.invalid/v1
    api-key-entries:
      - api-key: sk-twin-key-77777777
  - name: Twin
    base-url: https://twin-b.example.invalid/v1
    api-key-entries:
      - api-key: sk-twin-key-88888888
  - name: twin
    base-url: https://twin-a.example.invalid/v1/
"""


def test_duplicate_names_are_written_by_put_and_ambiguous_ids_refused(host, cpa_factory):
    server = cpa_factory(initial_yaml=TWINS_YAML)
    assert host.call("settings.set", {"management_url": server.url, "management_key": MGMT_KEY})[
        "ok"
    ]
    rows = listing(host, OPENAI)[OPENAI]
    # "Twin" at twin-a and "twin" at twin-a/ share an id: ambiguous
    assert rows[0]["entry_id"] == rows[2]["entry_id"] != rows[1]["entry_id"]
    error = host.call("providers.delete", {"list": OPENAI, "entry_id": rows[0]["entry_id"]})[
        "error"
    ]
    assert error["code"] == "conflict" and error["details"]["actual"] == 2
    assert writes(server) == []
    # the second "Twin": DELETE ?name=Twin would remove both, so the list is PUT without it
    result = host.call("providers.delete", {"list": OPENAI, "entry_id": rows[1]["entry_id"]})[
        "result"
    ]
    assert result["request"]["method"] == "PUT" and result["outcome"] == "succeeded"
    assert [p["base-url"] for p in server.config()[OPENAI]] == [
        "https://twin-a.example.invalid/v1",
        "https://twin-a.example.invalid/v1/",
    ]
    assert host.call("history.undo")["result"]["outcome"] == "succeeded"
    assert len(server.config()[OPENAI]) == 3
    assert_no_secret(host.replies)


@pytest.mark.parametrize(
    "name", ["remove_key", "disable", "delete", "set_models", "claude_disable", "gemini_models"]
)
def test_dry_run_writes_nothing_and_shows_the_masked_request(host, managed, name):
    mtype, params = _action(host, name)
    before = managed.yaml_text()
    managed.reset_requests()
    result = host.call(mtype, {**params, "dry_run": True})["result"]
    assert (
        result["outcome"] == "dry_run"
        and result["action"] == "would_write"
        and result["backup_id"] is None
    )
    assert result["request"]["method"] in ("PATCH", "PUT", "DELETE")
    assert writes(managed) == [] and managed.requests == [
        ("GET", "/v0/management/" + params["list"])
    ]
    assert managed.yaml_text() == before
    assert host.call("history.list")["result"]["entries"] == []


def test_unknown_ids_are_not_found_and_nothing_is_written(host, managed):
    relay = by_name(host, "Relay")
    for mtype, params in [
        ("providers.show", {"list": OPENAI, "entry_id": "0123456789ab"}),
        ("providers.delete", {"list": OPENAI, "entry_id": "0123456789ab"}),
        (
            "providers.set_disabled",
            {"list": "claude-api-key", "entry_id": relay["entry_id"], "disabled": True},
        ),
        (
            "providers.remove_key",
            {"list": OPENAI, "entry_id": relay["entry_id"], "key_id": "0123456789ab"},
        ),
        ("providers.set_models", {"list": OPENAI, "entry_id": "nope", "models": []}),
    ]:
        error = host.call(mtype, params)["error"]
        assert error["code"] == "not_found", (mtype, error)
    assert writes(managed) == []
    error = host.call(
        "providers.delete", {"list": "interactions-api-key", "entry_id": relay["entry_id"]}
    )["error"]
    assert error["code"] == "invalid_request" and error["details"]["field"] == "params.list"
    error = host.call(
        "providers.set_models",
        {"list": OPENAI, "entry_id": relay["entry_id"], "models": [{"name": " "}]},
    )["error"]
    assert error["code"] == "invalid_request"


def test_no_change_means_no_write_and_enable_reverts_disable(host, managed):
    relay = by_name(host, "Relay")
    params = {"list": OPENAI, "entry_id": relay["entry_id"]}
    managed.reset_requests()
    same = host.call("providers.set_disabled", {**params, "disabled": False})["result"]
    assert same["action"] == "unchanged" and same["backup_id"] is None and writes(managed) == []
    same = host.call(
        "providers.set_models",
        {**params, "models": [{"name": "gpt-4o", "alias": "4o"}, {"name": "o3"}]},
    )["result"]
    assert same["action"] == "unchanged" and writes(managed) == []
    before = kept_lists(managed)
    host.call("providers.set_disabled", {**params, "disabled": True})
    assert (
        host.call("providers.set_disabled", {**params, "disabled": False})["result"]["outcome"]
        == "succeeded"
    )
    assert kept_lists(managed) == before
    claude = listing(host, "claude-api-key")["claude-api-key"][0]
    cparams = {"list": "claude-api-key", "entry_id": claude["entry_id"]}
    host.call("providers.set_disabled", {**cparams, "disabled": True})
    assert find(host, "claude-api-key", lambda p: True)["disabled"] is True
    host.call("providers.set_disabled", {**cparams, "disabled": False})
    assert managed.config()["claude-api-key"] == before["claude-api-key"]


def test_expect_list_hash_refuses_a_stale_edit(host, managed):
    relay = by_name(host, "Relay")
    shown = host.call("providers.show", {"list": OPENAI, "entry_id": relay["entry_id"]})["result"]
    httpx.patch(
        managed.management_url + "/" + OPENAI,
        headers={"Authorization": f"Bearer {MGMT_KEY}"},
        json={"name": "Other", "value": {"disabled": True}},
    )
    error = host.call(
        "providers.delete",
        {"list": OPENAI, "entry_id": relay["entry_id"], "expect_list_hash": shown["list_hash"]},
    )["error"]
    assert error["code"] == "conflict"
    assert [p["name"] for p in managed.config()[OPENAI]] == ["Relay", "Other"]


def test_a_write_answered_500_is_uncertain_with_a_backup(host, standin_managed):
    managed = standin_managed
    relay = by_name(host, "Relay")
    managed.faults.fail_next_writes = 1
    result = host.call("providers.delete", {"list": OPENAI, "entry_id": relay["entry_id"]})[
        "result"
    ]
    assert (
        result["outcome"] == "uncertain"
        and result["read_back"] == "not_applied"
        and result["backup_id"]
    )
    assert [p["name"] for p in managed.config()[OPENAI]] == ["Relay", "Other"]


def test_the_removed_last_key_warns(host, managed):
    other = by_name(host, "Other")
    result = host.call(
        "providers.remove_key",
        {"list": OPENAI, "entry_id": other["entry_id"], "key_id": other["key_ids"][0]},
    )["result"]
    assert result["outcome"] == "succeeded" and any("no key left" in w for w in result["warnings"])


def test_list_over_several_targets(host, managed, cpa_factory):
    second = cpa_factory()
    assert host.call(
        "settings.set",
        {"target": "second", "management_url": second.url, "management_key": MGMT_KEY},
    )["ok"]
    result = host.call("providers.list", {"targets": "all", "list": OPENAI})["result"]
    assert [r["target"] for r in result["results"]] == ["default", "second"]
    assert [p["name"] for p in result["results"][0]["result"]["lists"][OPENAI]] == [
        "Relay",
        "Other",
    ]
    assert result["results"][1]["result"]["lists"][OPENAI] == []


def test_cli_provider_management(cli, host, managed):
    listed = cli("providers")
    assert listed.code == 0, listed.err
    relay = by_name(host, "Relay")
    assert relay["entry_id"] in listed.out and relay["key_ids"][0] in listed.out
    shown = cli("providers", "show", relay["entry_id"])
    assert (
        shown.code == 0 and "X-Custom" in shown.out and hint("sk-relay-key-1111111111") in shown.out
    )
    dry = cli("--json", "providers", "delete", relay["entry_id"], "--dry-run")
    assert dry.code == 0 and dry.json()["result"]["outcome"] == "dry_run" and writes(managed) == []
    rk = cli("providers", "remove-key", relay["entry_id"], relay["key_ids"][0])
    assert rk.code == 0 and "succeeded" in rk.out, rk.out + rk.err
    off = cli("providers", "disable", relay["entry_id"], "--json")
    assert off.code == 0 and off.json()["result"]["provider"]["disabled"] is True
    on = cli("providers", "enable", relay["entry_id"])
    assert on.code == 0
    models = cli("providers", "models", relay["entry_id"], "--model", "gpt-4o=4o", "--model", "o1")
    assert models.code == 0, models.err
    assert [m["name"] for m in managed.config()[OPENAI][0]["models"]] == ["gpt-4o", "o1"]
    claude = listing(host, "claude-api-key")["claude-api-key"][0]
    cdel = cli("providers", "delete", claude["entry_id"], "--list", "claude-api-key")
    assert cdel.code == 0 and not managed.config().get("claude-api-key")
    missing = cli("providers", "delete", "0123456789ab")
    assert missing.code == 8 and "not_found" in missing.err
    for result in (listed, shown, dry, rk, off, on, models, cdel, missing):
        for secret in SECRETS:
            assert secret not in result.out + result.err
    assert cli("undo").code == 0
    assert managed.config().get("claude-api-key")
