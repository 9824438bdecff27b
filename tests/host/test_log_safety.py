"""What a request can put into ``host.log``: one line per request, escaped (defect: CR/LF in
``type`` or ``id`` forged lines, and a lone surrogate made logging print a traceback)."""

from __future__ import annotations

import struct

from cpa_bridge.store import paths


def raw_frame(body: str) -> bytes:
    data = body.encode("utf-8")
    return struct.pack("=I", len(data)) + data


def test_cr_lf_and_lone_surrogates_cannot_forge_log_lines(host):
    forged = "x\\r\\n2026-01-01 00:00:00,000 1 INFO ok type=forged id=1"
    host.send_raw(raw_frame(f'{{"v":1,"id":"a\\nb","type":"{forged}"}}'))
    assert host.read_reply()["error"]["code"] == "invalid_request"
    host.send_raw(raw_frame('{"v":1,"id":"s\\ud800","type":"lone\\udc00surrogate"}'))
    assert host.read_reply()["error"]["code"] == "invalid_request"
    host.send_raw(raw_frame('{"v":1,"id":"last","type":"ping"}'))
    assert host.read_reply()["ok"]
    stderr = host.stderr_text()
    assert "Traceback" not in stderr and "Logging error" not in stderr, stderr
    lines = paths.log_file().read_text(encoding="utf-8").splitlines()
    requests = [line for line in lines if " type=" in line]
    assert len(requests) == 3, lines
    assert not any("type=forged" in line.split(" type=", 1)[1][:12] for line in requests)
    assert "\\r\\n" in requests[0] and "\\ud800" in requests[1] and "\\udc00" in requests[1]
