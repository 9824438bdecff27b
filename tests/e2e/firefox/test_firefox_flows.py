"""Firefox ESR end to end: host reachable, settings saved, one import succeeds.

The real extension (sideloaded XPI) in headless Firefox ESR, driven over Marionette, talks to
the real host (registered by install/install.py) which talks to the stand-in CLIProxyAPI and
relay site. One Firefox for the module; see conftest.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cpa_bridge import PROTOCOL_VERSION, __version__
from tests.e2e.firefox.harness import EXT_UUID, GECKO_ID, Page, messages
from tests.masks import hint
from tests.standin.plugin import STANDIN_SECRET, UPSTREAM_KEY

pytestmark = pytest.mark.e2e

EN = messages("en")


def masked(secret: str) -> str:
    return hint(secret)


def open_options(ff: Page) -> None:
    ff.open("options.html", ready="#host-status")
    ff.wait('#host-status[data-state="ok"]')


def configure(ff: Page, standin: Any) -> None:
    """Point the host at the stand-in through the extension (no UI: test 2 covers the UI)."""
    reply = ff.call(
        "settings.set", {"management_url": standin.url, "management_key": STANDIN_SECRET}
    )
    assert reply["ok"], reply


def extension_storage_dump(ff: Page) -> str:
    """Everything the extension could have kept in the browser: storage.*, Web Storage, IndexedDB."""
    return ff.client.execute(
        """
        return (async () => {
        const api = globalThis.browser ?? globalThis.chrome;
        const out = {storageApi: Boolean(api.storage)};
        if (api.storage) {
          for (const area of ['local', 'sync', 'session']) {
            try { out[area] = await api.storage[area].get(null); } catch (e) { out[area] = String(e); }
          }
        }
        out.localStorage = Object.fromEntries(Object.entries(localStorage));
        out.sessionStorage = Object.fromEntries(Object.entries(sessionStorage));
        out.indexedDB = (await indexedDB.databases()).map((db) => db.name);
        out.cookies = document.cookie;
        return JSON.stringify(out);
        })();
        """
    )


def test_host_reachable(ff: Page) -> None:
    open_options(ff)
    ff.wait("#host-status", text=EN["host_installed"])
    ff.wait("#host-version", text=__version__)
    ff.wait("#host-protocol", text=str(PROTOCOL_VERSION))
    ff.wait_hidden("#host-banner")
    assert ff.client.url == f"moz-extension://{EXT_UUID}/options.html"
    ff.screenshot("options")
    # The host Firefox launched got Firefox's argv (manifest path, add-on id) and answered.
    assert "ok type=ping" in ff.host_env.host_log()


def test_settings_saved(ff: Page, standin: Any) -> None:
    open_options(ff)
    ff.fill("#mgmt-url", standin.url)
    ff.fill("#mgmt-key", STANDIN_SECRET)
    ff.click("#save-settings")
    ff.wait(".toast.toast-success[data-action=saved]")
    # The host normalised the deployment root; the page keeps no key, only the host's hint.
    assert ff.value("#mgmt-url") == standin.management_url
    assert ff.value("#mgmt-key") == ""
    assert ff.find("#mgmt-key").attribute("placeholder") == masked(STANDIN_SECRET)

    ff.click("#test-connection")
    ff.wait("#connection-result")
    ff.wait("#server-version", text=standin.version)
    ff.wait("#connection-url", text=standin.management_url)
    ff.wait('#list-counts tr[data-list="openai-compatibility"] td', text="0")
    ff.wait(".toast.toast-success[data-action=connected]", contains=standin.version)
    ff.screenshot("options")

    # The host keeps the settings, under the throwaway XDG_CONFIG_HOME.
    settings = ff.host_env.settings()
    [target] = settings["targets"]
    assert target["management_url"] == standin.management_url
    assert target["management_key"] == STANDIN_SECRET

    # The extension keeps nothing: no storage API (no permission), no Web Storage, no IndexedDB...
    dump = extension_storage_dump(ff)
    assert STANDIN_SECRET not in dump, dump
    assert json.loads(dump)["storageApi"] is False, dump
    # ...and the key is nowhere in the Firefox profile on disk (the add-on's storage under
    # storage/default/moz-extension+++<uuid>, browser-extension-data/<id>, session store, ...).
    profile = ff.browser.profile
    assert (profile / "extensions" / f"{GECKO_ID}.xpi").exists()
    for path in profile.rglob("*"):
        if path.is_file():
            assert STANDIN_SECRET.encode() not in path.read_bytes(), (
                f"the management key is in {path}"
            )

    # A reload shows what the host keeps: the URL and the masked key.
    ff.reload()
    ff.wait('#host-status[data-state="ok"]')
    ff.poll("the saved URL", lambda: ff.value("#mgmt-url") == standin.management_url)
    assert ff.value("#mgmt-key") == ""


def test_one_import_succeeds(ff: Page, standin: Any, upstream: Any) -> None:
    ff.open("keys.html", ready="#list-status")
    configure(ff, standin)
    ff.wait("#list-status", text=EN["no_sites"])

    # Add the relay site...
    ff.click("#add-site")
    ff.wait("#site-dialog")
    ff.fill("#site-name", "Relay FF")
    ff.fill("#site-url", upstream.url)
    ff.click("#site-form button[type=submit]")
    ff.wait_hidden("#site-dialog")
    card = ff.wait(".site-card[data-site-id]")
    site_id = card["attrs"]["data-site-id"]

    # ...and its key.
    ff.click(f'.site-card[data-site-id="{site_id}"] .add-key')
    ff.wait("#key-dialog")
    ff.fill("#key-label", "main")
    ff.fill("#key-secret", UPSTREAM_KEY)
    ff.click("#key-form button[type=submit]")
    ff.wait_hidden("#key-dialog")
    button = ff.wait("button.cpa-import[data-key-id]")
    key_id = button["attrs"]["data-key-id"]
    ff.wait(f'.key-row[data-key-id="{key_id}"] .key-value', text=masked(UPSTREAM_KEY))
    ff.screenshot("keys")

    # Import it into CLIProxyAPI.
    ff.click(f'button.cpa-import[data-key-id="{key_id}"]')
    ff.wait("#import-dialog")
    assert ff.value("#imp-name") == "Relay FF"
    assert ff.value("#imp-base") == upstream.url + "/v1"
    ff.wait('#model-suggestions .chip[data-model="gpt-4o-mini"]')  # the relay's models were fetched
    ff.screenshot("import-dialog")
    ff.click("#imp-apply")
    toast = ff.wait(".toast.toast-success[data-action=created]", contains="Relay FF")
    ff.wait_hidden("#import-dialog")
    ff.screenshot("keys-imported")
    assert toast["visible"]

    [provider] = standin.config()["openai-compatibility"]
    assert provider["name"] == "Relay FF"
    assert provider["base-url"] == upstream.url + "/v1"
    assert [entry["api-key"] for entry in provider["api-key-entries"]] == [UPSTREAM_KEY]


def test_relay_account_keys_import_in_full(ff: Page, standin: Any) -> None:
    """Add a New API account on the key page; its masked keys are listed; one imports in full."""
    from tests.standin.relay import StandinRelay

    token = "relay-access-token-firefox-0123"
    with StandinRelay("new-api", access_token=token) as relay:
        relay.add_tokens(3)
        ff.open("keys.html", ready="#list-status")
        configure(ff, standin)
        ff.click("#add-account")
        ff.wait("#account-dialog")
        ff.fill("#account-url", relay.url)
        ff.fill("#account-user", str(relay.user_id))
        ff.fill("#account-token", token)
        ff.click("#account-form button[type=submit]")
        ff.wait_hidden("#account-dialog")
        ff.wait(".site-card-account .account-family", text="New API")
        newest = max(relay.tokens, key=lambda t: t["id"])
        row = ff.wait(".site-card-account .key-row")
        key_id = row["attrs"]["data-key-id"]
        ff.wait(f'.key-row[data-key-id="{key_id}"] .key-status[data-status="enabled"]')
        ff.screenshot("relay-account")
        ff.click(f'button.cpa-import[data-key-id="{key_id}"]')
        ff.wait("#import-dialog")
        ff.click("#imp-apply")
        ff.wait(".toast.toast-success[data-action=created]")
        [provider] = standin.config()["openai-compatibility"]
        assert [e["api-key"] for e in provider["api-key-entries"]] == ["sk-" + newest["key"]]
