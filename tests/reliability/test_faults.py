"""Injected faults: each test names the failure it injects and checks the config stays intact or the
change is honestly reported as uncertain, with a backup and a clear error code."""

from __future__ import annotations

import errno
import os
import threading

import pytest

from tests.conftest import MGMT_KEY
from tests.hostproc import HostProcess

OPENAI = "openai-compatibility"
ITEM = {
    "site_name": "Relay",
    "site_url": "https://relay.example.invalid",
    "api_key": "sk-fault-0123456789",
    "models": [{"name": "m"}],
}
SEEDED = """\
openai-compatibility:
  - name: Keep
    base-url: https://keep.example.invalid/v1
    api-key-entries:
      - api-key: sk-keep-0000000000
        weight: 3
"""


@pytest.fixture
def seeded(host, standin_factory):
    server = standin_factory(initial_yaml=SEEDED)
    assert host.call("settings.set", {"management_url": server.url, "management_key": MGMT_KEY})[
        "ok"
    ]
    return server


def writes(server):
    return [r for r in server.requests if r[0] in ("PUT", "PATCH", "DELETE")]


def test_fault_put_500_failed_to_save_config(host, seeded):
    seeded.faults.save_fails = True
    result = host.call("import", ITEM)["result"]
    assert result["outcome"] == "not_saved" and result["read_back"] == "applied"
    assert result["backup_id"]
    assert [p["name"] for p in seeded.config()[OPENAI]] == ["Keep"], "file intact"
    entries = host.call("history.list")["result"]["entries"]
    assert entries[0]["outcome"] == "not_saved"


def test_fault_connection_dropped_after_the_server_applied_the_write(host, seeded):
    seeded.faults.drop_after_write = True
    result = host.call("import", ITEM)["result"]
    assert result["outcome"] == "uncertain" and result["read_back"] == "applied"
    assert [p["name"] for p in seeded.config()[OPENAI]] == ["Keep", "Relay"]
    # the backup restores the list exactly
    seeded.faults.drop_after_write = False
    assert (
        host.call("history.undo", {"backup_id": result["backup_id"]})["result"]["outcome"]
        == "succeeded"
    )
    assert [p["name"] for p in seeded.config()[OPENAI]] == ["Keep"]


def test_fault_server_slower_than_the_timeout(host_factory, seeded):
    proc = host_factory(env={"CPA_BRIDGE_TIMEOUT": "0.5"})
    seeded.faults.delay_seconds = 2.0
    reply = proc.call("import", ITEM)
    assert reply["error"]["code"] == "timeout"
    seeded.faults.delay_seconds = 0
    assert [p["name"] for p in seeded.config()[OPENAI]] == ["Keep"]


@pytest.mark.parametrize("garbage", ["non_json", "no_list", "wrong_type", "null"])
def test_fault_get_returns_garbage(host, seeded, garbage):
    seeded.faults.get_garbage = garbage
    assert host.call("import", ITEM)["error"]["code"] == "bad_response"
    seeded.faults.get_garbage = None
    assert writes(seeded) == [] and [p["name"] for p in seeded.config()[OPENAI]] == ["Keep"]


def test_fault_server_restarts_between_read_and_write(host, seeded):
    # a change that only reached memory (failed save) is lost by the restart; the next import sees that
    seeded.faults.save_fails = True
    first = host.call("import", ITEM)["result"]
    assert first["outcome"] == "not_saved"
    seeded.faults.save_fails = False
    seeded.faults.restart_before_next_write = True
    # we read "Relay" (memory only), then the server restarted and forgot it: the PATCH finds nothing
    second = host.call("import", {**ITEM, "api_key": "sk-fault-second-000"})
    assert second["error"]["code"] == "conflict"
    assert [p["name"] for p in seeded.config()[OPENAI]] == ["Keep"], "file intact"
    # trying again reads the real state and creates the provider with the key
    again = host.call("import", {**ITEM, "api_key": "sk-fault-second-000"})["result"]
    assert again["action"] == "created" and again["outcome"] == "succeeded"
    names = [p["name"] for p in seeded.config()[OPENAI]]
    assert names == ["Keep", "Relay"]


