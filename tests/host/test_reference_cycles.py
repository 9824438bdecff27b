"""The host leaves no reference cycle of its own objects behind a message.

A cycle is freed only by the cyclic collector, and late: objects that lived through a request
(an HTTP round trip runs many young collections) sit in the old generation, which is collected
only when it has grown by a quarter. A cycle that held the list read from CLIProxyAPI (an
import's change ↔ its builder) made a host's resident set grow by ~13 KiB per import, 1.12×
over 1,000 mixed requests (bench/memory.py). Here the host runs with the collector off and, at
EOF, reports what only the collector could free: none of it may be a ``cpa_bridge`` object.
httpx's own cycle (its response ↔ the response's stream, which reaches the closed connection
pool, and with it the network backend the host plugs into that pool) is outside this check:
it holds no list, only the closed connection.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import MGMT_KEY
from tests.hostproc import EXTENSION_ORIGIN, HostProcess

#: The host, the cyclic collector off; at exit one line: the unreachable objects by type.
GC_HOST = """
import collections, gc, json, sys
from cpa_bridge import host
gc.disable()
try:
    code = host.main([sys.argv[0], sys.argv[1]])
finally:
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    kinds = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
    sys.stderr.write("GARBAGE " + json.dumps(kinds) + "\\n")
sys.exit(code)
"""

#: Host objects that httpx's own cycle holds (see above): the pool's network backend.
HTTPX_CYCLE = {"cpa_bridge.net.http._CheckedBackend"}

ITEM = {
    "site_name": "Cycle Relay",
    "site_url": "https://cycle.example.invalid",
    "api_key": "sk-cycle-key-0000000001",
    "models": [{"name": "gpt-4o"}],
}


def gc_host() -> HostProcess:
    return HostProcess(
        subprocess.Popen(
            [sys.executable, "-c", GC_HOST, EXTENSION_ORIGIN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    )


def own_garbage(proc: HostProcess) -> dict[str, int]:
    line = next(line for line in proc.stderr_text().splitlines() if line.startswith("GARBAGE "))
    kinds: dict[str, int] = json.loads(line.removeprefix("GARBAGE "))
    return {
        kind: n
        for kind, n in kinds.items()
        if kind.startswith("cpa_bridge.") and kind not in HTTPX_CYCLE
    }


def test_imports_batches_syncs_and_undo_leave_no_cycle_of_host_objects(standin_factory):
    a, b = standin_factory(), standin_factory()
    proc = gc_host()
    try:
        for name, server in (("a", a), ("b", b)):
            params = {"target": name, "management_url": server.url, "management_key": MGMT_KEY}
            assert proc.call("settings.set", {**params, "make_default": name == "a"})["ok"]
        for message, params in (
            ("ping", {}),
            ("settings.get", {}),
            ("keys.list", {}),
            ("import", {**ITEM, "dry_run": True}),
            ("import", ITEM),  # a new provider: backup, write, read-back
            ("import", {**ITEM, "api_key": "sk-cycle-key-0000000002"}),  # a key added
            ("import", ITEM),  # unchanged
            (
                "import.batch",
                {
                    "items": [
                        {
                            **ITEM,
                            "site_name": f"Cycle {i}",
                            "site_url": f"https://c{i}.example.invalid",
                        }
                        for i in range(3)
                    ]
                },
            ),
            ("providers.sync", {"from_target": "a", "to_targets": ["b"]}),
            ("history.undo", {}),
        ):
            reply = proc.call(message, params)
            assert reply["ok"], (message, reply)
    finally:
        proc.close()
    assert own_garbage(proc) == {}
