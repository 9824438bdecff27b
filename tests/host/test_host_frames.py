"""The host process over real frames: ping, envelopes, bad frames, limits, argv, origin."""

from __future__ import annotations

import struct

import pytest

from cpa_bridge import PROTOCOL_VERSION, __version__
from tests.hostproc import EXTENSION_ORIGIN, HostProcess, frame

# the host's own start-up (argv, stdout, exit codes) as the browser runs it: exec, not a fork
pytestmark = pytest.mark.real_exec


def test_ping_and_many_requests_on_one_connection(host):
    for _ in range(3):
        reply = host.call("ping")
        assert reply["ok"] is True
        assert reply["result"]["host_version"] == __version__
        assert reply["result"]["protocol"] == PROTOCOL_VERSION
    assert host.close() == 0


def test_single_request_then_eof_exits_cleanly(host_factory):
    proc = host_factory()
    proc.send_raw(frame({"v": 1, "id": "one", "type": "ping"}))
    proc.proc.stdin.close()
    reply = proc.read_reply()
    assert reply["ok"] and reply["id"] == "one"
    assert proc.read_reply() is None
    assert proc.close() == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x10\x00", id="truncated-header"),
        pytest.param(struct.pack("=I", 50) + b'{"v":1', id="truncated-body"),
        pytest.param(struct.pack("=I", 3) + b"\xff\xfe\xfd", id="bad-utf8"),
        pytest.param(struct.pack("=I", 5) + b"hello", id="not-json"),
        pytest.param(struct.pack("=I", 7) + b"[1,2,3]", id="not-an-object"),
    ],
)
def test_bad_frame_gets_one_error_reply_and_a_clean_exit(host_factory, raw: bytes):
    proc = host_factory()
    proc.send_raw(raw)
    proc.proc.stdin.close()
    reply = proc.read_reply()
    assert reply["ok"] is False and reply["error"]["code"] == "bad_frame"
    assert reply["id"] is None
    assert proc.stdout_rest() == b""
    assert proc.close() == 0
    assert "Traceback" not in proc.stderr_text()


def test_request_over_64_mib_is_refused_with_too_large(host_factory):
    proc = host_factory()
    proc.send_raw(struct.pack("=I", 64 * 1024 * 1024 + 1))
    reply = proc.read_reply()
    assert reply["error"]["code"] == "too_large"
    assert proc.close() == 0


def test_a_large_request_under_the_cap_is_read(host):
    params = {"query": "x" * 150, "pad": "y" * (3 * 1024 * 1024)}
    reply = host.call("keys.list", params)
    # read in full (3 MiB), then refused for the unknown field, naming it
    assert reply["error"]["code"] == "invalid_request"
    assert reply["error"]["details"]["field"] == "params.pad"


def test_a_2_mib_reply_becomes_too_large(host):
    for i in range(2):
        r = host.call(
            "sites.save",
            {"name": f"site{i}", "url": f"https://s{i}.example.invalid", "notes": "n" * 2000},
        )
        assert r["ok"], r
    big = host.call("keys.list")
    assert big["ok"]
    # now make a result of about 2 MiB: 1050 sites x 2000 characters of notes, written into the
    # inventory at once (1,048 sites.save calls, each an fsync'd write, took 45 s)
    from cpa_bridge.store import keystore

    inventory = keystore.load()
    inventory.sites.extend(
        keystore.Site(name=f"site{i}", url=f"https://s{i}.example.invalid", notes="n" * 2000)
        for i in range(2, 1050)
    )
    keystore.save(inventory)
    reply = host.call("keys.list")
    assert reply["ok"] is False and reply["error"]["code"] == "too_large"
    assert reply["_size"] < 1024 * 1024
    assert reply["error"]["details"]["size"] > 1024 * 1024
    assert host.call("ping")["ok"], "the connection stays usable"


@pytest.mark.parametrize(
    "message, field",
    [
        pytest.param({"v": 1, "id": "a", "type": "nope"}, "type", id="unknown-type"),
        pytest.param({"v": 1, "id": "a"}, "type", id="missing-type"),
        pytest.param({"v": 2, "id": "a", "type": "ping"}, "v", id="wrong-version"),
        pytest.param(
            {"v": 1, "id": "a", "type": "ping", "params": []}, "params", id="params-not-object"
        ),
        pytest.param(
            {"v": 1, "id": "a", "type": "settings.set", "params": {"management_url": 5}},
            "params.management_url",
            id="wrong-field-type",
        ),
        pytest.param(
            {"v": 1, "id": "a", "type": "settings.set", "params": {"bogus": 1}},
            "params.bogus",
            id="unknown-field",
        ),
        pytest.param(
            {"v": 1, "id": "a", "type": "models.list", "params": {"api_key": "k"}},
            "params.base_url",
            id="missing-field",
        ),
    ],
)
def test_invalid_requests_name_the_field(host, message, field):
    reply = host.request(message)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "invalid_request"
    assert reply["error"]["details"]["field"] == field
    assert reply["id"] == "a"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param((EXTENSION_ORIGIN,), id="chromium"),
        pytest.param((EXTENSION_ORIGIN, "--parent-window=0"), id="windows"),
        pytest.param(
            (
                "/home/u/.mozilla/native-messaging-hosts/io.cpabridge.host.json",
                "cpa-bridge@cpabridge.io",
            ),
            id="firefox",
        ),
        pytest.param((), id="no-args"),
    ],
)
def test_argv_is_parsed_leniently(host_factory, argv):
    proc = HostProcess.start(*argv, real_exec=True) if argv else host_factory("--unknown-flag")
    try:
        assert proc.call("ping")["ok"]
    finally:
        proc.close()


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(
            ("chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/",), id="other-chromium-extension"
        ),
        pytest.param(
            ("/x/io.cpabridge.host.json", "evil@example.invalid"), id="other-firefox-addon"
        ),
    ],
)
def test_other_callers_are_refused(host_factory, argv):
    proc = host_factory(*argv)
    reply = proc.call("ping")
    assert reply["ok"] is False and reply["error"]["code"] == "forbidden_origin"
    assert proc.call("settings.get")["error"]["code"] == "forbidden_origin"


def test_extra_origins_from_the_environment(host_factory):
    other = "b" * 32
    proc = host_factory(f"chrome-extension://{other}/", env={"CPA_BRIDGE_EXTRA_ORIGINS": other})
    assert proc.call("ping")["ok"]
