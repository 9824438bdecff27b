"""The History page: every write per CLIProxyAPI server, each with Undo, long after the
Undo toast is gone; an undo over a later change asks before restoring anyway."""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Ext, artifact_dir, configure, messages

EN = messages("en")


def names(cpa: Any) -> list[str]:
    return [p.get("name") for p in cpa.config().get("openai-compatibility") or []]


def do_import(ext: Ext, page: Any, name: str, **extra: Any) -> dict[str, Any]:
    reply = ext.call(
        page,
        "import",
        {
            "site_name": name,
            "site_url": f"https://{name.lower()}.example.invalid",
            "api_key": f"sk-{name.lower()}-000000000000",
            "models": [{"name": "m"}],
            **extra,
        },
    )
    assert reply["ok"], reply
    return reply["result"]


def seed_older(ext: Ext, count: int) -> list[str]:
    """``count`` backups older than the one write the default server has: copies of its backup
    record, each a minute older than the last, as the host names them (ids sort by time).
    Returns their ids, newest first."""
    (record_path,) = (ext.browser.e2e.data_dir / "backups").glob("*/*.json")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    # what became of the write is kept beside the backup (cliproxyapi/backups.py)
    facts_path = record_path.with_suffix(".outcome")
    facts = facts_path.read_text(encoding="utf-8")
    ids = []
    for n in range(1, count + 1):
        when = record["created_at"] - 60 * n
        backup_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime(when)) + f"000000Z-{n:04x}"
        copy = {**record, "backup_id": backup_id, "created_at": when}
        (record_path.parent / f"{backup_id}.json").write_text(json.dumps(copy), encoding="utf-8")
        (record_path.parent / f"{backup_id}.outcome").write_text(facts, encoding="utf-8")
        ids.append(backup_id)
    return ids


def status_text(key: str, *values: int) -> str:
    text = EN[key]
    for name, value in zip(("$SHOWN$", "$TOTAL$"), values, strict=False):
        text = text.replace(name, str(value))
    return text


def open_history(ext: Ext) -> Any:
    page = ext.open("history.html")
    expect(page.locator("#main")).to_have_attribute("data-state", "ready")
    return page


def test_history_lists_writes_and_undoes_one(ext: Ext, cpa: Any) -> None:
    setup = ext.open("keys.html")
    configure(ext, setup, cpa)
    first = do_import(ext, setup, "Alpha")
    do_import(ext, setup, "Beta")
    assert names(cpa) == ["Alpha", "Beta"]

    page = ext.open("keys.html")
    page.get_by_role("link", name=EN["nav_history"]).click()
    expect(page).to_have_url(ext.browser.url("history.html"))
    expect(page.locator("#main")).to_have_attribute("data-state", "ready")
    rows = page.locator("tr.history-entry")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(EN["history_op_import"])
    expect(rows.first).to_contain_text("sk-be…0000")  # masked
    expect(page.locator("#history-status")).to_have_text(
        EN["history_count"].replace("$COUNT$", "2")
    )
    expect(page.locator("#history-older")).to_be_hidden()  # one page holds them all
    expect(page.locator("#history-end")).to_be_hidden()

    # Undo the newest (Beta): the list is back to Alpha only; the undo is itself listed.
    rows.first.locator(".history-undo").click()
    expect(page.locator(".toast.toast-success[data-action=undone]")).to_be_visible()
    assert names(cpa) == ["Alpha"]
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-operation", "undo")
    expect(rows.nth(1)).to_have_class("history-entry is-undone")
    expect(rows.nth(1).locator(".history-undo")).to_have_count(0)

    # A later change (Gamma): undoing Alpha's import would drop it too, so the page asks first.
    do_import(ext, setup, "Gamma")
    row = page.locator(f'tr.history-entry[data-backup-id="{first["backup_id"]}"]')
    row.locator(".history-undo").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(EN["history_conflict_title"])
    dialog.get_by_role("button", name=EN["cancel"]).click()
    expect(dialog).to_be_hidden()
    assert names(cpa) == ["Alpha", "Gamma"]
    row.locator(".history-undo").click()
    dialog.get_by_role("button", name=EN["history_undo_anyway"]).click()
    expect(rows).to_have_count(5)
    assert names(cpa) == []


