"""What only a real CLIProxyAPI shows: its YAML file, its field rules and its asynchronous reload.

Each test runs against every pinned real server (tests/real/versions.txt), through host frames.
The contract suite in tests/contract runs against these servers and the stand-in alike.
"""

from __future__ import annotations

import difflib
import threading
import time

import bcrypt
import httpx
import pytest

from cpa_bridge.core.lists import PROVIDER_LISTS
from tests.conftest import MGMT_KEY
from tests.real.plugin import SPECS, kept_lists, real_binary
from tests.real.server import RealCLIProxyAPI
from tests.standin.plugin import DEFAULT_YAML

OPENAI = "openai-compatibility"

HAND_WRITTEN = """\
# My CLIProxyAPI config. Hand-written: every comment here must survive.
debug: false   # keep quiet
request-retry: 3

# routing, unrelated to keys
routing:
  strategy: round-robin   # or fill-first

# The relays I use
openai-compatibility:
  # the main relay
  - name: Relay
    base-url: https://relay.example.invalid/v1
    api-key-entries:
      - api-key: sk-hand-key-1111111111   # the first key
    models:
      - name: gpt-4o
        alias: 4o
  # a second relay, never touched
  - name: Other
    base-url: https://other.example.invalid/v1
    api-key-entries:
      - api-key: sk-hand-key-2222222222
    models:
      - name: m1
        alias: m1

# Claude, direct
claude-api-key:
  - api-key: sk-hand-claude-33333333   # personal
    base-url: https://claude.example.invalid
"""

NEW_KEY = "sk-hand-new-key-4444444444"


@pytest.fixture(params=[spec.id for spec in SPECS])
def cpa_kind(request: pytest.FixtureRequest) -> str:
    """Real servers only (overrides the plugin's stand-in + real parametrisation)."""
    return str(request.param)


def _configure(host, server) -> None:
    reply = host.call("settings.set", {"management_url": server.url, "management_key": MGMT_KEY})
    assert reply["ok"], reply


def _put_unchanged(server, list_name: str) -> None:
    """Make the server save its file once in its own way (its canonical form), changing nothing,
    and wait until the config reload that save sets off is over: the host paces only its own
    writes, so an import sent at once could land in that reload and be reverted."""
    headers = {"Authorization": f"Bearer {MGMT_KEY}"}
    items = httpx.get(f"{server.direct_url}/v0/management/{list_name}", headers=headers).json()[
        list_name
    ]
    for item in items:
        item.pop("auth-index", None)
        for entry in item.get("api-key-entries") or []:
            entry.pop("auth-index", None)
    reloads = server.reloads() if hasattr(server, "reloads") else None  # the stand-in: none
    assert (
        httpx.put(
            f"{server.direct_url}/v0/management/{list_name}", headers=headers, json=items
        ).status_code
        == 200
    )
    # v6 reloads after this save, v7.2.140 does not: wait for the reload, or for long enough
    # that one would have run (it starts 150 ms after the save)
    deadline = time.monotonic() + 1.0
    while reloads is not None and server.reloads() == reloads and time.monotonic() < deadline:
        time.sleep(0.02)


