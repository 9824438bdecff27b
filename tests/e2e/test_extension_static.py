"""Checks of the extension's source that need no browser: manifest, locales, code rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "extension"
LOCALES = ("en", "zh_CN", "ja")
KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuyp6n3qo2G6b6R19spWymRh5RQ4CRwFiEPTfcFsKZoaDrxvlwTmu6Jo2Mrj8YqU6Vk"
    "DVYSXSSJWUMRevvXnT3nmyCq13Cjrqf6wfHqfqujtngmvF/4zcHPvoI99pA6IXdSIlJJZJvS1lzkfFiFvaeSNGYq9FpGKFPrrmKYwf+JDl8iJjhFk"
    "qJ8+kH0jiS3xaQyJDNuvlBwQqYQIkEoux/76QJU7M6uQNrhCghZR2EIre/FU177ZxV/rgcqrcMLVgG7Hd+auP35/iDs/XXgYpuNdLo5Mqy2KuqSR"
    "wTb1HiDpUN/lF3Yl1q+mDu04bbsnGROq0YrAS6x8JR7OFPAWl2wIDAQAB"
)
# Message names built at run time from a prefix and an id (see lib/errors.js, lib/results.js …).
DYNAMIC_PREFIXES = (
    "error_",
    "hint_",
    "provider_",
    "list_",
    "action_",
    "status_would_",
    "toast_import_",
)


def scripts() -> list[Path]:
    return sorted(EXT.rglob("*.js"))


def pages() -> list[Path]:
    return sorted(EXT.glob("*.html"))


def load_messages(locale: str) -> dict:
    return json.loads((EXT / "_locales" / locale / "messages.json").read_text(encoding="utf-8"))


def test_manifest_identity_and_policy() -> None:
    manifest = json.loads((EXT / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["manifest_version"] == 3
    assert manifest["key"] == KEY
    assert manifest["browser_specific_settings"]["gecko"] == {
        "id": "cpa-bridge@cpabridge.io",
        "strict_min_version": "121.0",
        "data_collection_permissions": {"required": ["none"]},
    }
    assert manifest["background"] == {
        "service_worker": "background.js",
        "scripts": ["background.js"],
        "type": "module",
    }
    assert set(manifest["permissions"]) <= {"nativeMessaging", "storage"}
    assert "nativeMessaging" in manifest["permissions"]
    assert manifest["default_locale"] == "en"
    assert (
        manifest["content_security_policy"]["extension_pages"]
        == "script-src 'self'; object-src 'self'"
    )
    assert manifest["options_ui"] == {"page": "options.html", "open_in_tab": True}
    for size in ("16", "32", "48", "128"):
        icon = EXT / manifest["icons"][size]
        assert icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", icon
    for value in (manifest["name"], manifest["description"], manifest["action"]["default_title"]):
        name = re.fullmatch(r"__MSG_(\w+)__", value).group(1)
        for locale in LOCALES:
            assert name in load_messages(locale)


def test_locales_have_the_same_messages_and_placeholders() -> None:
    english = load_messages("en")
    for locale in LOCALES[1:]:
        other = load_messages(locale)
        assert set(other) == set(english), f"{locale}: {set(other) ^ set(english)}"
        for name, entry in english.items():
            assert other[name]["message"].strip(), f"{locale}:{name} is empty"
            assert set(other[name].get("placeholders", {})) == set(entry.get("placeholders", {})), (
                name
            )
            used = {p.lower() for p in re.findall(r"\$(\w+)\$", other[name]["message"])}
            assert used == set(entry.get("placeholders", {})), f"{locale}:{name} uses {used}"


def test_every_protocol_error_code_has_a_message() -> None:
    protocol = (ROOT / "host" / "PROTOCOL.md").read_text(encoding="utf-8")
    section = protocol.split("## 4. Error codes", 1)[1].split("## 5.", 1)[0].split("### 4b.", 1)[0]
    codes = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    assert len(codes) >= 20
    for locale in LOCALES:
        messages = load_messages(locale)
        missing = [code for code in codes if f"error_{code}" not in messages]
        assert not missing, f"{locale} lacks error_ messages for {missing}"


def test_every_message_name_used_exists() -> None:
    messages = load_messages("en")
    used: set[str] = set()
    for page in pages():
        used |= set(
            re.findall(
                r'data-i18n(?:-[a-z-]+)?="([A-Za-z0-9_]+)"', page.read_text(encoding="utf-8")
            )
        )
    for script in scripts():
        text = script.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\s*'([A-Za-z0-9_]+)'", text))
        used |= set(re.findall(r"\bmessage\(\s*'([A-Za-z0-9_]+)'", text))
        for pair in re.findall(r"t\(\s*\w+ \? '([a-z0-9_]+)' : '([a-z0-9_]+)'", text):
            used |= set(pair)
    missing = sorted(name for name in used if name not in messages)
    assert not missing, f"used but not in _locales/en: {missing}"


@pytest.mark.parametrize("page", [p.name for p in pages()])
def test_pages_have_no_inline_script_or_handlers(page: str) -> None:
    text = (EXT / page).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline <script> (CSP forbids it)"
    assert not re.search(r"\son[a-z]+=", text), "inline event handler attribute"
    assert 'type="module"' in text


def test_code_rules() -> None:
    for script in scripts():
        text = script.read_text(encoding="utf-8")
        name = script.relative_to(EXT).as_posix()
        assert not re.search(r"\bvar\s", text), f"{name}: var"
        assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write", text), (
            f"{name}: HTML"
        )

        assert not re.search(r"\beval\(|new Function\(", text), f"{name}: eval"
        if name != "lib/host.js":
            assert "connectNative" not in text, f"{name}: only lib/host.js may call connectNative"
        if name != "lib/browser.js":
            assert not re.search(r"globalThis\.(browser|chrome)\b", text), (
                f"{name}: use lib/browser.js"
            )
    assert "connectNative" in (EXT / "lib" / "host.js").read_text(encoding="utf-8")


def test_file_names_are_kebab_case() -> None:
    for path in EXT.rglob("*"):
        if path.is_file() and "_locales" not in path.parts:
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.[a-z]+", path.name), path


@pytest.mark.parametrize("page", ["keys.html", "providers.html", "history.html", "options.html"])
def test_every_page_has_the_same_navigation(page: str) -> None:
    # lib/page-shell.js draws the one navigation (PAGES) into each page's
    # <header class="app-header" data-page="…">, marking that page aria-current="page".
    text = (EXT / page).read_text(encoding="utf-8")
    shell = (EXT / "lib" / "page-shell.js").read_text(encoding="utf-8")
    nav = re.search(r"const PAGES = \[(.*?)\];", shell, flags=re.S).group(1)
    links = re.findall(r"\['([a-z]+\.html)', '(\w+)'\]", nav)
    assert [href for href, _ in links] == [
        "keys.html",
        "providers.html",
        "history.html",
        "options.html",
    ]
    current = re.findall(r'<header class="app-header" data-page="([a-z]+\.html)"', text)
    assert current == [page]
