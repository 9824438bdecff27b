"""Import to CLIProxyAPI from the key list: dialog, preview, import, undo, conflicts, batch."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import ARTIFACTS, Ext, add_site_with_key, configure, messages
from tests.masks import hint
from tests.standin.plugin import DEFAULT_YAML, STANDIN_SECRET, UPSTREAM_KEY

EN = messages("en")
UPSTREAM_HINT = hint(UPSTREAM_KEY)


def providers(cpa: Any) -> list[dict[str, Any]]:
    return cpa.config().get("openai-compatibility") or []


def setup_page(
    ext: Ext, cpa: Any, relay: Any, site: str = "Relay Import", url: str | None = None
) -> tuple[Any, str]:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    _, key_id = add_site_with_key(ext, page, site, url or relay.url, UPSTREAM_KEY, "main")
    page.reload()
    expect(page.locator(f'button.cpa-import[data-key-id="{key_id}"]')).to_be_visible()
    return page, key_id


def open_dialog(page: Any, key_id: str) -> Any:
    page.click(f'button.cpa-import[data-key-id="{key_id}"]')
    dialog = page.locator("#import-dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_import_with_model_mapping_then_unchanged(ext: Ext, cpa: Any, relay: Any) -> None:
    page, key_id = setup_page(ext, cpa, relay)
    dialog = open_dialog(page, key_id)
    expect(page.locator("#imp-name")).to_have_value("Relay Import")
    expect(page.locator("#imp-base")).to_have_value(relay.url + "/v1")

    # The upstream models are suggested (datalist + buttons), fetched once per opening.
    chip = dialog.locator('#model-suggestions .chip[data-model="gpt-4o-mini"]')
    expect(chip).to_be_visible()
    expect(page.locator("#upstream-models option")).to_have_count(4)
    page.fill("#models-filter", "gpt")
    expect(dialog.locator("#model-suggestions .chip")).to_have_count(2)
    expect(page.locator("#models-add-all")).to_have_text("Add all (2)")
    page.fill("#models-filter", "")
    chip.click()
    row = dialog.locator(".mapping-row")
    expect(row).to_have_count(1)
    expect(row.locator(".map-name")).to_have_value("gpt-4o-mini")
    expect(row.locator(".map-alias")).to_be_focused()  # ready to type the alias
    page.keyboard.type("mini")

    page.click("#imp-preview-btn")
    preview = page.locator("#imp-preview")
    expect(preview).to_be_visible()
    expect(page.locator("#pv-action")).to_have_attribute("data-action", "created")
    expect(page.locator("#pv-name")).to_have_text("Relay Import")
    expect(page.locator("#pv-base")).to_have_text(relay.url + "/v1")
    expect(page.locator("#pv-changes")).to_contain_text(UPSTREAM_HINT)
    expect(page.locator("#pv-changes")).to_contain_text("gpt-4o-mini → mini")
    assert providers(cpa) == []  # a preview writes nothing

    page.click("#imp-apply")
    toast = page.locator(".toast.toast-success[data-action=created]")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Relay Import")
    expect(dialog).to_be_hidden()

    [provider] = providers(cpa)
    assert provider["name"] == "Relay Import"
    assert provider["base-url"] == relay.url + "/v1"
    assert [entry["api-key"] for entry in provider["api-key-entries"]] == [UPSTREAM_KEY]
    assert {"name": "gpt-4o-mini", "alias": "mini"} in provider["models"]
    assert [r for r in relay.requests if r[1] == "/v1/models"] == [("GET", "/v1/models", 200)]

    # Importing the same key again changes nothing.
    toast.locator(".toast-close").click()
    open_dialog(page, key_id)
    page.click("#imp-apply")
    expect(page.locator(".toast.toast-success[data-action=unchanged]")).to_be_visible()
    assert len(providers(cpa)) == 1


#: In the page: log, in order, each host request the page sends and each showModal().
LOG_SENDS_AND_OPENS = """() => {
  window.__order = [];
  const runtime = (globalThis.browser ?? globalThis.chrome).runtime;
  const send = runtime.sendMessage.bind(runtime);
  runtime.sendMessage = (message, ...rest) => {
    window.__order.push(`send ${message?.type}`);
    return send(message, ...rest);
  };
  const showModal = HTMLDialogElement.prototype.showModal;
  HTMLDialogElement.prototype.showModal = function () {
    window.__order.push(`open ${this.id}`);
    return showModal.call(this);
  };
}"""


def test_the_dialog_asks_for_the_model_list_before_it_opens(ext: Ext, cpa: Any, relay: Any) -> None:
    """The host answers while the browser restyles the page for the modal dialog and paints it
    (bench/click.py: opening the import dialog), instead of after."""
    page, key_id = setup_page(ext, cpa, relay)
    page.evaluate(LOG_SENDS_AND_OPENS)
    dialog = open_dialog(page, key_id)
    expect(dialog.locator("#model-suggestions .chip")).to_have_count(4)
    expect(page.locator("#imp-type")).to_be_focused()
    order = page.evaluate("() => window.__order")
    assert order.index("send models.list") < order.index("open import-dialog"), order
    assert order.index("send settings.get") < order.index("open import-dialog"), order


def test_the_import_button_stays_put_while_the_model_list_arrives(
    ext: Ext, cpa: Any, relay: Any
) -> None:
    """A click aimed at Import while the site's model list loads lands on Import: the list
    scrolls inside the dialog's fixed height instead of growing it and moving the buttons."""
    page, key_id = setup_page(ext, cpa, relay)
    relay.delay_seconds = 1.0
    try:
        open_dialog(page, key_id)
        expect(page.locator("#models-status")).to_have_text(EN["models_loading"])
        before = page.locator("#imp-apply").bounding_box()
        expect(page.locator("#model-suggestions .chip")).to_have_count(4)
    finally:
        relay.delay_seconds = 0.0
    assert page.locator("#imp-apply").bounding_box() == before


