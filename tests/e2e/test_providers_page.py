"""The CLIProxyAPI tab (providers.html): list, details, key removal, disable, models, delete
with Undo, and the drift view with Sync, all against stand-in CLIProxyAPI servers."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Ext, configure, messages
from tests.masks import hint
from tests.standin.plugin import DEFAULT_YAML, UPSTREAM_KEY

EN = messages("en")


KEEP_KEY = "sk-keep-0123456789abcdef"
RELAY_KEY_1 = "sk-relay-two-key-1111111111"
RELAY_KEY_2 = "sk-relay-two-key-2222222222"
CLAUDE_KEY = "sk-claude-0123456789abcdef"
HEADER_SECRET = "header-secret-value-0000"

MANAGED_YAML = DEFAULT_YAML.replace(
    "openai-compatibility: []",
    f"""openai-compatibility:
  - name: Keep Me
    base-url: https://keep.example.com/v1
    api-key-entries:
      - api-key: {KEEP_KEY}
  - name: Relay Two
    base-url: https://relay-two.example.com/v1
    prefix: team
    headers:
      X-Custom: {HEADER_SECRET}
    api-key-entries:
      - api-key: {RELAY_KEY_1}
        weight: 3
        proxy-url: socks5://127.0.0.1:1080
      - api-key: {RELAY_KEY_2}
    models:
      - name: gpt-4o
        alias: 4o
      - name: o3
        alias: o3
claude-api-key:
  - api-key: {CLAUDE_KEY}
    base-url: https://claude.example.com