def _wait_reloaded(server, list_name: str) -> None:
    """Wait until the asynchronous reload has run: ``auth-index`` shows up on every enabled entry."""
    headers = {"Authorization": f"Bearer {MGMT_KEY}"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = httpx.get(f"{server.direct_url}/v0/management/{list_name}", headers=headers).json()[
            list_name
        ]
        if all(
            "auth-index" in item
            or any("auth-index" in e for e in item.get("api-key-entries") or [])
            for item in items
            if not item.get("disabled")
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"{list_name} was not reloaded within 10 s")


def test_hand_written_config_keeps_comments_and_other_sections_after_import_and_undo(
    host, cpa_factory
):
    server = cpa_factory(initial_yaml=HAND_WRITTEN)
    _configure(host, server)
    _put_unchanged(server, "gemini-api-key")  # the server's own first save (it adds its defaults)
    baseline = server.yaml_text()
    comments = [line.split("#", 1)[1].strip() for line in HAND_WRITTEN.splitlines() if "#" in line]
    kept = [line.split("#", 1)[1].strip() for line in baseline.splitlines() if "#" in line]
    assert set(comments) <= set(kept), (
        "the server itself keeps every comment (it re-spaces inline ones)"
    )

    result = host.call(
        "import",
        {"site_name": "Relay", "site_url": "https://relay.example.invalid", "api_key": NEW_KEY},
    )["result"]
    assert result["action"] == "updated" and result["outcome"] == "succeeded", result
    imported = server.yaml_text()
    diff = [d for d in difflib.ndiff(baseline.splitlines(), imported.splitlines()) if d[:1] in "+-"]
    assert [d for d in diff if d.startswith("-")] == [], "nothing outside the new key changed"
    assert [(d[0], d[1:].strip()) for d in diff] == [("+", f"- api-key: {NEW_KEY}")], diff

    undo = host.call("history.undo", {"backup_id": result["backup_id"]})["result"]
    assert undo["outcome"] == "succeeded", undo
    restored = server.yaml_text()
    assert restored == baseline, "after the undo the file is byte for byte as before the import"
    assert set(comments) <= {
        line.split("#", 1)[1].strip() for line in restored.splitlines() if "#" in line
    }


UNMANAGED = """\
openai-compatibility:
  - name: Relay
    priority: 7
    prefix: team
    base-url: https://relay.example.invalid/v1
    headers:
      X-Custom: keep-me
    disable-cooling: true
    api-key-entries:
      - api-key: sk-unmanaged-1111111111
        weight: 5
        proxy-url: socks5://127.0.0.1:1080
    models:
      - name: gpt-4o
        alias: 4o
        display-name: GPT 4o
        max-context-length: 128000
claude-api-key:
  - api-key: sk-unmanaged-claude-222222
    priority: 3
    weight: 4
    prefix: direct
    base-url: https://claude.example.invalid
    proxy-url: http://127.0.0.1:3128
    headers:
      X-Team: a
    excluded-models:
      - claude-2
    disable-cooling: true
    models:
      - name: claude-3-5-sonnet
        alias: sonnet
"""


@pytest.mark.parametrize(
    "list_name, site_url",
    [
        (OPENAI, "https://relay.example.invalid"),
        ("claude-api-key", "https://claude.example.invalid"),
    ],
)
def test_fields_we_do_not_manage_survive_an_import_and_an_undo(
    host, cpa_factory, list_name, site_url
):
    server = cpa_factory(initial_yaml=UNMANAGED)
    _configure(host, server)
    _put_unchanged(
        server, "gemini-api-key"
    )  # the server's first save: it drops what it does not know
    kept = kept_lists(server)
    for field in ("priority", "prefix", "headers", "disable-cooling"):
        assert field in kept[OPENAI][0] or field in server.drops, (
            f"{server.kind} dropped {field} by itself"
        )

    result = host.call(
        "import",
        {
            "site_name": "Relay",
            "site_url": site_url,
            "api_key": "sk-unmanaged-new-33333",
            "provider_type": list_name,
        },
    )["result"]
    assert result["outcome"] == "succeeded", result
    after = kept_lists(server)
    if list_name == OPENAI:
        relay = after[OPENAI][0]
        assert relay["api-key-entries"][0] == kept[OPENAI][0]["api-key-entries"][0]
        assert relay["api-key-entries"][1] == {"api-key": "sk-unmanaged-new-33333"}
        assert {k: v for k, v in relay.items() if k != "api-key-entries"} == {
            k: v for k, v in kept[OPENAI][0].items() if k != "api-key-entries"
        }
        assert after["claude-api-key"] == kept["claude-api-key"]
    else:
        assert after["claude-api-key"][0] == kept["claude-api-key"][0], (
            "the existing entry is untouched"
        )
        assert after["claude-api-key"][1]["api-key"] == "sk-unmanaged-new-33333"
        assert after[OPENAI] == kept[OPENAI]

    undo = host.call("history.undo", {"backup_id": result["backup_id"]})["result"]
    assert undo["outcome"] == "succeeded", undo
    assert kept_lists(server) == kept


@pytest.mark.parametrize("list_name", PROVIDER_LISTS)
def test_every_provider_type_round_trips(host, cpa_factory, list_name):
    server = cpa_factory()
    _configure(host, server)
    key = f"sk-roundtrip-{list_name[:6]}-0123456789"
    reply = host.call(
        "import",
        {
            "site_name": "Round",
            "site_url": "https://round.example.invalid/v1",
            "api_key": key,
            "provider_type": list_name,
            "models": [{"name": "m1", "alias": "one"}],
        },
    )
    if list_name == "xai-api-key" and server.spec.major == "v6":  # v6 has no xai-api-key list
        assert (
            reply["error"]["code"] == "rejected"
            and reply["error"]["details"]["reason"] == "no_such_list"
        )
        assert "xai-api-key" not in server.config()
        listed = host.call("providers.list")["result"]["lists"]
        assert "xai-api-key" not in listed and "vertex-api-key" in listed, (
            "every list but the missing one"
        )
        return
    result = reply["result"]
    assert result["action"] == "created" and result["outcome"] == "succeeded", result
    entries = server.config()[list_name]
    assert len(entries) == 1
    entry = entries[0]
    keys = (
        [e["api-key"] for e in entry.get("api-key-entries", [])]
        if list_name == OPENAI
        else [entry["api-key"]]
    )
    assert keys == [key]
    assert entry["base-url"] == result["base_url"]
    assert [(m["name"], m.get("alias")) for m in entry["models"]] == [("m1", "one")]
    # what the host reads back is what it wrote
    listed = host.call("providers.list", {"list": list_name})["result"]["lists"][list_name]
    assert [p["key_count"] for p in listed] == [1]
    undo = host.call("history.undo", {"backup_id": result["backup_id"]})["result"]
    assert undo["outcome"] == "succeeded", undo
    assert not server.config().get(list_name)


def test_the_asynchronous_reload_is_never_a_false_conflict(host, cpa_factory):
    """A codex or claude entry written without models reads back as ``null`` at once and as ``[]``
    once the reload has run; neither the read-back nor an undo after the reload may call that a
    change by someone else."""
    server = cpa_factory()
    _configure(host, server)
    for list_name in ("codex-api-key", "claude-api-key"):
        result = host.call(
            "import",
            {
                "site_name": "R",
                "site_url": "https://reload.example.invalid/v1",
                "api_key": f"sk-reload-{list_name[:5]}-0123456789",
                "provider_type": list_name,
            },
        )["result"]
        assert result["outcome"] == "succeeded" and result["read_back"] == "applied", result
        _wait_reloaded(server, list_name)
        again = host.call(
            "import",
            {
                "site_name": "R",
                "site_url": "https://reload.example.invalid/v1",
                "api_key": f"sk-reload-{list_name[:5]}-0123456789",
                "provider_type": list_name,
            },
        )["result"]
        assert again["action"] == "unchanged"
        undo = host.call("history.undo", {"backup_id": result["backup_id"]})
        assert undo["ok"] and undo["result"]["outcome"] == "succeeded", undo
        assert not server.config().get(list_name)


def test_connection_test_names_the_server_version_and_line(host, cpa):
    _configure(host, cpa)
    result = host.call("connection.test")["result"]
    assert result["server_version"] == cpa.spec.announced_version
    if cpa.spec.build == "release":  # the version header names the line
        assert (result["server_line"], result["line_from"]) == (cpa.spec.major, "version")
    else:  # "dev": only a probe of the v8 management API can tell, and these lines have none
        assert (result["server_line"], result["line_from"]) == (None, "probe")
    assert result["lists"] and all(count == 0 for count in result["lists"].values())


def test_a_plaintext_secret_key_is_hashed_by_the_server_and_still_accepted(cpa_kind, tmp_path):
    """The other servers get a ready bcrypt hash (tests/real/server.py); this one gets the key as a
    user writes it: the server hashes it into the file and accepts the plaintext key."""
    spec = next(s for s in SPECS if s.id == cpa_kind)
    server = RealCLIProxyAPI(
        real_binary(spec),
        tmp_path / "config.yaml",
        initial_yaml="",
        secret=MGMT_KEY,
        plaintext_secret=True,
    ).start()
    try:
        headers = {"Authorization": f"Bearer {MGMT_KEY}"}
        answer = httpx.get(f"{server.direct_url}/v0/management/{OPENAI}", headers=headers)
        assert answer.status_code == 200, answer.text
        stored = server.config()["remote-management"]["secret-key"]
        assert stored.startswith("$2") and MGMT_KEY not in stored
        assert stored.split("$")[2] == "10", stored[:7]  # the server's own (bcrypt.DefaultCost)
        assert bcrypt.checkpw(MGMT_KEY.encode(), stored.encode())
    finally:
        server.stop()


def test_back_to_back_imports_on_a_slow_server_lose_no_key(cpa_kind, tmp_path, host_factory):
    """With the server's own bcrypt cost (about 60 ms a request) an import (GET, PATCH, GET) takes
    about as long as the server's config reload debounce (150 ms): unpaced, the next import's
    write lands in the reload after the previous one and is lost. Two hosts at once: their
    imports queue on the server lock, back to back."""
    spec = next(s for s in SPECS if s.id == cpa_kind)
    server = RealCLIProxyAPI(
        real_binary(spec),
        tmp_path / "config.yaml",
        initial_yaml=DEFAULT_YAML,
        secret=MGMT_KEY,
        plaintext_secret=True,
    ).start()
    try:
        time.sleep(0.5)  # the server saved its config once at start-up (the secret, hashed)
        hosts = [host_factory() for _ in range(2)]
        _configure(hosts[0], server)
        failures: list[dict] = []

        def run(proc, n: int) -> None:
            for i in range(3):
                reply = proc.call(
                    "import",
                    {
                        "site_name": "Shared",
                        "site_url": "https://shared.example.invalid",
                        "api_key": f"sk-slow-p{n}-k{i}-0123456789",
                        "models": [{"name": "m"}],
                    },
                )
                if not reply["ok"] or reply["result"]["outcome"] != "succeeded":
                    failures.append(reply)

        threads = [threading.Thread(target=run, args=(proc, n)) for n, proc in enumerate(hosts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures
        time.sleep(0.5)  # the last reload has run
        expected = {f"sk-slow-p{n}-k{i}-0123456789" for n in range(2) for i in range(3)}
        for answer in (
            server.config()[OPENAI],
            httpx.get(
                f"{server.direct_url}/v0/management/{OPENAI}",
                headers={"Authorization": f"Bearer {MGMT_KEY}"},
            ).json()[OPENAI],
        ):
            assert len(answer) == 1
            assert {e["api-key"] for e in answer[0]["api-key-entries"]} == expected
    finally:
        server.stop()