def test_undo_restores_the_list(ext: Ext, cpa: Any, relay: Any) -> None:
    page, key_id = setup_page(ext, cpa, relay)
    open_dialog(page, key_id)
    page.click("#imp-apply")
    toast = page.locator(".toast.toast-success[data-action=created]")
    expect(toast).to_be_visible()
    assert len(providers(cpa)) == 1
    toast.get_by_role("button", name=EN["undo"]).click()
    expect(page.locator(".toast.toast-success[data-action=undone]")).to_be_visible()
    assert providers(cpa) == []


CONFLICT_YAML = DEFAULT_YAML.replace(
    "openai-compatibility: []",
    """openai-compatibility:
  - name: Conflict Relay
    base-url: https://elsewhere.example.com/v1
    api-key-entries:
      - api-key: sk-elsewhere-0123456789abcdef
""",
)


def use_conflict_config(cpa: Any) -> None:
    cpa.config_path.write_text(CONFLICT_YAML, encoding="utf-8")
    cpa.restart()


def test_name_conflict_import_under_a_new_name(ext: Ext, cpa: Any, relay: Any) -> None:
    use_conflict_config(cpa)
    page, key_id = setup_page(ext, cpa, relay, site="Conflict Relay")
    open_dialog(page, key_id)
    page.click("#imp-preview-btn")
    conflict = page.locator("#imp-conflict")
    expect(conflict).to_be_visible()
    expect(page.locator("#imp-conflict-existing")).to_have_text("https://elsewhere.example.com/v1")
    expect(page.locator("#imp-conflict-new")).to_have_text(relay.url + "/v1")

    conflict.get_by_role("button", name=EN["conflict_rename"]).click()
    expect(page.locator("#pv-action")).to_have_attribute("data-action", "created")
    new_name = page.locator("#pv-name").text_content()
    assert new_name and new_name != "Conflict Relay"
    # The name field says the same as the preview, and the focus stays in the dialog, on it.
    expect(page.locator("#imp-name")).to_have_value(new_name)
    expect(page.locator("#imp-name")).to_be_focused()
    page.click("#imp-apply")
    expect(page.locator(".toast.toast-success[data-action=created]")).to_contain_text(new_name)
    names = {p["name"]: p["base-url"] for p in providers(cpa)}
    assert names == {
        "Conflict Relay": "https://elsewhere.example.com/v1",
        new_name: relay.url + "/v1",
    }