""",
)


def use_config(server: Any, text: str) -> None:
    server.config_path.write_text(text, encoding="utf-8")
    server.restart()


def openai(server: Any) -> list[dict[str, Any]]:
    return server.config().get("openai-compatibility") or []


def by_name(server: Any, name: str) -> dict[str, Any]:
    [entry] = [p for p in openai(server) if p["name"] == name]
    return entry


def open_providers(ext: Ext, cpa: Any, *, hash_: str = "", **kwargs: Any) -> Any:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    page.close()
    page = ext.open("providers.html" + hash_, **kwargs)
    expect(page.locator("#main")).to_have_attribute("data-state", "ready")
    return page


def card(page: Any, name: str) -> Any:
    return page.locator(".provider-card").filter(has=page.locator(".provider-name", has_text=name))


def test_lists_providers_with_masked_keys(ext: Ext, cpa: Any) -> None:
    use_config(cpa, MANAGED_YAML)
    page = open_providers(ext, cpa)
    expect(page.locator("h1")).to_have_text(EN["providers_title"])
    expect(page.locator('.app-nav a[aria-current="page"]')).to_have_text(EN["nav_providers"])
    expect(page.locator("#target-select")).to_have_value("default")
    expect(page.locator("#view-status")).to_have_text(
        "Providers on “default”: 3 · 1 without models · server " + cpa.version
    )
    expect(page.locator('.plist[data-list="openai-compatibility"] .provider-card')).to_have_count(2)
    expect(page.locator('.plist[data-list="claude-api-key"] .provider-card')).to_have_count(1)
    relay = card(page, "Relay Two")
    expect(relay.locator(".provider-url")).to_have_text("https://relay-two.example.com/v1")
    expect(relay.locator(".provider-meta")).to_have_text("Keys: 2 · models: 2 · prefix: team")
    expect(relay.locator(".provider-key code")).to_have_text([hint(RELAY_KEY_1), hint(RELAY_KEY_2)])
    expect(relay.locator(".provider-models-line")).to_contain_text("gpt-4o → 4o, o3")
    content = page.content()
    for secret in (KEEP_KEY, RELAY_KEY_1, RELAY_KEY_2, CLAUDE_KEY, HEADER_SECRET):
        assert secret not in content

    # The filter narrows the cards.
    page.fill("#provider-filter", "claude")
    expect(page.locator(".provider-card")).to_have_count(1)
    page.fill("#provider-filter", "")
    expect(page.locator(".provider-card")).to_have_count(3)

    # Details (providers.show): header names only, keys masked, proxy and weight.
    relay.get_by_role("button", name="Details of Relay Two").click()
    dialog = page.locator("#details-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".details-keys tbody tr")).to_have_count(2)
    expect(dialog.locator(".details-keys tbody tr").first).to_contain_text(hint(RELAY_KEY_1))
    expect(dialog.locator(".details-keys tbody tr").first).to_contain_text(
        "socks5://127.0.0.1:1080"
    )
    expect(dialog.locator(".details-models tbody tr")).to_have_count(2)
    expect(dialog).to_contain_text("X-Custom")
    assert HEADER_SECRET not in page.content()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_delete_a_provider_then_undo_restores_it_exactly(ext: Ext, cpa: Any) -> None:
    use_config(cpa, MANAGED_YAML)
    page = open_providers(ext, cpa)
    before = cpa.config()
    relay = card(page, "Relay Two")
    delete = relay.get_by_role("button", name="Delete Relay Two")

    # Cancel writes nothing.
    delete.click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-dialog").get_by_role("button", name=EN["cancel"]).click()
    assert cpa.config() == before

    delete.click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text("“Relay Two” and its keys (2)")
    expect(page.locator("#confirm-text")).to_contain_text("“default”")
    page.click("#confirm-ok")

    toast = page.locator(".toast.toast-success[data-action=deleted]")
    expect(toast).to_contain_text("Deleted Relay Two")
    expect(relay).to_have_count(0)
    assert [p["name"] for p in openai(cpa)] == ["Keep Me"]
    assert cpa.config()["claude-api-key"] == before["claude-api-key"]  # other lists untouched

    toast.get_by_role("button", name=EN["undo"]).click()
    expect(page.locator(".toast.toast-success[data-action=undone]")).to_be_visible()
    expect(card(page, "Relay Two")).to_be_visible()  # the page read the list again
    assert cpa.config() == before


def test_remove_key_disable_and_edit_models(ext: Ext, cpa: Any) -> None:
    use_config(cpa, MANAGED_YAML)
    page = open_providers(ext, cpa)
    relay = card(page, "Relay Two")

    # Remove one key (after confirming); the other key, its weight and proxy stay.
    relay.get_by_role("button", name=f"Remove key {hint(RELAY_KEY_2)} from Relay Two").click()
    expect(page.locator("#confirm-text")).to_contain_text(hint(RELAY_KEY_2))
    page.click("#confirm-ok")
    expect(page.locator(".toast.toast-success[data-action=key-removed]")).to_be_visible()
    expect(relay.locator(".provider-key code")).to_have_text([hint(RELAY_KEY_1)])
    entries = by_name(cpa, "Relay Two")["api-key-entries"]
    assert entries == [
        {"api-key": RELAY_KEY_1, "weight": 3, "proxy-url": "socks5://127.0.0.1:1080"}
    ]

    # Disable, then enable (no confirmation: Undo is there).
    relay.get_by_role("button", name="Disable Relay Two").click()
    expect(page.locator(".toast.toast-success[data-action=disabled]")).to_be_visible()
    expect(relay).to_have_attribute("data-disabled", "true")
    expect(relay.locator(".provider-disabled-badge")).to_have_text(EN["provider_disabled"])
    assert by_name(cpa, "Relay Two").get("disabled") is True
    expect(relay.get_by_role("button", name="Enable Relay Two")).to_be_focused()
    relay.get_by_role("button", name="Enable Relay Two").click()
    expect(relay).to_have_attribute("data-disabled", "false")
    assert not by_name(cpa, "Relay Two").get("disabled")

    # Edit the model mappings: rename an alias, drop one, add one.
    relay.get_by_role("button", name="Edit the model mappings of Relay Two").click()
    dialog = page.locator("#models-dialog")
    expect(dialog).to_be_visible()
    rows = dialog.locator(".mapping-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".map-name")).to_have_value("gpt-4o")
    expect(rows.nth(0).locator(".map-alias")).to_have_value("4o")
    expect(rows.nth(1).locator(".map-alias")).to_have_value("")  # alias = name is shown empty
    rows.nth(0).locator(".map-alias").fill("four-o")
    rows.nth(1).locator(".map-remove").click()
    dialog.get_by_role("button", name=EN["mapping_add_row"]).click()
    rows.nth(1).locator(".map-name").fill("deepseek-chat")
    dialog.get_by_role("button", name=EN["save"]).click()
    toast = page.locator(".toast.toast-success[data-action=models]")
    expect(toast).to_contain_text("Saved the model mappings of Relay Two")
    expect(dialog).to_be_hidden()
    models = [(m["name"], m.get("alias")) for m in by_name(cpa, "Relay Two")["models"]]
    assert models == [("gpt-4o", "four-o"), ("deepseek-chat", "deepseek-chat")]
    expect(relay.locator(".provider-models-line")).to_contain_text("gpt-4o → four-o, deepseek-chat")

    # Undo the model edit.
    toast.get_by_role("button", name=EN["undo"]).click()
    expect(page.locator(".toast.toast-success[data-action=undone]")).to_be_visible()
    models = [(m["name"], m.get("alias")) for m in by_name(cpa, "Relay Two")["models"]]
    assert models == [("gpt-4o", "4o"), ("o3", "o3")]


def test_a_provider_changed_meanwhile_is_reported(ext: Ext, cpa: Any) -> None:
    use_config(cpa, MANAGED_YAML)
    page = open_providers(ext, cpa)
    relay = card(page, "Relay Two")
    # Someone else removes the provider in CLIProxyAPI after the page read the list.
    use_config(cpa, DEFAULT_YAML)
    relay.get_by_role("button", name="Disable Relay Two").click()
    expect(page.locator('.toast.toast-error[data-code="not_found"]')).to_be_visible()
    expect(page.locator("#view-status")).to_have_text(
        "“default” has no providers yet."
    )  # read again


def test_not_configured_points_to_settings(ext: Ext) -> None:
    page = ext.open("providers.html")
    expect(page.locator("#setup-hint")).to_be_visible()
    expect(page.locator("#setup-hint")).to_contain_text(EN["providers_not_configured_title"])
    expect(
        page.locator("#setup-hint").get_by_role("button", name=EN["open_options"])
    ).to_be_visible()


# ---------------------------------------------------------------------------------------------
# several servers: drift and sync
# ---------------------------------------------------------------------------------------------

SHARED_KEY_1 = "sk-shared-key-aaaaaaaaaaaa"
SHARED_KEY_2 = "sk-shared-key-bbbbbbbbbbbb"


def shared_yaml(*keys: str) -> str:
    entries = "\n".join(f"      - api-key: {key}" for key in keys)
    return DEFAULT_YAML.replace(
        "openai-compatibility: []",
        f"""openai-compatibility:
  - name: Shared
    base-url: https://shared.example.com/v1
    api-key-entries:
{entries}
    models:
      - name: gpt-4o
        alias: gpt-4o
