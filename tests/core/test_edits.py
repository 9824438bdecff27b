"""The pure edits (no I/O): builders, requests, previews, checks, record validation, and the
engine driven in-process through an httpx MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from cpa_bridge.cliproxyapi import backups, engine
from cpa_bridge.cliproxyapi.client import ManagementClient
from cpa_bridge.core import edits, manage
from cpa_bridge.core.lists import OPENAI
from cpa_bridge.core.merge import Draft, Model, list_hash
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store.settings import Target

PROVIDER = {
    "name": "Relay",
    "base-url": "https://relay.example.invalid/v1",
    "api-key-entries": [{"api-key": "sk-old-0123456789", "weight": 3}],
    "models": [{"name": "m", "alias": "m"}],
}


ONE_MODEL = (Model("m", "m"),)


def draft(key="sk-new-0123456789", models=ONE_MODEL, url="https://relay.example.invalid/v1"):
    return Draft(OPENAI, "Relay", url, key, models)


def test_an_added_key_is_a_patch_of_that_provider_with_a_masked_preview():
    change = edits.import_change(OPENAI, [draft()])
    edit = change.build([PROVIDER])
    assert edit.request["method"] == "PATCH" and edit.request["body"]["name"] == "Relay"
    assert "sk-new-0123456789" not in json.dumps(edit.preview)
    assert edit.changed == [0]
    assert edit.check(edit.items) == [] and edit.check([PROVIDER])


def test_nothing_to_do_is_none():
    assert edits.import_change(OPENAI, [draft("sk-old-0123456789")]).build([PROVIDER]) is None


def test_a_new_provider_without_models_asks_for_them_first():
    change = edits.import_change(
        OPENAI, [Draft(OPENAI, "Other", "https://other.example.invalid/v1", "sk-x-0123456789")]
    )
    with pytest.raises(edits.NeedsModels) as need:
        change.build([PROVIDER])
    assert need.value.positions == [0]
    fetched = edits.import_change(
        OPENAI,
        [
            Draft(
                OPENAI,
                "Other",
                "https://other.example.invalid/v1",
                "sk-x-0123456789",
                (),
                default_models=(),
            )
        ],
    )
    assert fetched.build([PROVIDER]).request["method"] == "PUT"


def test_only_changed_entries_are_validated():
    broken = {
        **PROVIDER,
        "name": "Broken",
        "base-url": "https://broken.example.invalid/v1",
        "models": "bad",
    }
    edit = edits.import_change(OPENAI, [draft()]).build([PROVIDER, broken])
    edits.validate_edit(OPENAI, edit)  # the server's own entry is not ours to refuse
    edit.changed = None
    with pytest.raises(BridgeError):
        edits.validate_edit(OPENAI, edit)


def record(**extra):
    return {
        "backup_id": "b1",
        "list": OPENAI,
        "before": [PROVIDER],
        "before_hash": list_hash([PROVIDER]),
        "after_hash": "after",
        **extra,
    }


def test_restore_refuses_a_changed_list_unless_forced_and_skips_an_unchanged_one():
    other = [{**PROVIDER, "name": "Changed"}]
    with pytest.raises(BridgeError) as caught:
        edits.restore_change(record(), force=False).build(other)
    assert caught.value.code == ErrorCode.CONFLICT
    edit = edits.restore_change(record(), force=True).build(other)
    assert (
        edit.request == {"method": "PUT", "path": OPENAI, "body": [PROVIDER]}
        and edit.changed is None
    )
    assert edits.restore_change(record(), force=False).build([PROVIDER]) is None


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {"list": "../../config", "before": []},
        {"list": OPENAI},
        {"list": OPENAI, "before": [1]},
        {"list": OPENAI, "before": [], "after_hash": 5},
    ],
)
def test_check_record_refuses_damaged_records(bad):
    with pytest.raises(BridgeError) as caught:
        edits.check_record(bad)
    assert caught.value.code == ErrorCode.STORAGE_ERROR


def test_manage_edits_name_their_changed_entry():
    items = [PROVIDER]
    wanted = manage.entry_id(OPENAI, PROVIDER)
    assert manage.set_disabled(OPENAI, items, wanted, True).changed == [0]
    assert manage.delete(OPENAI, items, wanted).changed == []


# -- the engine, in-process --------------------------------------------------------------------
class FakeCPA:
    """A list store behind an httpx MockTransport: GET / PUT / PATCH of openai-compatibility."""

    def __init__(self, items, status=None):
        self.items = [dict(i) for i in items]
        self.status = status or {}
        self.seen = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.method)
        if request.method in self.status:
            code, text = self.status[request.method]
            return httpx.Response(code, json={"error": text})
        if request.method == "GET":
            return httpx.Response(200, json={OPENAI: self.items})
        body = json.loads(request.content)
        if request.method == "PUT":
            self.items = body
        else:
            for item in self.items:
                if item["name"] == body["name"]:
                    item.update(body["value"])
        return httpx.Response(200, json={"status": "ok"})


def client_for(fake):
    target = Target(
        name="t", management_url="http://cpa.example.invalid/v0/management", management_key="k" * 12
    )
    return ManagementClient(
        target, server_id="http://test:1", _http=httpx.Client(transport=httpx.MockTransport(fake))
    )


def test_engine_writes_one_get_one_patch_one_read_back():
    fake = FakeCPA([PROVIDER])
    report = engine.write(
        "t",
        [edits.import_change(OPENAI, [draft()])],
        dry_run=False,
        operation="import",
        client=client_for(fake),
    )
    status = report.one(OPENAI)
    assert (
        fake.seen == ["GET", "PATCH", "GET"]
        and status.outcome == "succeeded"
        and status.read_back == "applied"
    )
    assert backups.load("http://cpa.example.invalid/v0/management", status.backup_id)["before"] == [
        PROVIDER
    ]


def test_engine_a_401_on_the_write_is_unauthorized_and_keeps_no_backup():
    fake = FakeCPA([PROVIDER], status={"PATCH": (401, "invalid management key")})
    report = engine.write(
        "t",
        [edits.import_change(OPENAI, [draft()])],
        dry_run=False,
        operation="import",
        client=client_for(fake),
    )
    with pytest.raises(BridgeError) as caught:
        report.one(OPENAI)
    assert caught.value.code == ErrorCode.UNAUTHORIZED
    assert backups.list_records("http://cpa.example.invalid/v0/management") == []


def test_engine_dry_run_sends_only_the_read():
    fake = FakeCPA([PROVIDER])
    report = engine.write(
        "t",
        [edits.import_change(OPENAI, [draft()])],
        dry_run=True,
        operation="import",
        client=client_for(fake),
    )
    assert fake.seen == ["GET"] and report.one(OPENAI).outcome == "dry_run"