def test_fault_outside_writer_between_preview_and_apply_gets_conflict(host, seeded):
    preview = host.call("import", {**ITEM, "dry_run": True})["result"]
    seeded.faults.mutate_before_next_write = None

    def outside(config):
        config[OPENAI].append({"name": "Outside", "base-url": "https://outside.example.invalid/v1"})

    seeded.faults.mutate_before_next_write = outside
    # an outside write happens (simulated through a PATCH by another tool)
    import httpx

    httpx.patch(
        seeded.management_url + "/" + OPENAI,
        headers={"Authorization": f"Bearer {MGMT_KEY}"},
        json={"name": "Keep", "value": {"disabled": True}},
    )
    error = host.call("import", {**ITEM, "expect_list_hash": preview["list_hash"]})["error"]
    assert error["code"] == "conflict"
    names = [p["name"] for p in seeded.config()[OPENAI]]
    assert "Relay" not in names and "Outside" in names, (
        "the outside change is kept, ours is not forced"
    )


def test_fault_data_dir_read_only(host_factory, seeded):
    # /proc is read-only even for root: the host cannot store a backup, so it must not write
    proc = host_factory(env={"CPA_BRIDGE_DATA_DIR": "/proc/self/cpa-bridge-data"})
    assert proc.call("settings.set", {"management_url": seeded.url, "management_key": MGMT_KEY})[
        "ok"
    ]
    seeded.reset_requests()
    error = proc.call("import", ITEM)["error"]
    assert error["code"] == "storage_error"
    assert writes(seeded) == []
    assert [p["name"] for p in seeded.config()[OPENAI]] == ["Keep"]


def test_fault_data_dir_full(seeded, monkeypatch):
    # ENOSPC on every write of the host's own files (in-process, since a full disk cannot be faked per test)
    from cpa_bridge.store import storage
    from cpa_bridge.wire import dispatch

    assert dispatch.call("settings.set", {"management_url": seeded.url, "management_key": MGMT_KEY})
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "write", full)
    seeded.reset_requests()
    from cpa_bridge.errors import BridgeError

    with pytest.raises(BridgeError) as info:
        dispatch.call("import", ITEM)
    assert info.value.code.value == "storage_error" and "No space left" in info.value.message
    assert writes(seeded) == []
    monkeypatch.setattr(storage.os, "write", real_write)


def test_concurrent_hosts_and_cli_lose_no_key_and_make_no_duplicate(host_factory, seeded, cli):
    hosts = [host_factory() for _ in range(3)]
    problems = []

    def via_host(proc: HostProcess, n: int) -> None:
        for i in range(5):
            reply = proc.call(
                "import",
                {
                    **ITEM,
                    "site_name": "Shared",
                    "site_url": "https://shared.example.invalid",
                    "api_key": f"sk-h{n}-{i}-0123456789",
                },
            )
            if not reply["ok"] or reply["result"]["outcome"] != "succeeded":
                problems.append(reply)

    def via_cli(n: int) -> None:
        for i in range(2):
            res = cli(
                "import",
                "--site-name",
                "Shared",
                "--site-url",
                "https://shared.example.invalid",
                "--model",
                "m",
                stdin=f"sk-c{n}-{i}-0123456789\n",
            )
            if res.code != 0:
                problems.append(res.err)

    threads = [threading.Thread(target=via_host, args=(p, n)) for n, p in enumerate(hosts)]
    threads += [threading.Thread(target=via_cli, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems
    providers = seeded.config()[OPENAI]
    assert [p["name"] for p in providers] == ["Keep", "Shared"]
    keys = {e["api-key"] for e in providers[1]["api-key-entries"]}
    expected = {f"sk-h{n}-{i}-0123456789" for n in range(3) for i in range(5)}
    expected |= {f"sk-c{n}-{i}-0123456789" for n in range(2) for i in range(2)}
    assert keys == expected


def test_backups_are_bounded(monkeypatch, isolated_home):
    from cpa_bridge.cliproxyapi import backups

    monkeypatch.setattr(backups, "MAX_BACKUPS", 5)
    ids = [
        backups.save(
            "http://127.0.0.1:1/v0/management",
            {"list": OPENAI, "before": [], "backup_id": f"2026{i:04d}"},
        )
        for i in range(8)
    ]
    kept = [r["backup_id"] for r in backups.list_records("http://127.0.0.1:1/v0/management")]
    assert kept == list(reversed(ids))[:5]