""",
    )


def test_drift_shows_a_missing_key_and_sync_fixes_it(
    ext: Ext, cpa: Any, standin_factory: Any
) -> None:
    use_config(cpa, shared_yaml(SHARED_KEY_1, SHARED_KEY_2))
    second = standin_factory(initial_yaml=shared_yaml(SHARED_KEY_1))
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    configure(ext, page, second, target="second")
    page = open_providers(ext, cpa)
    page.locator("#target-select").select_option(label=EN["providers_all_targets"])

    row = page.locator('tr.drift-provider[data-name="Shared"]')
    expect(row).to_be_visible()
    expect(page.locator("#drift-summary")).to_contain_text("Servers compared: 2 ·")
    expect(row.locator('td[data-target="default"]')).to_have_attribute("data-state", "present")
    expect(row.locator('td[data-target="second"]')).to_have_attribute("data-state", "present")
    missing_key = page.locator("tr.drift-key").filter(has_text=hint(SHARED_KEY_2))
    expect(missing_key.locator('td[data-target="default"]')).to_have_attribute(
        "data-state", "present"
    )
    expect(missing_key.locator('td[data-target="second"]')).to_have_attribute(
        "data-state", "missing"
    )
    expect(missing_key.locator('td[data-target="second"]')).to_have_text(EN["drift_missing"])
    present_key = page.locator("tr.drift-key").filter(has_text=hint(SHARED_KEY_1))
    expect(present_key.locator('td[data-target="second"]')).to_have_attribute(
        "data-state", "present"
    )
    assert page.url.endswith("providers.html#all")

    row.get_by_role("button", name="Sync Shared to other servers").click()
    dialog = page.locator("#sync-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#sync-from")).to_have_value("default")
    expect(dialog.locator('.sync-to-target[value="second"]')).to_be_checked()

    # Preview first: nothing is written.
    page.click("#sync-preview")
    result = dialog.locator('.sync-result[data-target="second"]')
    expect(result).to_contain_text("add keys: 1")
    assert [e["api-key"] for e in by_name(second, "Shared")["api-key-entries"]] == [SHARED_KEY_1]

    page.click("#sync-apply")
    toast = page.locator(".toast.toast-success[data-action=synced]")
    expect(toast).to_contain_text("Synced to 1 of 1 servers")
    expect(toast).to_contain_text("keys added: 1")
    expect(dialog).to_be_hidden()
    assert [e["api-key"] for e in by_name(second, "Shared")["api-key-entries"]] == [
        SHARED_KEY_1,
        SHARED_KEY_2,
    ]
    assert [e["api-key"] for e in by_name(cpa, "Shared")["api-key-entries"]] == [
        SHARED_KEY_1,
        SHARED_KEY_2,
    ]
    expect(page.locator("#view-status")).to_have_text(EN["drift_all_in_sync"])
    expect(page.locator("tr.drift-provider")).to_have_count(0)

    # "Same everywhere" rows can be shown too.
    page.locator("#drift-show-all").check()
    expect(row.locator(".badge")).to_have_text(EN["drift_in_sync"])
    expect(missing_key.locator('td[data-target="second"]')).to_have_attribute(
        "data-state", "present"
    )

    # Undo takes the key off the second server again.
    toast.get_by_role("button", name=EN["undo"]).click()
    expect(page.locator(".toast.toast-success[data-action=undone]")).to_be_visible()
    assert [e["api-key"] for e in by_name(second, "Shared")["api-key-entries"]] == [SHARED_KEY_1]
    expect(missing_key.locator('td[data-target="second"]')).to_have_attribute(
        "data-state", "missing"
    )


def test_sync_all_creates_missing_providers_and_reports_a_failing_server(
    ext: Ext, cpa: Any, standin_factory: Any
) -> None:
    use_config(cpa, MANAGED_YAML)
    second = standin_factory()
    third = standin_factory()
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    configure(ext, page, second, target="second")
    configure(ext, page, third, target="third")
    page = open_providers(ext, cpa, hash_="#all")
    expect(page.locator("#target-select")).to_have_value("*all*")
    expect(page.locator("#drift-summary")).to_contain_text("Servers compared: 3 ·")
    expect(
        page.locator('tr.drift-provider[data-name="Relay Two"] td[data-target="third"]')
    ).to_have_attribute("data-state", "missing")

    third.stop()  # unreachable from now on
    page.click("#sync-all")
    dialog = page.locator("#sync-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#sync-subtitle")).to_have_text(EN["sync_everything"])
    expect(dialog.locator(".sync-to-target")).to_have_count(2)
    page.click("#sync-apply")
    toast = page.locator(".toast.toast-warning[data-action=synced]")
    expect(toast).to_contain_text("Synced to 1 of 2 servers")
    expect(toast).to_contain_text(f"third failed: {EN['error_unreachable']}")
    expect(toast.get_by_role("button", name=EN["retry_failed"])).to_be_visible()
    # The dialog stays open with the result per server.
    expect(dialog.locator('.sync-result[data-target="second"]')).to_have_attribute(
        "data-status", "ok"
    )
    expect(dialog.locator('.sync-result[data-target="third"]')).to_have_attribute(
        "data-status", "failed"
    )
    assert sorted(p["name"] for p in openai(second)) == ["Keep Me", "Relay Two"]
    assert [e["api-key"] for e in second.config()["claude-api-key"]] == [CLAUDE_KEY]


def test_reachable_from_the_nav_and_usable_with_the_keyboard(ext: Ext, cpa: Any) -> None:
    use_config(cpa, MANAGED_YAML)
    keys = ext.open("keys.html")
    configure(ext, keys, cpa)
    keys.get_by_role("link", name=EN["nav_providers"]).click()
    # The page then records the server it shows in the fragment (#target=default): either is right.
    expect(keys).to_have_url(
        re.compile(re.escape(ext.browser.url("providers.html")) + r"(#target=default)?$")
    )
    page = keys
    expect(page.locator("#main")).to_have_attribute("data-state", "ready")
    delete = card(page, "Keep Me").get_by_role("button", name="Delete Keep Me")
    for _ in range(60):  # Tab through the page until the first Delete button has focus
        page.keyboard.press("Tab")
        if delete.evaluate("node => node === document.activeElement"):
            break
    else:
        raise AssertionError("the Delete button is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.keyboard.press("Escape")  # cancels: nothing is written
    expect(page.locator("#confirm-dialog")).to_be_hidden()
    expect(delete).to_be_focused()
    assert [p["name"] for p in openai(cpa)] == ["Keep Me", "Relay Two"]


def test_models_dialog_suggests_the_sites_models_and_focuses_the_alias(
    ext: Ext, cpa: Any, relay: Any
) -> None:
    use_config(
        cpa,
        DEFAULT_YAML.replace(
            "openai-compatibility: []",
            f"""openai-compatibility:
  - name: Live Relay
    base-url: {relay.url}/v1
    api-key-entries:
      - api-key: {UPSTREAM_KEY}
