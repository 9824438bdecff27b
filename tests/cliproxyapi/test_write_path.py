"""The one write path, in-process: handlers called through ``dispatch.call`` against the stand-in
CLIProxyAPI over real HTTP on 127.0.0.1 (no host process is spawned, so these are fast)."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from cpa_bridge.cliproxyapi import backups, servers
from cpa_bridge.core import pacing
from cpa_bridge.errors import BridgeError
from cpa_bridge.store import paths
from cpa_bridge.wire import dispatch
from tests.conftest import MGMT_KEY
from tests.standin.cliproxyapi import error_response
from tests.standin.plugin import UPSTREAM_KEY

OPENAI = "openai-compatibility"
ITEM = {
    "site_name": "Relay",
    "site_url": "https://relay.example.invalid",
    "api_key": "sk-path-0123456789",
    "models": [{"name": "m"}],
}


def call(mtype, params=None):
    try:
        return {"ok": True, "result": dispatch.call(mtype, params or {})}
    except BridgeError as exc:
        return {"ok": False, "error": exc.to_dict()}


@pytest.fixture
def server(standin):
    assert call("settings.set", {"management_url": standin.url, "management_key": MGMT_KEY})["ok"]
    return standin


def writes(server):
    return [r for r in server.requests if r[0] in ("PUT", "PATCH", "DELETE")]


# -- defect 2: undo is a write like any other -------------------------------------------------
def test_undo_after_a_401_is_unauthorized_not_uncertain(server, monkeypatch):
    done = call("import", ITEM)["result"]
    assert done["outcome"] == "succeeded"
    authenticate = server._authenticate

    def reject_writes(request):  # the key is refused on the write (after a good read)
        if request.method == "PUT":
            return error_response(401, "invalid management key")
        return authenticate(request)

    monkeypatch.setattr(server, "_authenticate", reject_writes)
    reply = call("history.undo", {"backup_id": done["backup_id"]})
    assert not reply["ok"] and reply["error"]["code"] == "unauthorized", reply
    assert [p["name"] for p in server.config()[OPENAI]] == ["Relay"], "nothing restored"
    assert call("history.list")["result"]["entries"][0]["operation"] != "undo", (
        "no backup kept for it"
    )


def test_undo_restores_and_a_second_undo_finds_nothing_to_do(server):
    done = call("import", ITEM)["result"]
    undo = call("history.undo", {"backup_id": done["backup_id"]})["result"]
    assert undo["outcome"] == "succeeded" and undo["action"] == "written" and undo["backup_id"]
    assert server.config().get(OPENAI) in (None, [])
    again = call("history.undo", {"backup_id": done["backup_id"], "force": True})["result"]
    assert again["outcome"] == "unchanged" and again["backup_id"] is None


# -- defect 7: damaged backup records ------------------------------------------------------------
@pytest.mark.parametrize(
    "damage",
    [
        pytest.param({"list": None}, id="list-missing"),
        pytest.param({"list": 7}, id="list-not-a-string"),
        pytest.param({"list": "../../config"}, id="list-path"),
        pytest.param({"list": "config"}, id="list-not-a-provider-list"),
        pytest.param({"before": "x"}, id="before-not-a-list"),
        pytest.param({"before": [1, 2]}, id="before-not-objects"),
    ],
)
def test_a_damaged_backup_record_is_a_storage_error_and_sends_nothing(server, damage):
    done = call("import", ITEM)["result"]
    url = call("settings.get")["result"]["management_url"]
    path = backups.target_dir(url) / f"{done['backup_id']}.json"
    record = json.loads(path.read_text())
    record.update(damage)
    if damage.get("list") is None and "list" in damage:
        del record["list"]
    path.write_text(json.dumps(record))
    server.reset_requests()
    reply = call("history.undo", {"backup_id": done["backup_id"]})
    assert not reply["ok"] and reply["error"]["code"] == "storage_error", reply
    assert server.requests == [], "no request for a damaged record"


# -- defect 9: modes -------------------------------------------------------------------------------
def test_data_dirs_are_0700_and_lock_files_0600(server):
    assert call("import", ITEM)["ok"]
    for folder in (paths.data_dir(), paths.backups_dir(), paths.locks_dir()):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    locks = list(paths.locks_dir().iterdir())
    assert locks and all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in locks), locks


# -- defect 10: applied but not saved ---------------------------------------------------------------
def test_failed_to_save_config_is_not_saved_and_a_retry_resends(server):
    server.faults.save_fails = True
    first = call("import", ITEM)["result"]
    assert first["outcome"] == "not_saved" and first["read_back"] == "applied", first
    assert "failed to save config" in json.dumps(first)
    assert any("restart" in w for w in first["warnings"])
    assert call("history.list")["result"]["entries"][0]["outcome"] == "not_saved"
    # the list now looks right, but the file does not have it: the retry must send it again
    server.faults.save_fails = False
    before = len(writes(server))
    again = call("import", ITEM)["result"]
    assert len(writes(server)) == before + 1, "re-sent"
    assert again["outcome"] == "succeeded"
    assert [p["name"] for p in server.config()[OPENAI]] == ["Relay"], "now in the file"
    # and once saved, the next import is plain "unchanged"
    third = call("import", ITEM)["result"]
    assert third["action"] == "unchanged" and len(writes(server)) == before + 1


# -- defects 5 and 6: failures per server, ban facts only -----------------------------------------
def test_401_details_carry_the_ban_facts_and_no_attempts_left(server):
    assert call("settings.set", {"management_key": "wrong-key-0123456789"})["ok"]
    error = call("connection.test")["error"]
    assert error["code"] == "unauthorized"
    details = error["details"]
    assert (
        details["ban_failures"] == 5
        and details["ban_minutes"] == 30
        and details["failures_seen"] == 1
    )
    assert "attempts_left" not in details
    assert "more tries" not in error["message"] and "left" not in error["message"]


def test_fan_out_with_one_wrong_key_spends_one_failure(server):
    for n in range(6):
        host = "localhost" if n % 2 else "127.0.0.1"
        url = server.url.replace("127.0.0.1", host)
        assert call(
            "settings.set",
            {"target": f"t{n}", "management_url": url, "management_key": "wrong-key-0123456789"},
        )["ok"]
    server.reset_requests()
    result = call("import", {**ITEM, "targets": [f"t{n}" for n in range(6)]})["result"]
    assert result["summary"]["failed"] == 6
    codes = sorted(r["error"]["code"] for r in result["results"])
    assert codes.count("unauthorized") == 1 and codes.count("auth_blocked") == 5, codes
    assert len(server.requests) == 1, "one wrong-key request reached the server"
    # a later operation does not try that key on any of those targets either
    server.reset_requests()
    assert call("connection.test", {"target": "t3"})["error"]["code"] == "auth_blocked"
    assert server.requests == []


def test_banned_marks_the_key_rejected(server):
    for _ in range(5):
        server.bans.fail("127.0.0.1")
    assert call("connection.test")["error"]["code"] == "banned"
    settings = call("settings.get")["result"]
    assert settings["key_rejected"] is True


# -- defect 3: saving the same key again unblocks it -------------------------------------------------
def test_saving_the_same_key_again_clears_the_block(server):
    server._secret = "rotated-key-0123456789"
    assert call("connection.test")["error"]["code"] == "unauthorized"
    assert call("connection.test")["error"]["code"] == "auth_blocked"
    server._secret = MGMT_KEY  # the user fixed the server side; the saved key is right again
    assert call("settings.set", {"management_key": MGMT_KEY})["result"]["key_rejected"] is False
    assert call("connection.test")["ok"]


# -- defect 4: the lock is the server's, not the URL's ------------------------------------------------
def test_loopback_spellings_are_one_server(server):
    a = servers.identity(server.url)
    b = servers.identity(server.url.replace("127.0.0.1", "localhost"))
    assert a == b
    assert servers.identity("http://127.0.0.2:1/") == servers.identity("http://localhost:1/")
    assert servers.identity("http://127.0.0.1:1/") != servers.identity("http://127.0.0.1:2/")


# -- defect 13: a bounded lock wait --------------------------------------------------------------------
def test_a_held_lock_gives_busy_after_the_bound(server, monkeypatch):
    monkeypatch.setattr(servers, "LOCK_TIMEOUT", 0.2)
    with servers.lock(servers.identity(server.url.replace("127.0.0.1", "localhost"))):
        reply = call("import", ITEM)
    assert not reply["ok"] and reply["error"]["code"] == "busy", reply
    assert writes(server) == []


# -- the config reload race: writes to one server are paced ---------------------------------------
def test_writes_are_paced_around_the_servers_config_reload(server, monkeypatch):
    class Clock:  # the pacing's clock, moved by hand: requests take no time on it
        def __init__(self, now: float) -> None:
            self.now = now
            self.waits: list[float] = []

        def time(self):
            return self.now

        def sleep(self, seconds):
            self.waits.append(seconds)
            self.now += seconds

    clock = Clock(time.time())
    monkeypatch.setattr(servers, "time", clock)

    def imported(n):
        result = call("import", {**ITEM, "api_key": f"sk-paced-{n}-0123456789"})["result"]
        assert result["outcome"] == "succeeded", result

    imported(0)
    assert clock.waits == [], "an isolated import does not wait"
    mark = servers.last_write(servers.identity(server.url.replace("127.0.0.1", "localhost")))
    assert mark is not None and mark.earliest == mark.latest == clock.now
    imported(1)
    assert clock.waits == [], "a quick write lands before the reload fires"
    clock.now += 0.14  # the next write would land about when the reload fires
    imported(2)
    assert clock.waits == [pytest.approx(0.25 - 0.14)], "it waits until the reload is over"
    clock.now += 0.251
    imported(3)
    assert len(clock.waits) == 1, "long after the last write there is nothing to wait for"


def test_a_write_the_reload_reverted_is_sent_again_once_the_reload_is_over(server, monkeypatch):
    """A write sent "early" (meant to land before the previous write's reload starts) that lands
    inside the reload anyway, as on a busy machine: the reload puts the older list back. The
    read-back waits until that reload is over, finds the list as it was, and sends the write
    once more; nothing is lost, in memory or on disk."""
    server.faults.reload_race = True
    # a slow reload (0.3 s, closed as soon as a write lands in it), and a host that knows it
    server.faults.reload_seconds = 0.3
    monkeypatch.setattr(pacing, "RELOAD_GUARD", 0.5)
    monkeypatch.setattr(pacing, "wait_before_write", lambda last, now: 0.0)  # the guess that failed
    first = call("import", {**ITEM, "api_key": "sk-raced-0-0123456789"})["result"]
    assert first["outcome"] == "succeeded"
    assert server.reload_started.wait(2)
    server.reset_requests()
    second = call("import", {**ITEM, "api_key": "sk-raced-1-0123456789"})["result"]
    assert second["outcome"] == "succeeded" and second["read_back"] == "applied", (
        second["warnings"],
        server.requests,
        server.reverted_writes,
    )
    assert server.reverted_writes == 1, "the first send landed in the reload"
    assert [m for m, _ in server.requests] == ["GET", "PATCH", "GET", "PATCH", "GET"]
    time.sleep(0.5)  # every reload has run
    keys = {"sk-raced-0-0123456789", "sk-raced-1-0123456789"}
    on_disk = {e["api-key"] for e in server.config()[OPENAI][0]["api-key-entries"]}
    in_memory = {e["api-key"] for e in server.memory()[OPENAI][0]["api-key-entries"]}
    assert on_disk == in_memory == keys


# -- defect 12: history.list stays under the reply limit ------------------------------------------
def test_history_list_with_huge_summaries_stays_small_and_pages(server):
    models = [{"name": f"model-{i:05d}-" + "x" * 80} for i in range(3000)]
    assert call("import", {**ITEM, "api_key": "sk-path-huge-0-0123456789", "models": models})["ok"]
    for n in (1, 2):
        assert call("import", {**ITEM, "api_key": f"sk-path-huge-{n}-0123456789"})["ok"]
    page = call("history.list", {"limit": 2})["result"]
    assert len(page["entries"]) == 2 and page["next_offset"] == 2
    assert len(json.dumps(page).encode()) < 64 * 1024
    rest = call("history.list", {"limit": 2, "offset": 2})["result"]
    assert len(rest["entries"]) == 1 and rest["next_offset"] is None
    oldest = rest["entries"][0]  # the import that created the provider with 3,000 models
    assert oldest["summary_truncated"] is True
    assert any(change.get("models_more") == 2980 for change in oldest["summary"])
    assert len(json.dumps(call("history.list", {"limit": 200})["result"]).encode()) < 64 * 1024


def test_history_pages_count_every_backup_and_skip_a_damaged_one(server):
    for n in range(5):
        assert call("import", {**ITEM, "api_key": f"sk-path-page-{n}-0123456789"})["ok"]
    first = call("history.list", {"limit": 2})["result"]
    assert first["total"] == 5 and first["offset"] == 0 and first["next_offset"] == 2
    ids = [e["backup_id"] for e in first["entries"]]
    (folder,) = paths.backups_dir().iterdir()
    # A damaged file in the middle page: skipped, but the pages after it stay where they were.
    damaged = sorted(folder.glob("*.json"), reverse=True)[2]
    damaged.write_text("{not json", encoding="utf-8")
    second = call("history.list", {"limit": 2, "offset": 2})["result"]
    assert len(second["entries"]) == 1 and second["next_offset"] == 4 and second["total"] == 5
    last = call("history.list", {"limit": 2, "offset": 4})["result"]
    assert len(last["entries"]) == 1 and last["next_offset"] is None
    seen = ids + [e["backup_id"] for e in second["entries"] + last["entries"]]
    assert len(set(seen)) == 4 and damaged.stem not in seen
    beyond = call("history.list", {"limit": 2, "offset": 9})["result"]
    assert beyond["entries"] == [] and beyond["next_offset"] is None and beyond["total"] == 5


# -- the cost of a write: one fsync, one client for a batch's model lists ---------------------------
def test_a_write_fsyncs_only_its_backup_and_before_the_write_is_sent(server, monkeypatch):
    """The backup (the list as it was) is on disk before CLIProxyAPI gets the write; what became
    of the write is recorded beside it without rewriting (and fsyncing) the list again."""
    synced = []
    fsync = os.fsync

    def recording_fsync(fd):
        synced.append((os.path.basename(os.readlink(f"/proc/self/fd/{fd}")), len(writes(server))))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    done = call("import", ITEM)["result"]
    assert done["outcome"] == "succeeded" and done["backup_id"]
    [(name, writes_before)] = synced
    assert name.startswith(f".{done['backup_id']}.json."), name
    assert writes_before == 0, "the backup was durable before the write"
    # the outcome is kept (history, undo) though the backup file was written once
    [entry] = call("history.list")["result"]["entries"]
    assert entry["backup_id"] == done["backup_id"] and entry["outcome"] == "succeeded"
    url = call("settings.get")["result"]["management_url"]
    path = backups.target_dir(url) / f"{done['backup_id']}.json"
    assert json.loads(path.read_text())["before"] == []
    undo = call("history.undo", {"backup_id": done["backup_id"]})["result"]
    assert undo["outcome"] == "succeeded"
    assert call("history.list")["result"]["entries"][1]["undone_by"] == undo["backup_id"]
    assert server.config().get(OPENAI) in (None, [])


def test_a_lost_outcome_leaves_the_backup_restorable(server):
    """After a crash the outcome (not fsynced) may be gone or empty: the backup reads as pending
    and can still be restored by its id."""
    done = call("import", ITEM)["result"]
    url = call("settings.get")["result"]["management_url"]
    facts = backups.target_dir(url) / f"{done['backup_id']}.outcome"
    assert json.loads(facts.read_text())["outcome"] == "succeeded"
    facts.write_text("")  # what a crash before the data reached the disk can leave
    [entry] = call("history.list")["result"]["entries"]
    assert entry["outcome"] == "pending"
    undo = call("history.undo", {"backup_id": done["backup_id"], "force": True})["result"]
    assert undo["outcome"] == "succeeded"
    assert server.config().get(OPENAI) in (None, [])


def test_a_batchs_model_lists_from_one_server_share_one_connection_in_turn(
    server, upstream_factory, monkeypatch
):
    """Twelve sites on one server: their lists are fetched one after another, over one
    connection (the threads are for many servers, see test_import.py)."""
    from cpa_bridge.net import http

    sites = [f"s{i:02d}" for i in range(12)]
    upstream = upstream_factory(paths=[f"/{s}/v1/models" for s in sites])
    upstream_port = int(upstream.url.rsplit(":", 1)[1])
    connects = []
    connect = http._CheckedBackend.connect_tcp

    def counting_connect(self, host, port, **kwargs):
        connects.append(port)
        return connect(self, host, port, **kwargs)

    monkeypatch.setattr(http._CheckedBackend, "connect_tcp", counting_connect)
    items = [
        {"site_name": f"Site {s}", "site_url": f"{upstream.url}/{s}", "api_key": UPSTREAM_KEY}
        for s in sites
    ]
    result = call("import.batch", {"items": items})["result"]
    assert result["summary"]["created"] == 12, result
    assert [r for r in upstream.requests if r[1].endswith("/v1/models")] == [
        ("GET", f"/{s}/v1/models", 200) for s in sites
    ]
    assert connects.count(upstream_port) == 1, connects
    models = {p["name"]: p["models"] for p in server.config()[OPENAI]}
    assert all(models[f"Site {s}"] for s in sites), models
