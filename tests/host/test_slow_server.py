"""A slow CLIProxyAPI does not stall the host: ``ping`` and local reads are answered while a
write waits for it (defect: a 30 s server held every later message on the connection)."""

from __future__ import annotations

import threading

from tests.conftest import MGMT_KEY
from tests.hostproc import frame


def test_ping_and_reads_are_answered_while_a_write_waits(host, standin):
    assert host.call("settings.set", {"management_url": standin.url, "management_key": MGMT_KEY})[
        "ok"
    ]
    gate = threading.Event()
    standin.faults.mutate_before_next_write = lambda config: gate.wait(
        120
    )  # the write hangs until released
    host.send_raw(
        frame(
            {
                "v": 1,
                "id": "slow",
                "type": "import",
                "params": {
                    "site_name": "Relay",
                    "site_url": "https://relay.example.invalid",
                    "api_key": "sk-slow-0123456789",
                    "models": [{"name": "m"}],
                },
            }
        )
    )
    host.send_raw(frame({"v": 1, "id": "p", "type": "ping"}))
    host.send_raw(frame({"v": 1, "id": "s", "type": "settings.get"}))
    try:
        first, second = host.read_reply(timeout=60), host.read_reply(timeout=60)
    finally:
        gate.set()
    assert {first["id"], second["id"]} == {"p", "s"}, (first, second)
    last = host.read_reply(timeout=60)
    assert last["id"] == "slow" and last["ok"], last


def test_a_read_after_a_pending_settings_change_waits_its_turn(host, standin):
    host.send_raw(
        frame(
            {
                "v": 1,
                "id": "set",
                "type": "settings.set",
                "params": {"management_url": standin.url, "management_key": MGMT_KEY},
            }
        )
    )
    host.send_raw(frame({"v": 1, "id": "get", "type": "settings.get"}))
    first, second = host.read_reply(), host.read_reply()
    assert [first["id"], second["id"]] == ["set", "get"]
    assert second["result"]["management_url"].startswith(standin.url)