def test_history_pages_back_to_the_oldest_write_and_undoes_it(ext: Ext, cpa: Any) -> None:
    setup = ext.open("keys.html")
    configure(ext, setup, cpa)
    do_import(ext, setup, "Alpha")
    older = seed_older(ext, 129)  # 130 writes in all: the newest 50, then 50, then 30
    oldest = older[-1]

    page = open_history(ext)
    rows = page.locator("tr.history-entry")
    more = page.get_by_role("button", name=EN["history_load_older"])
    status = page.locator("#history-status")
    expect(rows).to_have_count(50)
    expect(status).to_have_text(status_text("history_count_partial", 50, 130))
    expect(page.locator(f'tr[data-backup-id="{oldest}"]')).to_have_count(0)
    expect(page.locator("#history-end")).to_be_hidden()
    shots = artifact_dir("history-paging")
    more.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "more.png"))

    more.click()
    expect(rows).to_have_count(100)
    expect(status).to_have_text(status_text("history_count_partial", 100, 130))
    expect(more).to_be_focused()  # there are more: the keyboard stays on the button
    # Reload keeps the place: as many entries as were shown.
    page.locator("#history-reload").click()
    expect(status).to_have_text(status_text("history_count_partial", 100, 130))
    expect(rows).to_have_count(100)

    more.click()
    expect(rows).to_have_count(130)
    expect(more).to_be_hidden()
    expect(page.locator("#history-end")).to_have_text(EN["history_end"])
    expect(status).to_have_text(EN["history_count"].replace("$COUNT$", "130"))
    page.locator("#history-end").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "end.png"))
    # The last page: the button is gone, so focus moves to the first row it added.
    expect(page.locator(f'tr.history-entry[data-backup-id="{older[99]}"]')).to_be_focused()
    row = page.locator(f'tr.history-entry[data-backup-id="{oldest}"]')
    ids = rows.evaluate_all("rows => rows.map((r) => r.dataset.backupId)")
    assert len(set(ids)) == 130 and ids[-1] == oldest

    # Undo the oldest write (Alpha's import, copied): the list is back as it was before it.
    assert names(cpa) == ["Alpha"]
    row.locator(".history-undo").click()
    expect(page.locator(".toast.toast-success[data-action=undone]")).to_be_visible()
    assert names(cpa) == []
    expect(rows).to_have_count(131)  # the undo is listed first; the oldest is still shown
    expect(rows.first).to_have_attribute("data-operation", "undo")
    expect(row).to_have_class("history-entry is-undone")
    expect(row).to_be_focused()


def test_history_of_a_server_without_writes_says_so(ext: Ext, cpa: Any) -> None:
    configure(ext, ext.open("keys.html"), cpa)
    page = open_history(ext)
    expect(page.locator("#history-status")).to_have_text(EN["history_empty"])
    expect(page.locator("#history-card")).to_be_hidden()
    expect(page.locator("#history-older")).to_be_hidden()
    expect(page.locator("#history-end")).to_be_hidden()


def test_history_per_server(ext: Ext, cpa: Any, standin: Any) -> None:
    setup = ext.open("keys.html")
    configure(ext, setup, cpa)
    configure(ext, setup, standin, target="lab")
    do_import(ext, setup, "OnDefault")
    do_import(ext, setup, "OnLab", target="lab")
    page = open_history(ext)
    expect(page.locator("#history-target-field")).to_be_visible()
    expect(page.locator("tr.history-entry")).to_have_count(1)
    expect(page.locator("tr.history-entry")).to_contain_text("OnDefault")
    page.select_option("#history-target", "lab")
    expect(page.locator("tr.history-entry")).to_contain_text("OnLab")
    expect(page).to_have_url(ext.browser.url("history.html#target=lab"))


def test_history_without_a_server_says_what_to_do(ext: Ext) -> None:
    page = open_history(ext)
    expect(page.locator("#history-setup")).to_be_visible()
    expect(page.locator("#history-card")).to_be_hidden()