def test_name_conflict_add_to_the_existing_provider(ext: Ext, cpa: Any, relay: Any) -> None:
    use_conflict_config(cpa)
    page, key_id = setup_page(ext, cpa, relay, site="Conflict Relay")
    open_dialog(page, key_id)
    page.click("#imp-apply")
    expect(page.locator('.toast.toast-error[data-code="name_conflict"]')).to_be_visible()
    conflict = page.locator("#imp-conflict")
    expect(conflict).to_be_visible()
    conflict.get_by_role("button", name=EN["conflict_use_existing"]).click()
    expect(page.locator(".toast.toast-success[data-action=updated]")).to_contain_text(
        "Conflict Relay"
    )
    [provider] = providers(cpa)
    assert provider["base-url"] == "https://elsewhere.example.com/v1"
    assert [e["api-key"] for e in provider["api-key-entries"]] == [
        "sk-elsewhere-0123456789abcdef",
        UPSTREAM_KEY,
    ]


#: In the page: when the first toast appears, note how many key checkboxes are still checked.
WATCH_TOAST_AND_LIST = """() => {
  window.__checkedAtToast = null;
  const observer = new MutationObserver(() => {
    if (!document.querySelector('.toast')) return;
    window.__checkedAtToast = document.querySelectorAll('.key-select:checked').length;
    observer.disconnect();
  });
  observer.observe(document.body, { subtree: true, childList: true });
}"""


def test_batch_import(ext: Ext, cpa: Any, relay: Any) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    _, first = add_site_with_key(ext, page, "Batch One", relay.url, UPSTREAM_KEY)
    _, second = add_site_with_key(
        ext, page, "Batch Two", relay.url + "/two", "sk-batch-two-0123456789abcdef"
    )
    page.reload()
    for key_id in (first, second):
        page.locator(f'.key-row[data-key-id="{key_id}"] .key-select').check()
    expect(page.locator("#selection-bar")).to_be_visible()
    page.click("#batch-import")
    dialog = page.locator("#batch-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".batch-item")).to_have_count(2)

    page.click("#batch-preview")
    expect(dialog.locator('.batch-item[data-status="created"]')).to_have_count(2)
    assert providers(cpa) == []
    # "Batch Two" has no model list (404 at /two/v1/models): its row says so, before anything is written.
    two = dialog.locator(f'.batch-item[data-key-id="{second}"]')
    expect(two.locator(".batch-warnings")).to_contain_text(EN["warning_model_list_404"])
    expect(two.locator(".batch-warnings")).to_contain_text(
        EN["warning_provider_without_models"].replace("$PROVIDER$", "Batch Two")
    )
    expect(dialog.locator(f'.batch-item[data-key-id="{first}"] .batch-warnings')).to_have_count(0)

    # When the toast appears, the list behind the dialog has not been redrawn yet (it is, once
    # the toast is painted): the result does not wait for a redraw of every site.
    page.evaluate(WATCH_TOAST_AND_LIST)
    page.click("#batch-apply")
    toast = page.locator(".toast.toast-warning[data-action=created]")
    expect(toast).to_contain_text("2 of 2")
    expect(toast).to_contain_text(EN["batch_without_models"].replace("$COUNT$", "1"))
    expect(dialog.locator('.batch-item[data-status="created"]')).to_have_count(2)
    assert sorted(p["name"] for p in providers(cpa)) == ["Batch One", "Batch Two"]
    assert page.evaluate("() => window.__checkedAtToast") == 2
    expect(page.locator(".key-select:checked")).to_have_count(0)  # then the selection is cleared
    expect(page.locator("#selection-bar")).to_be_hidden()


def test_a_site_without_a_model_list_is_not_said_to_refuse(ext: Ext, cpa: Any, relay: Any) -> None:
    page, key_id = setup_page(ext, cpa, relay, site="No List", url=relay.url + "/nolist")
    dialog = open_dialog(page, key_id)
    expect(dialog.locator("#models-status")).to_have_text(EN["hint_upstream_error_404"])
    page.click("#imp-preview-btn")
    warnings = page.locator("#pv-warnings")
    expect(warnings).to_contain_text(EN["warning_model_list_404"])
    expect(warnings).to_contain_text(
        EN["warning_provider_without_models"].replace("$PROVIDER$", "No List")
    )
    assert "refused" not in (dialog.text_content() or "")


def test_wrong_management_key_shows_unauthorized_toast(ext: Ext, cpa: Any, relay: Any) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa, key="wrong-management-key-0000")
    _, key_id = add_site_with_key(ext, page, "Relay Import", relay.url, UPSTREAM_KEY)
    page.reload()
    open_dialog(page, key_id)
    page.click("#imp-apply")
    toast = page.locator('.toast.toast-error[data-code="unauthorized"]')
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(EN["error_unauthorized"])
    expect(toast.get_by_role("button", name=EN["open_options"])).to_be_visible()
    assert providers(cpa) == []