""",
        ),
    )
    page = open_providers(ext, cpa)
    card(page, "Live Relay").get_by_role(
        "button", name="Edit the model mappings of Live Relay"
    ).click()
    dialog = page.locator("#models-dialog")
    chip = dialog.locator('#models-suggestions .chip[data-model="gpt-4o-mini"]')
    expect(chip).to_be_visible()  # the host asked the site with the provider's own key
    expect(dialog.locator("#models-upstream option")).to_have_count(4)
    chip.click()
    row = dialog.locator(".mapping-row")
    expect(row).to_have_count(1)  # the empty row was filled
    expect(row.locator(".map-name")).to_have_value("gpt-4o-mini")
    expect(row.locator(".map-alias")).to_be_focused()
    expect(chip).to_have_attribute("aria-pressed", "true")
    page.keyboard.type("mini")
    dialog.locator('#models-suggestions .chip[data-model="gpt-4.1"]').click()
    expect(row).to_have_count(2)
    expect(row.nth(1).locator(".map-alias")).to_be_focused()
    dialog.get_by_role("button", name=EN["save"]).click()
    expect(dialog).to_be_hidden()
    models = [(m["name"], m.get("alias")) for m in by_name(cpa, "Live Relay")["models"]]
    assert models == [("gpt-4o-mini", "mini"), ("gpt-4.1", "gpt-4.1")]
    assert UPSTREAM_KEY not in page.content()


def test_providers_without_models_are_flagged(ext: Ext, cpa: Any) -> None:
    use_config(
        cpa, MANAGED_YAML
    )  # "Keep Me" has no models; "Relay Two" has two; the Claude key serves its defaults
    page = open_providers(ext, cpa)
    keep = card(page, "Keep Me")
    expect(keep.locator(".provider-no-models-badge")).to_have_text(EN["provider_serves_nothing"])
    expect(keep.locator(".provider-models-line")).to_have_text(EN["provider_serves_nothing_text"])
    expect(card(page, "Relay Two").locator(".provider-no-models-badge")).to_have_count(0)
    expect(
        page.locator('.plist[data-list="claude-api-key"] .provider-no-models-badge')
    ).to_have_count(0)
    expect(page.locator("#view-status")).to_contain_text(
        EN["providers_serving_nothing"].replace("$COUNT$", "1")
    )
