"""The History page: every write per CLIProxyAPI server, each with Undo, long after the
Undo toast is gone; an undo over a later change asks before restoring anyway."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Ext, configure, messages

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
