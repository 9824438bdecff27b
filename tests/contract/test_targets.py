"""Several CLIProxyAPI targets: fan-out import with one failing target and a retry of only that
one, drift detection and sync, against three stand-ins on 127.0.0.1 (host frames and the CLI)."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import MGMT_KEY
from tests.masks import hint
from tests.real.plugin import kept_lists
from tests.standin.cliproxyapi import StandinCLIProxyAPI

OPENAI = "openai-compatibility"
CLAUDE = "claude-api-key"

SECRETS = (
    "sk-fan-key-0000000000",
    "sk-a-key-1111111111",
    "sk-a-key-2222222222",
    "sk-claude-a-333333333",
    "sk-only-b-444444444",
    "header-secret-value",
    "wrong-mgmt-key-000000",
    MGMT_KEY,
)

A_YAML = """\
openai-compatibility:
  - name: Relay
    base-url: https://relay.example.invalid/v1
    prefix: team
    headers:
      X-Custom: header-secret-value
    api-key-entries:
      - api-key: sk-a-key-1111111111
      - api-key: sk-a-key-2222222222
        weight: 3
    models:
      - name: gpt-4o
        alias: 4o
claude-api-key:
  - api-key: sk-claude-a-333333333
    base-url: https://claude.example.invalid
"""

B_YAML = """\
openai-compatibility:
  - name: relay
    base-url: https://RELAY.example.invalid/v1/
    api-key-entries:
      - api-key: sk-a-key-1111111111
    models:
      - name: gpt-4o
        alias: 4o
  - name: OnlyB
    base-url: https://only-b.example.invalid/v1
    api-key-entries:
      - api-key: sk-only-b-444444444
    models:
      - name: m
        alias: m
