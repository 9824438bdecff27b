"""The CLI as a newcomer reads it: dry-run wording, summaries, the missing-key message,
``--key`` on the command line, and the ``history`` table."""

from __future__ import annotations

import json
import re

OPENAI = "openai-compatibility"


def _batch(tmp_path, *names: str):
    path = tmp_path / "batch.json"
    path.write_text(
        json.dumps(
            [
                {
                    "site_name": n,
                    "site_url": f"https://{n.lower()}.example.invalid",
                    "api_key": f"sk-{n.lower()}-0000000000000",
                    "models": [{"name": "m"}],
                }
                for n in names
            ]
        )
    )
    return path


def test_batch_dry_run_says_would_be_and_prints_no_dict(cli, configured, tmp_path):
    res = cli("import", "--batch", str(_batch(tmp_path, "A", "B")), "--dry-run")
    assert res.code == 0, res.err
    assert "#0: would be created A" in res.out and "#1: would be created B" in res.out
    assert "{" not in res.out and "'created'" not in res.out
    assert (
        "2 would be created, 0 would be updated, 0 would be unchanged, 0 failed; dry run: nothing written"
        in res.out
    )
    assert configured.config().get(OPENAI) in (None, [])


def test_batch_summary_line(cli, configured, tmp_path):
    res = cli("import", "--batch", str(_batch(tmp_path, "A", "B")))
    assert res.code == 0, res.err
    assert "#0: created A" in res.out
    assert re.search(
        r"^2 created, 0 updated, 0 unchanged, 0 failed; \d+ requests sent$", res.out, re.M
    ), res.out
    assert "{" not in res.out


def test_missing_key_says_how_to_give_one(cli, configured):
    res = cli("import", "--site-name", "R", "--site-url", "https://r.example.invalid", stdin="")
    assert res.code == 2
    assert "params.api_key" not in res.err and "missing field" not in res.err
    assert "pipe it in" in res.err and "--key-id" in res.err and "cpa-bridge keys list" in res.err


def test_key_on_the_command_line_is_refused_not_taken_as_an_id(cli, configured):
    secret = "sk-typed-on-argv-123456"
    res = cli(
        "import", "--site-name", "R", "--site-url", "https://r.example.invalid", "--key", secret
    )
    assert res.code == 2
    assert "never taken from the command line" in res.err and "--key-id" in res.err
    assert secret not in res.out + res.err
    assert "not_found" not in res.err  # it was not looked up as an inventory id


def test_history_columns_line_up(cli, configured, tmp_path):
    assert cli("import", "--batch", str(_batch(tmp_path, "A"))).code == 0
    assert (
        cli(
            "import",
            "--site-name",
            "Claude one",
            "--site-url",
            "https://c.example.invalid",
            "--provider-type",
            "claude-api-key",
            stdin="sk-claude-key-00000000\n",
        ).code
        == 0
    )
    assert cli("undo").code == 0
    res = cli("history")
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert lines[0].split() == ["BACKUP", "WHEN", "OPERATION", "LIST", "OUTCOME", "SUMMARY"]
    assert len(lines) == 4
    for column in ("WHEN", "OPERATION", "LIST", "OUTCOME"):
        start = lines[0].index(column)
        for line in lines[1:]:
            assert line[start - 2 : start] == "  " and line[start] != " ", (column, res.out)


def test_history_pages_with_offset(cli, configured, tmp_path):
    assert cli("import", "--batch", str(_batch(tmp_path, "A", "B", "C"))).code == 0
    for name in ("D", "E"):
        assert cli("import", "--batch", str(_batch(tmp_path, name))).code == 0
    first = cli("history", "--limit", "2")
    assert first.code == 0, first.err
    assert len(first.out.splitlines()) == 4  # header, two rows, where the older ones are
    assert first.out.splitlines()[-1] == (
        "writes 1-2 of 3; older ones: cpa-bridge history --offset 2"
    )
    last = cli("history", "--limit", "2", "--offset", "2")
    assert len(last.out.splitlines()) == 2 and "older ones" not in last.out
    assert cli("history", "--offset", "3").out.strip() == "no older writes"


def test_batch_output_shows_each_items_warnings(cli, configured, tmp_path, upstream_factory):
    from tests.standin.plugin import UPSTREAM_KEY

    site = upstream_factory(api_key=UPSTREAM_KEY, paths=("/elsewhere/models",))
    path = tmp_path / "batch.json"
    path.write_text(
        json.dumps([{"site_name": "Bare", "site_url": site.url, "api_key": UPSTREAM_KEY}])
    )
    res = cli("import", "--batch", str(path))
    assert res.code == 0, res.err
    assert "#0: created Bare" in res.out
    assert "warning: the new provider has no models" in res.out


OFFLINE = (("settings", "show"), ("targets", "list"), ("keys", "list"), ("history",))


def _imported(*argv: str) -> set[str]:
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cpa_bridge.cli", *argv],
        capture_output=True,
        env=dict(os.environ),
        timeout=60,
    )
    return {
        line.split("|", 2)[2].strip()
        for line in proc.stderr.decode().splitlines()
        if line.startswith("import time:") and "cumulative" not in line
    }


def test_offline_commands_answer_like_the_host_without_pydantic(cli, configured, host, tmp_path):
    assert cli("import", "--batch", str(_batch(tmp_path, "A"))).code == 0
    site = cli(
        "--json", "keys", "add-site", "--name", "Relay", "--url", "https://relay.example.invalid"
    ).json()
    site_id = site["result"]["site"]["id"]
    added = cli(
        "keys", "add", "--site-id", site_id, "--label", "main", stdin="sk-offline-key-0123456789\n"
    )
    assert added.code == 0, added.err
    expected = {
        ("settings", "show"): host.call("settings.get")["result"],
        ("targets", "list"): host.call("settings.get")["result"],
        ("keys", "list"): host.call("keys.list")["result"],
        ("history",): host.call("history.list")["result"],
    }
    for argv in OFFLINE:
        res = cli("--json", *argv)
        assert res.code == 0, res.err
        assert res.json()["result"] == expected[argv], argv
        heavy = _imported(*argv) & {"pydantic", "httpx", "ssl", "yaml", "filelock"}
        assert not heavy, (argv, heavy)
    assert "sk-offline-key-0123456789" not in cli("keys", "list").out
    assert (
        "main" in cli("keys", "list", "--query", "mai").out
        and "main" not in cli("keys", "list", "--query", "zz").out
    )


def test_a_damaged_file_still_gets_the_proper_error(cli, isolated_home):
    settings = isolated_home / ".config" / "cpa-bridge" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('{"targets": [{"name": "x", "management_url": 5}]}')
    res = cli("settings", "show")
    assert res.code == 9 and "storage_error" in res.err and "Traceback" not in res.err
    settings.write_text("{not json")
    assert cli("history").code == 9
