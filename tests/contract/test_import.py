"""The import engine against the stand-in CLIProxyAPI, through host frames and the CLI."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import yaml

from tests.conftest import MGMT_KEY
from tests.masks import hint
from tests.real.plugin import kept_lists, served, without_dropped
from tests.standin.plugin import UPSTREAM_KEY, UPSTREAM_MODELS

OPENAI = "openai-compatibility"

PRESERVE_YAML = """\
# user's config
port: 8317
openai-compatibility:
  - name: Relay
    base-url: https://relay.example.invalid/v1
    prefix: team
    headers:
      X-Custom: keep-me
    api-key-entries:
      - api-key: sk-old-key-1111111111
        weight: 7
        proxy-url: socks5://127.0.0.1:1080
      - api-key: sk-old-key-2222222222
    models:
      - name: gpt-4o
        alias: 4o
  - name: Untouched
    base-url: https://untouched.example.invalid/v1
    api-key-entries:
      - api-key: sk-untouched-333333333
        weight: 2
claude-api-key:
  - api-key: sk-claude-44444444444
    base-url: https://claude.example.invalid
    proxy-url: http://127.0.0.1:3128
"""


def writes(server) -> list[tuple[str, str]]:
    return [r for r in server.requests if r[0] in ("PUT", "PATCH", "DELETE")]


def provider(server, name, list_name=OPENAI):
    return next(p for p in server.config().get(list_name) or [] if p.get("name") == name)


def _configured(host, server):
    assert host.call("settings.set", {"management_url": server.url, "management_key": MGMT_KEY})[
        "ok"
    ]
    return server


@pytest.fixture
def relay(host, cpa_factory):
    return _configured(host, cpa_factory(initial_yaml=PRESERVE_YAML))


def test_create_with_models_fetched_from_the_site(host, cpa_configured, upstream):
    reply = host.call(
        "import", {"site_name": "  My Relay ", "site_url": upstream.url, "api_key": UPSTREAM_KEY}
    )
    assert reply["ok"], reply
    result = reply["result"]
    assert result["action"] == "created" and result["outcome"] == "succeeded"
    assert result["provider_name"] == "My Relay"
    assert result["base_url"] == upstream.url + "/v1"
    assert result["backup_id"]
    created = provider(cpa_configured, "My Relay")
    assert created["base-url"] == upstream.url + "/v1"
    assert created["api-key-entries"] == [{"api-key": UPSTREAM_KEY}]
    assert sorted(m["name"] for m in created["models"]) == sorted(UPSTREAM_MODELS)
    assert all(m["alias"] == m["name"] for m in created["models"])
    assert UPSTREAM_KEY not in json.dumps(result)


def test_create_when_models_cannot_be_fetched_says_so(host, cpa_configured):
    reply = host.call(
        "import",
        {"site_name": "Dead", "site_url": "http://127.0.0.1:9/", "api_key": "sk-dead-0123456789ab"},
    )
    result = reply["result"]
    assert result["action"] == "created"
    assert any("model list" in w for w in result["warnings"])


def test_update_appends_key_preserving_everything_byte_for_byte(host, relay):
    before_yaml = relay.yaml_text()
    before = yaml.safe_load(before_yaml)
    reply = host.call(
        "import",
        {
            "site_name": "relay",
            "site_url": "https://relay.example.invalid",
            "api_key": "sk-new-key-5555555555",
            "models": [{"name": "o3"}],
        },
    )
    result = reply["result"]
    assert result["action"] == "updated" and result["outcome"] == "succeeded", reply
    assert [c["op"] for c in result["changes"]] == ["add_key", "add_models"]
    assert result["request"]["method"] == "PATCH"
    after = relay.config()
    relay_after = after[OPENAI][0]
    before = without_dropped(relay, before)  # what this server keeps of a hand-written file at all
    assert relay_after["api-key-entries"][:2] == before[OPENAI][0]["api-key-entries"]
    assert relay_after["api-key-entries"][2] == {"api-key": "sk-new-key-5555555555"}
    assert relay_after["models"] == [
        {"name": "gpt-4o", "alias": "4o"},
        {"name": "o3", "alias": "o3"},
    ]
    assert relay_after["headers"] == {"X-Custom": "keep-me"} and relay_after["prefix"] == "team"
    assert after[OPENAI][1] == before[OPENAI][1]
    assert after["claude-api-key"] == before["claude-api-key"]
    # the per-key lines and the unrelated provider are byte-for-byte the same in the YAML
    text = relay.yaml_text()
    for line in (
        "weight: 7",
        "proxy-url: socks5://127.0.0.1:1080",
        "name: Untouched",
        "weight: 2",
        "proxy-url: http://127.0.0.1:3128",
    ):
        assert line in text or "weight" in relay.drops


def test_reimport_is_unchanged_with_zero_writes(host, relay):
    params = {
        "site_name": "Relay",
        "site_url": "https://relay.example.invalid",
        "api_key": "sk-old-key-1111111111",
    }
    relay.reset_requests()
    result = host.call("import", params)["result"]
    assert result["action"] == "unchanged" and result["backup_id"] is None
    assert writes(relay) == []
    assert relay.requests == [("GET", "/v0/management/" + OPENAI)]


def test_name_conflict_and_its_resolutions(host, relay):
    params = {
        "site_name": "RELAY",
        "site_url": "https://mirror.example.invalid",
        "api_key": "sk-mirror-66666666",
    }
    error = host.call("import", params)["error"]
    assert error["code"] == "name_conflict"
    assert error["details"]["existing_base_url"] == "https://relay.example.invalid/v1"
    assert error["details"]["base_url"] == "https://mirror.example.invalid/v1"
    assert writes(relay) == []
    renamed = host.call(
        "import", {**params, "on_name_conflict": "rename", "models": [{"name": "m"}]}
    )["result"]
    assert renamed["provider_name"] == "RELAY-2" and renamed["action"] == "created"
    assert provider(relay, "Relay")["base-url"] == "https://relay.example.invalid/v1"


def test_versioned_paths_are_kept(host, cpa_configured):
    for site, expected in [
        ("https://open.example.invalid/api/paas/v4", "https://open.example.invalid/api/paas/v4"),
        ("https://g.example.invalid/v1beta/openai/", "https://g.example.invalid/v1beta/openai"),
    ]:
        result = host.call(
            "import",
            {
                "site_name": site,
                "site_url": site,
                "api_key": "sk-versioned-0123456",
                "models": [{"name": "glm-4"}],
            },
        )["result"]
        assert result["base_url"] == expected
    urls = [p["base-url"] for p in cpa_configured.config()[OPENAI]]
    assert urls == [
        "https://open.example.invalid/api/paas/v4",
        "https://g.example.invalid/v1beta/openai",
    ]


def test_dry_run_never_writes_and_shows_the_request(host, relay):
    relay.reset_requests()
    result = host.call(
        "import",
        {
            "site_name": "Relay",
            "site_url": "https://relay.example.invalid",
            "api_key": "sk-new-key-7777777777",
            "dry_run": True,
        },
    )["result"]
    assert result["outcome"] == "dry_run" and result["action"] == "updated"
    assert result["request"]["method"] == "PATCH"
    entries = result["request"]["body"]["value"]["api-key-entries"]
    assert entries[-1] == {"api-key": hint("sk-new-key-7777777777")}
    assert "sk-new-key-7777777777" not in json.dumps(result)
    assert writes(relay) == []


def test_preview_then_conflict_when_the_list_changed(host, relay):
    params = {
        "site_name": "Relay",
        "site_url": "https://relay.example.invalid",
        "api_key": "sk-new-key-8888888888",
    }
    preview = host.call("import", {**params, "dry_run": True})["result"]
    # someone edits the list in between (the CLIProxyAPI panel, another tool)
    import httpx

    httpx.patch(
        relay.management_url + "/" + OPENAI,
        headers={"Authorization": f"Bearer {MGMT_KEY}"},
        json={"name": "Untouched", "value": {"disabled": True}},
    )
    error = host.call("import", {**params, "expect_list_hash": preview["list_hash"]})["error"]
    assert error["code"] == "conflict"
    assert all(
        e.get("api-key") != "sk-new-key-8888888888"
        for e in provider(relay, "Relay")["api-key-entries"]
    )
    # without the change, the preview hash is accepted
    fresh = host.call("import", {**params, "dry_run": True})["result"]
    assert (
        host.call("import", {**params, "expect_list_hash": fresh["list_hash"]})["result"]["action"]
        == "updated"
    )


def test_claude_and_gemini_lists(host, relay):
    r1 = host.call(
        "import",
        {
            "site_name": "C",
            "site_url": "https://c.example.invalid/v1",
            "api_key": "sk-claude-new-9999999",
            "provider_type": "claude-api-key",
        },
    )["result"]
    assert r1["action"] == "created" and r1["base_url"] == "https://c.example.invalid"
    r2 = host.call(
        "import",
        {
            "site_name": "G",
            "site_url": "https://g.example.invalid/v1beta",
            "api_key": "AIza-gemini-000000000",
            "provider_type": "gemini-api-key",
        },
    )["result"]
    assert r2["action"] == "created"
    config = relay.config()
    assert config["claude-api-key"][0]["proxy-url"] == "http://127.0.0.1:3128", (
        "existing entry untouched"
    )
    assert config["claude-api-key"][1]["api-key"] == "sk-claude-new-9999999"
    assert config["gemini-api-key"][0]["base-url"] == "https://g.example.invalid"


def test_batch_200_keys_20_sites_2_types_in_3_requests_per_list(host, cpa_configured):
    items = []
    for site in range(20):
        kind = OPENAI if site % 2 == 0 else "claude-api-key"
        for k in range(10):
            items.append(
                {
                    "site_name": f"Site {site}",
                    "site_url": f"https://s{site}.example.invalid",
                    "api_key": f"sk-s{site:02d}-k{k:02d}-0123456789",
                    "provider_type": kind,
                    "models": [{"name": "m1"}],
                }
            )
    cpa_configured.reset_requests()
    reply = host.call("import.batch", {"items": items}, timeout=60)
    assert reply["ok"], reply
    result = reply["result"]
    assert result["summary"]["failed"] == 0 and result["summary"]["total"] == 200
    assert result["requests_sent"] <= 6
    per_list = {}
    for method, path in cpa_configured.requests:
        per_list.setdefault(path.rsplit("/", 1)[-1], []).append(method)
    assert per_list == {OPENAI: ["GET", "PUT", "GET"], "claude-api-key": ["GET", "PUT", "GET"]}
    config = cpa_configured.config()
    assert len(config[OPENAI]) == 10
    assert all(len(p["api-key-entries"]) == 10 for p in config[OPENAI])
    assert len(config["claude-api-key"]) == 100
    # again: everything unchanged, no write
    cpa_configured.reset_requests()
    again = host.call("import.batch", {"items": items}, timeout=60)["result"]
    assert again["summary"]["unchanged"] == 200 and not writes(cpa_configured)


def test_a_batch_fetches_the_model_lists_of_many_sites_at_once_up_to_eight(
    host, configured, upstream_factory
):
    # ten sites (ten servers) that each take 0.3 s to list their models: fetched one after
    # another, no two requests would overlap; at most eight are in flight at a time
    sites = [
        upstream_factory(api_key=f"sk-site-{i:02d}-0123456789", delay_seconds=0.3)
        for i in range(10)
    ]
    items = [
        {"site_name": f"Site {i}", "site_url": site.url, "api_key": f"sk-site-{i:02d}-0123456789"}
        for i, site in enumerate(sites)
    ]
    reply = host.call("import.batch", {"items": items}, timeout=60)
    assert reply["ok"], reply
    assert reply["result"]["summary"]["created"] == 10
    # the list's request preview (all ten providers again) is not part of a batch's answer
    assert set(reply["result"]["lists"][OPENAI]) == {
        "action",
        "outcome",
        "backup_id",
        "list_hash",
        "read_back",
        "warnings",
        "warning_codes",
    }
    assert all(
        item["result"]["warnings"] == [] and not item["result"]["dry_run"]
        for item in reply["result"]["items"]
    )
    created = {p["base-url"]: p for p in configured.config()[OPENAI]}
    assert all(
        sorted(m["name"] for m in created[site.url + "/v1"]["models"]) == sorted(UPSTREAM_MODELS)
        for site in sites
    )
    spans = [span for site in sites for span in site.spans]
    assert len(spans) == 10
    in_flight = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert 2 <= in_flight <= 8, in_flight


def test_batch_with_an_invalid_item_sends_nothing(host, cpa_configured):
    items = [
        {
            "site_name": "ok",
            "site_url": "https://ok.example.invalid",
            "api_key": "sk-ok-0123456789",
        },
        {"site_name": "bad", "site_url": "javascript:alert(1)", "api_key": "sk-bad-0123456789"},
    ]
    cpa_configured.reset_requests()
    error = host.call("import.batch", {"items": items})["error"]
    assert error["code"] == "invalid_request" and error["details"]["items"][0]["index"] == 1
    assert cpa_configured.requests == []


def test_undo_restores_the_exact_previous_list(host, relay):
    before = kept_lists(relay)
    served_before = served(relay)
    result = host.call(
        "import",
        {
            "site_name": "Relay",
            "site_url": "https://relay.example.invalid",
            "api_key": "sk-undo-me-000000000",
        },
    )["result"]
    assert kept_lists(relay) != before
    history = host.call("history.list")["result"]["entries"]
    assert history[0]["backup_id"] == result["backup_id"] and history[0]["outcome"] == "succeeded"
    undo = host.call("history.undo", {"backup_id": result["backup_id"]})["result"]
    assert undo["outcome"] == "succeeded" and undo["restored"] == result["backup_id"]
    assert kept_lists(relay) == before
    # the list as CLIProxyAPI serves it is exactly the one served before the import
    assert served(relay) == served_before


def test_undo_refuses_when_the_list_changed_since_unless_forced(host, relay):
    first = host.call(
        "import",
        {
            "site_name": "Relay",
            "site_url": "https://relay.example.invalid",
            "api_key": "sk-first-0000000000",
        },
    )["result"]
    host.call(
        "import",
        {
            "site_name": "New",
            "site_url": "https://new.example.invalid",
            "api_key": "sk-second-000000000",
            "models": [{"name": "m"}],
        },
    )
    error = host.call("history.undo", {"backup_id": first["backup_id"]})["error"]
    assert error["code"] == "conflict"
    forced = host.call("history.undo", {"backup_id": first["backup_id"], "force": True})["result"]
    assert forced["outcome"] == "succeeded"
    names = [p["name"] for p in relay.config()[OPENAI]]
    assert names == ["Relay", "Untouched"]


def test_undo_defaults_to_the_latest_write(host, relay):
    host.call(
        "import",
        {
            "site_name": "New",
            "site_url": "https://new.example.invalid",
            "api_key": "sk-latest-00000000",
            "models": [{"name": "m"}],
        },
    )
    assert host.call("history.undo")["result"]["outcome"] == "succeeded"
    assert [p["name"] for p in relay.config()[OPENAI]] == ["Relay", "Untouched"]


def _import_key(proc, key):
    return proc.call(
        "import",
        {
            "site_name": "Shared",
            "site_url": "https://shared.example.invalid",
            "api_key": key,
            "models": [{"name": "m"}],
        },
    )


def _run_each(hosts, run):
    """``run(proc, n)`` for every host at once, each in its own thread; returns when all end."""
    threads = [threading.Thread(target=run, args=(proc, n)) for n, proc in enumerate(hosts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_two_host_processes_importing_at_once_lose_no_key(host_factory, cpa_configured, host):
    hosts = [host_factory() for _ in range(2)]
    errors = []

    def run(proc, n):
        for i in range(8):
            reply = _import_key(proc, f"sk-p{n}-k{i}-0123456789")
            if not reply["ok"]:
                errors.append(reply)

    _run_each(hosts, run)
    assert not errors
    providers = cpa_configured.config()[OPENAI]
    assert len(providers) == 1, "no duplicate providers"
    keys = {e["api-key"] for e in providers[0]["api-key-entries"]}
    assert keys == {f"sk-p{n}-k{i}-0123456789" for n in range(2) for i in range(8)}


def test_an_import_reaching_the_server_during_its_config_reload_waits_and_no_key_is_lost(
    host, configured
):
    """The stand-in reloads like CLIProxyAPI (reload_race): a write landing between the reload's
    file read and its swap would be reverted, then overwritten by the next write. The host paces
    writes, so the second import reaches the server only after the reload."""
    configured.faults.reload_race = True
    configured.faults.reload_seconds = 0.06  # closes early when a write lands in it
    keys = [f"sk-reload-{i}-0123456789" for i in range(3)]
    first = _import_key(host, keys[0])
    assert first["ok"] and first["result"]["outcome"] == "succeeded", first
    assert configured.reload_started.wait(2)
    for key in keys[1:]:  # the first of these would land in the reload, unpaced
        reply = _import_key(host, key)
        assert reply["ok"] and reply["result"]["outcome"] == "succeeded", (
            reply["result"]["warnings"],
            configured.requests,
            configured.reverted_writes,
        )
    time.sleep(0.5)  # every reload has run
    assert configured.reverted_writes == 0
    on_disk = {e["api-key"] for e in configured.config()[OPENAI][0]["api-key-entries"]}
    in_memory = {e["api-key"] for e in configured.memory()[OPENAI][0]["api-key-entries"]}
    assert on_disk == in_memory == set(keys)


def test_back_to_back_imports_from_two_processes_through_the_reload_lose_no_key(
    host_factory, configured
):
    configured.faults.reload_race = True
    configured.faults.reload_seconds = 0.06
    hosts = [host_factory() for _ in range(2)]
    errors = []

    def run(proc, n):
        for i in range(4):
            reply = _import_key(proc, f"sk-p{n}-k{i}-0123456789")
            if not reply["ok"] or reply["result"]["outcome"] != "succeeded":
                errors.append(reply)
            time.sleep(0.07 * (i % 3))  # some writes well apart, some in quick succession

    _run_each(hosts, run)
    time.sleep(0.5)  # every reload has run
    assert not errors, [
        {k: e["result"][k] for k in ("outcome", "read_back", "warnings")} if e["ok"] else e["error"]
        for e in errors
    ]
    # a quick write the reload caught anyway, on a busy machine (configured.reverted_writes > 0),
    # was sent again once the reload was over: every key is in memory and on disk
    keys = {f"sk-p{n}-k{i}-0123456789" for n in range(2) for i in range(4)}
    on_disk = {e["api-key"] for e in configured.config()[OPENAI][0]["api-key-entries"]}
    in_memory = {e["api-key"] for e in configured.memory()[OPENAI][0]["api-key-entries"]}
    assert on_disk == in_memory == keys


#: One new provider, for the fault tests below.
ITEM_X = {
    "site_name": "X",
    "site_url": "https://x.example.invalid",
    "api_key": "sk-x-000000000000",
    "models": [{"name": "m"}],
}


def test_put_failing_with_500_failed_to_save_is_not_saved_with_a_backup(host, configured):
    configured.faults.save_fails = True
    before_disk = configured.config()
    result = host.call("import", ITEM_X)["result"]
    assert result["outcome"] == "not_saved"
    assert result["read_back"] == "applied"  # in memory only
    assert any("config file" in w and "restarts" in w for w in result["warnings"])
    assert result["backup_id"]
    assert configured.config() == before_disk, "nothing reached the file"


def test_write_refused_without_applying_is_an_error_and_no_backup(host, configured):
    configured.faults.fail_next_writes = 1
    reply = host.call("import", ITEM_X)
    # a 500 after sending is uncertain: the read-back shows it was not applied
    result = reply["result"]
    assert result["outcome"] == "uncertain" and result["read_back"] == "not_applied"
    assert configured.config()[OPENAI] == []


def test_dropped_connection_after_the_write_is_uncertain_but_applied(host, configured):
    configured.faults.drop_after_write = True
    result = host.call("import", ITEM_X)["result"]
    assert result["outcome"] == "uncertain" and result["read_back"] == "applied"
    assert configured.config()[OPENAI][0]["name"] == "X"


@pytest.fixture
def standin_relay(host, standin_factory):
    """The relay config on the stand-in, for fault injection."""
    return _configured(host, standin_factory(initial_yaml=PRESERVE_YAML))


@pytest.mark.parametrize("garbage", ["non_json", "no_list", "wrong_type", "null"])
def test_garbage_get_never_writes(host, standin_relay, garbage):
    relay = standin_relay
    before = relay.yaml_text()
    relay.faults.get_garbage = garbage
    reply = host.call(
        "import",
        {
            "site_name": "Relay",
            "site_url": "https://relay.example.invalid",
            "api_key": "sk-garbage-0000000",
        },
        timeout=60,
    )
    assert reply["error"]["code"] == "bad_response"
    assert writes(relay) == []
    assert relay.yaml_text() == before


def test_a_huge_but_valid_list_is_handled_within_the_reply_limit(host, standin_relay):
    relay = standin_relay
    relay.faults.get_garbage = "huge"  # ~8 MiB: some 40,000 providers
    reply = host.call(
        "import",
        {
            "site_name": "Relay",
            "site_url": "https://relay.example.invalid",
            "api_key": "sk-huge-0000000000",
            "models": [{"name": "m"}],
            "dry_run": True,
        },
        timeout=60,
    )
    assert reply["ok"], reply["error"]
    assert reply["result"]["action"] == "created" and reply["result"]["request"]["entries"] > 30000
    assert reply["_size"] < 64 * 1024


def test_providers_list_masks_keys(host, relay):
    result = host.call("providers.list")["result"]
    relay_p = result["lists"][OPENAI][0]
    assert relay_p["key_count"] == 2 and relay_p["keys"] == [
        hint("sk-old-key-1111111111"),
        hint("sk-old-key-2222222222"),
    ]
    assert result["lists"]["claude-api-key"][0]["keys"] == [hint("sk-claude-44444444444")]
    assert "sk-old-key-1111111111" not in json.dumps(result)


def test_cli_import_history_undo_providers(cli, relay, host):
    dry = cli(
        "--json",
        "import",
        "--site-name",
        "CLI",
        "--site-url",
        "https://cli.example.invalid",
        "--model",
        "gpt-4o=4o",
        "--dry-run",
        stdin="sk-cli-key-000000000\n",
    )
    assert dry.code == 0, dry.err
    assert dry.json()["result"]["outcome"] == "dry_run"
    assert writes(relay) == []
    real = cli(
        "import",
        "--site-name",
        "CLI",
        "--site-url",
        "https://cli.example.invalid",
        "--model",
        "gpt-4o=4o",
        stdin="sk-cli-key-000000000\n",
    )
    assert real.code == 0, real.err
    assert "created" in real.out and hint("sk-cli-key-000000000") in real.out
    assert "sk-cli-key-000000000" not in real.out + real.err
    assert provider(relay, "CLI")["models"] == [{"name": "gpt-4o", "alias": "4o"}]
    hist = cli("history")
    assert hist.code == 0 and "import" in hist.out
    prov = cli("providers")
    assert "CLI" in prov.out and "sk-old-key" not in prov.out
    undo = cli("undo")
    assert undo.code == 0 and "succeeded" in undo.out
    assert [p["name"] for p in relay.config()[OPENAI]] == ["Relay", "Untouched"]
    conflict = cli(
        "import",
        "--site-name",
        "relay",
        "--site-url",
        "https://other.example.invalid",
        stdin="sk-cli-key-111111111\n",
    )
    assert conflict.code == 7 and "name_conflict" in conflict.err


def test_cli_batch_file(cli, cpa_configured, tmp_path, host):
    batch = tmp_path / "batch.json"
    batch.write_text(
        json.dumps(
            [
                {
                    "site_name": "A",
                    "site_url": "https://a.example.invalid",
                    "api_key": "sk-a-00000000000",
                    "models": [{"name": "m"}],
                },
                {
                    "site_name": "B",
                    "site_url": "https://b.example.invalid",
                    "api_key": "sk-b-00000000000",
                    "models": [{"name": "m"}],
                },
            ]
        )
    )
    res = cli("import", "--batch", str(batch))
    assert res.code == 0, res.err
    assert re.search(r"^2 created, 0 updated", res.out, re.M)
    assert [p["name"] for p in cpa_configured.config()[OPENAI]] == ["A", "B"]


OPTIONS = {"prefix": "team2", "priority": 5, "weight": 9, "headers": {"X-Org": "org-7"}}


def _option_dropped(server, field):
    return field in server.drops


def test_import_options_are_written_and_read_back(host, cpa_configured):
    server = cpa_configured
    result = host.call(
        "import",
        {
            "site_name": "Opt",
            "site_url": "https://opt.example.invalid",
            "api_key": "sk-opt-key-0000000000",
            "models": [{"name": "m"}],
            **OPTIONS,
        },
    )["result"]
    assert result["action"] == "created" and result["outcome"] == "succeeded", result
    expected_dropped = [f for f in ("weight",) if _option_dropped(server, f)]
    assert result["dropped_options"] == expected_dropped
    assert bool(expected_dropped) == any("did not keep weight" in w for w in result["warnings"])
    entry = provider(server, "Opt")
    assert (entry["prefix"], entry["priority"], entry["headers"]) == (
        "team2",
        5,
        {"X-Org": "org-7"},
    )
    assert entry["api-key-entries"][0].get("weight") == (None if expected_dropped else 9)
    assert "org-7" not in json.dumps(result), "header values are not echoed"
    for list_name, site in (
        ("claude-api-key", "https://opt-c.example.invalid"),
        ("gemini-api-key", "https://opt-g.example.invalid"),
    ):
        created = host.call(
            "import",
            {
                "site_name": "OptK",
                "site_url": site,
                "api_key": f"sk-opt-{list_name[:3]}-01",
                "provider_type": list_name,
                **OPTIONS,
            },
        )["result"]
        assert created["outcome"] == "succeeded", created
        entry = server.config()[list_name][-1]
        kept = {k: entry.get(k) for k in OPTIONS}
        want = {k: (None if k in server.drops else v) for k, v in OPTIONS.items()}
        assert kept == want and created["dropped_options"] == [
            k for k in OPTIONS if k in server.drops
        ]


def test_changing_an_existing_providers_priority_is_kept(host, relay):
    """v7.2.140 answers a PATCH of priority with ok and ignores it (fixed in v7.3.13): the host PUTs."""
    result = host.call(
        "import",
        {
            "site_name": "Relay",
            "site_url": "https://relay.example.invalid",
            "api_key": "sk-old-key-1111111111",
            "priority": 3,
        },
    )["result"]
    assert result["action"] == "updated" and result["outcome"] == "succeeded", result
    assert result["request"]["method"] == "PUT"
    assert [c for c in result["changes"] if c["op"] == "set_option"] == [
        {"op": "set_option", "field": "priority", "value": 3}
    ]
    assert provider(relay, "Relay")["priority"] == 3 and result["dropped_options"] == []
    again = host.call(
        "import",
        {
            "site_name": "Relay",
            "site_url": "https://relay.example.invalid",
            "api_key": "sk-old-key-1111111111",
            "priority": 3,
        },
    )["result"]
    assert again["action"] == "unchanged"


@pytest.mark.parametrize(
    "field, value",
    [
        ("priority", "high"),
        ("weight", 0),
        ("weight", 1_000_001),
        ("prefix", "a b"),
        ("prefix", "/"),
        ("headers", {"Bad Name": "x"}),
        ("headers", {"X-Ok": "line\nbreak"}),
    ],
)
def test_bad_options_are_refused_before_any_request(host, cpa_configured, field, value):
    cpa_configured.reset_requests()
    reply = host.call(
        "import",
        {
            "site_name": "Bad",
            "site_url": "https://bad.example.invalid",
            "api_key": "sk-bad-opt-000000000",
            field: value,
        },
    )
    assert reply["error"]["code"] == "invalid_request", reply
    assert reply["error"]["details"]["field"].startswith(f"params.{field}")
    assert cpa_configured.requests == []


def test_cli_import_options(cli, cpa_configured, host):
    res = cli(
        "import",
        "--site-name",
        "CliOpt",
        "--site-url",
        "https://cliopt.example.invalid",
        "--model",
        "m",
        "--prefix",
        "t",
        "--priority",
        "4",
        "--weight",
        "6",
        "--header",
        "X-Org: secret-org-value",
        stdin="sk-cli-opt-0000000000\n",
    )
    assert res.code == 0, res.err
    assert "set_option: priority = 4" in res.out and "set_option: headers = X-Org" in res.out
    assert "secret-org-value" not in res.out + res.err
    entry = provider(cpa_configured, "CliOpt")
    assert (entry["prefix"], entry["priority"], entry["headers"]) == (
        "t",
        4,
        {"X-Org": "secret-org-value"},
    )
    if "weight" in cpa_configured.drops:
        assert "did not keep weight" in res.out + res.err
    else:
        assert entry["api-key-entries"][0]["weight"] == 6
    bad = cli(
        "import",
        "--site-name",
        "B",
        "--site-url",
        "https://b.example.invalid",
        "--header",
        "no-colon",
        stdin="sk-cli-opt-1111111111\n",
    )
    assert bad.code == 2 and "Name: value" in bad.err