def test_not_configured_toast(ext: Ext, relay: Any) -> None:
    page = ext.open("keys.html")
    _, key_id = add_site_with_key(ext, page, "Relay Import", relay.url, UPSTREAM_KEY)
    page.reload()
    open_dialog(page, key_id)
    page.click("#imp-apply")
    toast = page.locator('.toast.toast-error[data-code="not_configured"]')
    expect(toast).to_be_visible()
    expect(toast.get_by_role("button", name=EN["open_options"])).to_be_visible()


def test_fan_out_to_all_servers(ext: Ext, cpa: Any, relay: Any, standin: Any) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    second = ext.call(
        page,
        "settings.set",
        {"target": "second", "management_url": standin.url, "management_key": STANDIN_SECRET},
    )
    assert second["ok"], second
    _, key_id = add_site_with_key(ext, page, "Fan Relay", relay.url, UPSTREAM_KEY)
    page.reload()
    open_dialog(page, key_id)
    target = page.locator("#imp-target")
    expect(target).to_be_visible()
    target.select_option(label=EN["all_targets"])
    page.click("#imp-apply")
    toast = page.locator(".toast.toast-success[data-action=created]")
    expect(toast).to_contain_text("Imported to 2 of 2 servers")
    assert [p["name"] for p in providers(cpa)] == ["Fan Relay"]
    assert [p["name"] for p in standin.config().get("openai-compatibility") or []] == ["Fan Relay"]


def test_fan_out_with_one_failing_server_then_retry_failed(
    ext: Ext, cpa: Any, relay: Any, standin: Any
) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    configure(ext, page, standin, key="wrong-management-key-0000", target="second")
    _, key_id = add_site_with_key(ext, page, "Fan Relay", relay.url, UPSTREAM_KEY)
    page.reload()
    open_dialog(page, key_id)
    page.locator("#imp-target").select_option(label=EN["all_targets"])
    page.click("#imp-apply")

    # One server took it, the other refused the management key: the toast says which and why.
    toast = page.locator(".toast.toast-warning[data-action=created]")
    expect(toast).to_contain_text("Imported to 1 of 2 servers")
    expect(toast).to_contain_text(f"second failed: {EN['error_unauthorized']}")
    expect(toast).to_have_attribute("data-failed-targets", "second")
    expect(toast.get_by_role("button", name=EN["undo"])).to_be_visible()
    expect(toast.get_by_role("button", name=EN["open_options"])).to_be_visible()
    assert [p["name"] for p in providers(cpa)] == ["Fan Relay"]
    assert standin.config().get("openai-compatibility") in (None, [])
    out = ARTIFACTS / "fan-out"
    out.mkdir(parents=True, exist_ok=True)
    toast.hover()  # keeps it open for the screenshot
    page.screenshot(path=str(out / "toast-1-of-2.png"))

    # Fix the key, then Retry failed sends the import to "second" only.
    configure(ext, page, standin, target="second")
    cpa.reset_requests()
    toast.get_by_role("button", name=EN["retry_failed"]).click()
    retried = page.locator(".toast.toast-success[data-action=created]")
    expect(retried).to_contain_text("Imported to 1 of 1 servers")
    [provider] = standin.config()["openai-compatibility"]
    assert provider["name"] == "Fan Relay"
    assert [e["api-key"] for e in provider["api-key-entries"]] == [UPSTREAM_KEY]
    assert [p["name"] for p in providers(cpa)] == ["Fan Relay"]
    assert cpa.requests == []  # the server that had it was left alone