"""


def writes(server) -> list[tuple[str, str]]:
    return [r for r in server.requests if r[0] in ("PUT", "PATCH", "DELETE")]


def assert_no_secret(replies) -> None:
    text = json.dumps(replies, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text, secret


def add_target(host, name, server, key=MGMT_KEY, default=False):
    params = {"target": name, "management_url": server.url, "management_key": key}
    if default:
        params["make_default"] = True
    reply = host.call("settings.set", params)
    assert reply["ok"], reply
    return reply["result"]


def _targets(host, servers):
    """Register ``servers`` as targets ("a" the default); at teardown, no secret in any reply."""
    for name, server in servers.items():
        add_target(host, name, server, default=name == "a")
    yield servers
    assert_no_secret(host.replies)


@pytest.fixture
def trio(host, cpa_factory):
    yield from _targets(host, {"a": cpa_factory(), "b": cpa_factory(), "c": cpa_factory()})


@pytest.fixture
def standin_trio(host, standin_factory):
    yield from _targets(
        host, {"a": standin_factory(), "b": standin_factory(), "c": standin_factory()}
    )


@pytest.fixture
def drifted(host, cpa_factory):
    yield from _targets(
        host,
        {
            "a": cpa_factory(initial_yaml=A_YAML),
            "b": cpa_factory(initial_yaml=B_YAML),
            "c": cpa_factory(),
        },
    )


FAN = {
    "site_name": "Fan",
    "site_url": "https://fan.example.invalid",
    "api_key": "sk-fan-key-0000000000",
    "models": [{"name": "gpt-4o"}],
}


@pytest.fixture
def standin_drifted(host, standin_factory):
    yield from _targets(
        host,
        {
            "a": standin_factory(initial_yaml=A_YAML),
            "b": standin_factory(initial_yaml=B_YAML),
            "c": standin_factory(),
        },
    )


def restart_on_same_port(server: StandinCLIProxyAPI, port: int) -> StandinCLIProxyAPI:
    return StandinCLIProxyAPI(server.config_path, secret=MGMT_KEY, port=port).start()


def test_settings_list_every_target_with_one_default(host, trio):
    result = host.call("settings.get")["result"]
    assert [(t["name"], t["default"], t["key_hint"]) for t in result["targets"]] == [
        ("a", True, hint(MGMT_KEY)),
        ("b", False, hint(MGMT_KEY)),
        ("c", False, hint(MGMT_KEY)),
    ]
    assert result["default_target"] == "a"


def test_fan_out_import_with_one_target_down_then_retry_only_that_one(host, standin_trio):
    trio = standin_trio
    a, b, c = trio["a"], trio["b"], trio["c"]
    port = c.port
    c.stop()
    reply = host.call("import", {**FAN, "targets": "all"})
    assert reply["ok"], reply
    result = reply["result"]
    assert result["summary"] == {"total": 3, "succeeded": 2, "failed": 1}
    assert result["failed_targets"] == ["c"]
    by_target = {r["target"]: r for r in result["results"]}
    assert by_target["a"]["ok"] and by_target["a"]["result"]["outcome"] == "succeeded"
    assert by_target["b"]["ok"] and by_target["b"]["result"]["action"] == "created"
    assert by_target["a"]["result"]["backup_id"] != by_target["b"]["result"]["backup_id"]
    assert by_target["c"]["error"]["code"] == "unreachable"
    for server in (a, b):
        assert server.config()[OPENAI][0]["api-key-entries"] == [
            {"api-key": "sk-fan-key-0000000000"}
        ]

    fixed = restart_on_same_port(c, port)
    try:
        a.reset_requests()
        b.reset_requests()
        retry = host.call("import", {**FAN, "targets": result["failed_targets"]})["result"]
        assert (
            retry["summary"] == {"total": 1, "succeeded": 1, "failed": 0}
            and retry["failed_targets"] == []
        )
        assert [r["target"] for r in retry["results"]] == ["c"]
        assert a.requests == [] and b.requests == [], "the retry went only to the failed target"
        assert fixed.config()[OPENAI][0]["name"] == "Fan"
        # "all" again: nothing left to do anywhere, no write
        again = host.call("import", {**FAN, "targets": "all"})["result"]
        assert {r["result"]["action"] for r in again["results"]} == {"unchanged"}
        assert writes(a) == writes(b) == []
    finally:
        fixed.stop()


def test_fan_out_batch_with_one_target_down_then_retry_only_that_one(host, standin_trio):
    trio = standin_trio
    a, b, c = trio["a"], trio["b"], trio["c"]
    port = c.port
    c.stop()
    items = [FAN, {**FAN, "api_key": "sk-fan-key-1111111111"}]
    result = host.call("import.batch", {"items": items, "targets": "all"})["result"]
    assert result["summary"] == {"total": 3, "succeeded": 2, "failed": 1}
    assert result["failed_targets"] == ["c"]
    fixed = restart_on_same_port(c, port)
    try:
        a.reset_requests()
        b.reset_requests()
        retry = host.call("import.batch", {"items": items, "targets": result["failed_targets"]})[
            "result"
        ]
        assert (
            retry["failed_targets"] == []
            and retry["results"][0]["result"]["summary"]["created"] == 1
        )
        assert a.requests == [] and b.requests == []
        assert len(fixed.config()[OPENAI][0]["api-key-entries"]) == 2
    finally:
        fixed.stop()


def test_fan_out_with_a_rejected_key_then_retry_after_fixing_it(host, trio):
    a, b, c = trio["a"], trio["b"], trio["c"]
    add_target(host, "b", b, key="wrong-mgmt-key-000000")
    result = host.call("import", {**FAN, "targets": ["a", "b", "c"]})["result"]
    assert result["summary"]["failed"] == 1 and result["failed_targets"] == ["b"]
    assert result["results"][1]["error"]["code"] == "unauthorized"
    assert host.call("settings.get")["result"]["targets"][1]["key_rejected"] is True
    # not fixed yet: the host does not try the rejected key again (no request at all)
    b.reset_requests()
    blocked = host.call("import", {**FAN, "targets": ["b"]})["result"]
    assert blocked["results"][0]["error"]["code"] == "auth_blocked" and b.requests == []
    add_target(host, "b", b)
    a.reset_requests()
    c.reset_requests()
    items = [FAN, {**FAN, "api_key": "sk-a-key-1111111111", "provider_type": CLAUDE}]
    retry = host.call("import.batch", {"items": items, "targets": result["failed_targets"]})[
        "result"
    ]
    assert (
        retry["summary"]["succeeded"] == 1
        and retry["results"][0]["result"]["summary"]["created"] == 2
    )
    assert a.requests == [] and c.requests == []
    assert len(b.requests) == 6
    assert b.config()[CLAUDE][0]["api-key"] == "sk-a-key-1111111111"


def test_targets_are_written_concurrently(host, standin_trio):
    trio = standin_trio
    for server in trio.values():
        server.faults.delay_seconds = 0.5
    started = time.monotonic()
    result = host.call("import", {**FAN, "targets": "all"}, timeout=60)["result"]
    elapsed = time.monotonic() - started
    assert result["summary"]["succeeded"] == 3
    # each target needs three requests of 0.5 s: 4.5 s one after another
    assert elapsed < 3.5, elapsed


def test_a_write_answered_500_is_uncertain_but_reported_per_target(host, standin_trio):
    trio = standin_trio
    trio["c"].faults.fail_next_writes = 5
    result = host.call("import", {**FAN, "targets": "all"})["result"]
    by_target = {r["target"]: r for r in result["results"]}
    assert by_target["c"]["ok"] and by_target["c"]["result"]["outcome"] == "uncertain"
    assert by_target["c"]["result"]["read_back"] == "not_applied"
    assert by_target["a"]["result"]["outcome"] == by_target["b"]["result"]["outcome"] == "succeeded"


def test_drift_shows_which_target_lacks_which_key(host, drifted):
    result = host.call("providers.drift")["result"]
    assert result["targets"] == ["a", "b", "c"]
    assert result["summary"] == {
        "targets": 3,
        "providers": 3,
        "in_sync": 0,
        "drifted": 3,
        "missing_providers": 5,
        "missing_keys": 7,
    }
    relay = next(r for r in result["lists"][OPENAI] if r["name"] == "Relay")
    assert relay["present_on"] == ["a", "b"] and relay["missing_on"] == ["c"]
    assert relay["names"] == {"a": "Relay", "b": "relay"}
    keys = {k["key_hint"]: (k["present_on"], k["missing_on"]) for k in relay["keys"]}
    assert keys == {
        hint("sk-a-key-1111111111"): (["a", "b"], ["c"]),
        hint("sk-a-key-2222222222"): (["a"], ["b", "c"]),
    }
    only_b = next(r for r in result["lists"][OPENAI] if r["name"] == "OnlyB")
    assert only_b["missing_on"] == ["a", "c"]
    claude = result["lists"][CLAUDE][0]
    assert claude["present_on"] == ["a"] and claude["keys"][0]["key_hint"] == hint(
        "sk-claude-a-333333333"
    )
    # key ids match providers.list's, so the page can point at them
    listed = host.call("providers.list", {"target": "a", "list": OPENAI})["result"]["lists"][
        OPENAI
    ][0]
    assert {k["key_id"] for k in relay["keys"]} == set(listed["key_ids"])
    assert relay["entry_ids"]["a"] == listed["entry_id"]
    # two targets only
    pair = host.call("providers.drift", {"targets": ["a", "b"], "list": OPENAI})["result"]
    assert pair["summary"]["drifted"] == 2 and pair["summary"]["missing_keys"] == 2


def test_sync_copies_what_is_missing_never_deletes_and_is_undone_per_target(host, drifted):
    a, b, c = drifted["a"], drifted["b"], drifted["c"]
    b_before = kept_lists(b)
    dry = host.call("providers.sync", {"from_target": "a", "to_targets": "all", "dry_run": True})[
        "result"
    ]
    assert dry["summary"] == {"total": 2, "succeeded": 2, "failed": 0}
    assert all(writes(s) == [] for s in drifted.values())
    b_dry = dry["results"][0]["result"]
    assert b_dry["summary"]["keys_added"] == 2 and b_dry["lists"][OPENAI]["outcome"] == "dry_run"

    a.reset_requests()
    result = host.call("providers.sync", {"from_target": "a", "to_targets": ["b", "c"]})["result"]
    assert result["summary"]["succeeded"] == 2 and result["failed_targets"] == []
    assert writes(a) == [], "the source is only read"
    rb = result["results"][0]["result"]
    assert rb["lists"][OPENAI]["request"]["method"] == "PATCH"  # a key added to b's "relay"
    assert (
        rb["lists"][OPENAI]["outcome"] == "succeeded"
        and rb["lists"][CLAUDE]["outcome"] == "succeeded"
    )
    b_relay, only_b = b.config()[OPENAI]
    assert b_relay["name"] == "relay" and [e["api-key"] for e in b_relay["api-key-entries"]] == [
        "sk-a-key-1111111111",
        "sk-a-key-2222222222",
    ]
    assert b_relay["api-key-entries"][1].get("weight") == (None if "weight" in b.drops else 3)
    assert only_b == b_before[OPENAI][1], "never deletes or changes what the source lacks"
    # (compared as the servers keep them: "a" is only read, so its hand-written file is as it was)
    assert kept_lists(c)[OPENAI][0] == kept_lists(a)[OPENAI][0], (
        "a missing provider is copied with its settings"
    )
    assert kept_lists(c)[CLAUDE] == kept_lists(a)[CLAUDE]

    after = host.call("providers.drift")["result"]
    assert after["summary"]["in_sync"] == 2 and after["summary"]["drifted"] == 1
    assert [r["name"] for r in after["lists"][OPENAI]] == ["OnlyB"]
    # nothing left to copy: no write
    b.reset_requests()
    again = host.call("providers.sync", {"from_target": "a", "to_targets": ["b"]})["result"]
    assert again["results"][0]["result"]["summary"]["keys_added"] == 0 and writes(b) == []

    # undo the sync on b: exactly as before
    for name in (OPENAI, CLAUDE):
        backup = rb["lists"][name]["backup_id"]
        undo = host.call("history.undo", {"target": "b", "backup_id": backup})
        assert undo["ok"] and undo["result"]["outcome"] == "succeeded", undo
    # (an emptied list stays in config.yaml as "[]" where it was absent before: the same config)
    assert kept_lists(b) == b_before


def test_sync_of_one_drift_row(host, drifted):
    a, b, c = drifted["a"], drifted["b"], drifted["c"]
    drift = host.call("providers.drift", {"list": CLAUDE})["result"]
    row = drift["lists"][CLAUDE][0]
    result = host.call(
        "providers.sync",
        {"from_target": "a", "to_targets": row["missing_on"], "entry_ids": [row["entry_ids"]["a"]]},
    )["result"]
    assert result["summary"]["succeeded"] == 2
    assert kept_lists(b)[CLAUDE] == kept_lists(c)[CLAUDE] == kept_lists(a)[CLAUDE]
    assert [p["name"] for p in b.config()[OPENAI]] == ["relay", "OnlyB"] and not c.config()[OPENAI]
    missing = host.call(
        "providers.sync", {"from_target": "a", "to_targets": ["b"], "entry_ids": ["0123456789ab"]}
    )
    assert missing["error"]["code"] == "not_found"
    empty = host.call("providers.sync", {"from_target": "a", "to_targets": []})
    assert (
        empty["error"]["code"] == "invalid_request"
        and empty["error"]["details"]["field"] == "params.to_targets"
    )


def test_sync_with_a_failing_target_then_retry(host, standin_drifted):
    drifted = standin_drifted
    b, c = drifted["b"], drifted["c"]
    c.faults.get_garbage = "non_json"
    result = host.call("providers.sync", {"from_target": "a", "to_targets": "all"})["result"]
    assert result["failed_targets"] == ["c"]
    err = result["results"][1]["error"]
    assert err["code"] == "bad_response" and err["details"]["lists"][OPENAI]["action"] == "failed"
    assert writes(c) == []
    c.faults.get_garbage = None
    b.reset_requests()
    retry = host.call(
        "providers.sync", {"from_target": "a", "to_targets": result["failed_targets"]}
    )["result"]
    assert retry["summary"]["succeeded"] == 1 and b.requests == []
    assert [p["name"] for p in c.config()[OPENAI]] == ["Relay"]


def test_sync_reports_name_conflicts_per_key(host, cpa_factory):
    a = cpa_factory(initial_yaml=A_YAML)
    b = cpa_factory(
        initial_yaml=A_YAML.replace(
            "https://relay.example.invalid/v1", "https://elsewhere.invalid/v1"
        )
    )
    add_target(host, "a", a, default=True)
    add_target(host, "b", b)
    result = host.call("providers.sync", {"from_target": "a", "to_targets": ["b"], "list": OPENAI})[
        "result"
    ]
    res = result["results"][0]["result"]
    assert res["summary"]["failed"] == 2
    assert {e["code"] for e in res["lists"][OPENAI]["errors"]} == {"name_conflict"}
    assert writes(b) == []
    renamed = host.call(
        "providers.sync",
        {"from_target": "a", "to_targets": ["b"], "list": OPENAI, "on_name_conflict": "rename"},
    )["result"]
    assert renamed["results"][0]["result"]["summary"]["providers_created"] == 1
    assert [p["name"] for p in b.config()[OPENAI]] == ["Relay", "Relay-2"]
    assert_no_secret(host.replies)


def test_sync_refuses_bad_targets(host, drifted):
    assert (
        host.call("providers.sync", {"from_target": "a", "to_targets": ["a"]})["error"]["code"]
        == "invalid_request"
    )
    assert (
        host.call("providers.sync", {"from_target": "zz", "to_targets": "all"})["error"]["code"]
        == "not_found"
    )
    assert (
        host.call("providers.sync", {"from_target": "a", "to_targets": ["zz"]})["error"]["code"]
        == "not_found"
    )


def test_drift_with_an_unreachable_target_compares_the_others(host, standin_drifted):
    drifted = standin_drifted
    drifted["c"].stop()
    result = host.call("providers.drift")["result"]
    assert result["targets"] == ["a", "b"] and result["failed_targets"] == ["c"]
    assert result["errors"][0]["error"]["code"] == "unreachable" and result["warnings"]


def test_cli_targets_drift_and_sync(cli, host, cpa_factory):
    a = cpa_factory(initial_yaml=A_YAML)
    b = cpa_factory(initial_yaml=B_YAML)
    added = cli("targets", "add", "a", "--url", a.url, "--key", "--default", stdin=MGMT_KEY + "\n")
    assert added.code == 0, added.err
    assert cli("targets", "add", "b", "--url", b.url, "--key", stdin=MGMT_KEY + "\n").code == 0
    assert cli("targets", "add", "spare", "--url", "http://127.0.0.1:9").code == 0
    listed = cli("targets", "list")
    assert (
        listed.code == 0
        and "* a: " in listed.out
        and "  b: " in listed.out
        and MGMT_KEY not in listed.out
    )
    as_json = cli("--json", "targets", "list").json()["result"]
    assert [t["name"] for t in as_json["targets"]] == ["a", "b", "spare"]
    assert cli("targets", "default", "b").code == 0
    assert cli("--json", "targets", "list").json()["result"]["default_target"] == "b"
    assert cli("targets", "default", "nope").code == 8
    assert cli("targets", "remove", "spare").code == 0
    assert cli("targets", "remove", "spare").code == 8

    drift = cli("providers", "drift")
    assert drift.code == 0, drift.err
    assert "missing on b" in drift.out and hint("sk-a-key-2222222222") in drift.out
    multi = cli("providers", "--targets", "all")
    assert multi.code == 0 and "== a" in multi.out and "== b" in multi.out
    dry = cli("providers", "sync", "--from", "a", "--to", "b", "--dry-run")
    assert dry.code == 0 and "would sync" in dry.out and writes(b) == []
    synced = cli("--json", "providers", "sync", "--from", "a", "--to", "b")
    assert synced.code == 0, synced.out + synced.err
    assert synced.json()["result"]["results"][0]["result"]["summary"]["keys_added"] == 2
    in_sync = cli("--json", "providers", "drift", "--targets", "a,b").json()["result"]
    assert in_sync["summary"]["missing_keys"] == 1  # OnlyB's key is on b only; sync never deletes
    for result in (added, listed, drift, multi, dry, synced):
        for secret in SECRETS:
            assert secret not in result.out + result.err