def test_fan_out_failing_everywhere_offers_retry(
    ext: Ext, cpa: Any, relay: Any, standin: Any
) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa, key="wrong-management-key-0000")
    configure(ext, page, standin, key="wrong-management-key-0000", target="second")
    _, key_id = add_site_with_key(ext, page, "Fan Relay", relay.url, UPSTREAM_KEY)
    page.reload()
    open_dialog(page, key_id)
    page.locator("#imp-target").select_option(label=EN["all_targets"])
    page.click("#imp-apply")
    toast = page.locator('.toast.toast-error[data-code="unauthorized"]')
    expect(toast).to_contain_text("Not imported to any of the 2 servers")
    expect(toast).to_contain_text(f"default failed: {EN['error_unauthorized']}")
    expect(toast).to_contain_text(f"second failed: {EN['error_unauthorized']}")
    expect(toast.get_by_role("button", name=EN["retry_failed"])).to_be_visible()
    expect(toast.get_by_role("button", name=EN["undo"])).to_have_count(0)


def test_batch_fan_out_retry_failed(ext: Ext, cpa: Any, relay: Any, standin: Any) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    configure(ext, page, standin, key="wrong-management-key-0000", target="second")
    _, first = add_site_with_key(ext, page, "Batch One", relay.url, UPSTREAM_KEY)
    _, second = add_site_with_key(
        ext, page, "Batch Two", relay.url + "/two", "sk-batch-two-0123456789abcdef"
    )
    page.reload()
    for key_id in (first, second):
        page.locator(f'.key-row[data-key-id="{key_id}"] .key-select').check()
    page.click("#batch-import")
    page.locator("#batch-target").select_option(label=EN["all_targets"])
    page.click("#batch-apply")
    toast = page.locator(".toast.toast-warning[data-action=created]")
    expect(toast).to_contain_text("Imported 2 of 4 keys")
    expect(toast).to_contain_text(f"second failed: {EN['error_unauthorized']}")
    assert sorted(p["name"] for p in providers(cpa)) == ["Batch One", "Batch Two"]

    configure(ext, page, standin, target="second")
    toast.get_by_role("button", name=EN["retry_failed"]).click()
    retried = page.locator(".toast.toast-warning[data-action=created]")  # "Batch Two" has no models
    expect(retried).to_contain_text("Imported 2 of 2 keys")
    expect(retried).to_contain_text(EN["batch_without_models"].replace("$COUNT$", "1"))
    assert sorted(p["name"] for p in standin.config()["openai-compatibility"]) == [
        "Batch One",
        "Batch Two",
    ]


def test_provider_options_are_checked_then_imported(ext: Ext, cpa: Any, relay: Any) -> None:
    page, key_id = setup_page(ext, cpa, relay, site="Relay Options")
    dialog = open_dialog(page, key_id)
    options = dialog.locator("#imp-options")
    expect(options.locator("summary")).to_have_text(EN["provider_options_title"])
    options.locator("summary").click()
    page.fill("#imp-opt-prefix", "team")
    page.fill("#imp-opt-priority", "4")
    page.fill("#imp-opt-weight", "0")  # out of range: refused in the page, nothing is sent
    page.fill("#imp-opt-headers", "X-Org: org-secret-value")
    page.click("#imp-apply")
    expect(page.locator("#imp-opt-weight")).to_be_focused()
    expect(page.locator("#imp-opt-weight")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".toast.toast-error")).to_be_visible()
    assert providers(cpa) == []
    page.fill("#imp-opt-weight", "6")
    page.click("#imp-apply")
    expect(page.locator(".toast.toast-success[data-action=created]")).to_be_visible()
    [provider] = providers(cpa)
    assert (provider["prefix"], provider["priority"], provider["headers"]) == (
        "team",
        4,
        {"X-Org": "org-secret-value"},
    )
    assert provider["api-key-entries"][0]["weight"] == 6
    assert "org-secret-value" not in page.content()
