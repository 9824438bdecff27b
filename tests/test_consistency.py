"""Things that must agree across the tree: error codes, message types, ids, locales."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from cpa_bridge.errors import EXIT_CODES, ErrorCode
from cpa_bridge.wire.dispatch import ROUTES
from cpa_bridge.wire.identity import CHROMIUM_EXTENSION_ID, GECKO_ID, HOST_NAME

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = (ROOT / "host" / "PROTOCOL.md").read_text(encoding="utf-8")
LOCALES = ("en", "zh_CN", "ja")


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.value)
def test_every_error_code_is_documented_with_an_exit_code(code):
    assert re.search(rf"^\| `{code.value}` \| {EXIT_CODES[code]} \|", PROTOCOL, re.M), code.value


@pytest.mark.parametrize("mtype", sorted(ROUTES))
def test_every_message_type_is_documented(mtype):
    assert f"`{mtype}`" in PROTOCOL


def test_every_route_resolves_to_a_handler():
    from cpa_bridge.wire.dispatch import resolve

    for mtype in ROUTES:
        assert hasattr(resolve(mtype), "params_model"), mtype


@pytest.mark.parametrize("locale", LOCALES)
def test_every_error_code_has_a_message_in_every_locale(locale):
    messages = json.loads(
        (ROOT / "extension" / "_locales" / locale / "messages.json").read_text(encoding="utf-8")
    )
    missing = [c.value for c in ErrorCode if f"error_{c.value}" not in messages]
    assert not missing, f"{locale} lacks {missing}"


def test_locales_have_the_same_keys():
    keys = {
        locale: set(
            json.loads(
                (ROOT / "extension" / "_locales" / locale / "messages.json").read_text("utf-8")
            )
        )
        for locale in LOCALES
    }
    assert keys["en"] == keys["zh_CN"] == keys["ja"]


def test_extension_identity_matches_the_host():
    manifest = json.loads((ROOT / "extension" / "manifest.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256(base64.b64decode(manifest["key"])).hexdigest()[:32]
    assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == CHROMIUM_EXTENSION_ID
    assert manifest["browser_specific_settings"]["gecko"]["id"] == GECKO_ID
    assert "nativeMessaging" in manifest["permissions"]
    installer = (ROOT / "install").rglob("*.py")
    assert any(HOST_NAME in p.read_text(encoding="utf-8") for p in installer)
    assert HOST_NAME in (ROOT / "extension" / "lib" / "host.js").read_text(encoding="utf-8")


# ---- warnings, hints and translator notes (one code, one localised text) ----


def _messages(locale: str) -> dict:
    return json.loads(
        (ROOT / "extension" / "_locales" / locale / "messages.json").read_text(encoding="utf-8")
    )


def _js_table_keys(path: str, table: str) -> set[str]:
    text = (ROOT / "extension" / path).read_text(encoding="utf-8")
    body = re.search(rf"const {table} = \{{(.*?)\n\}};", text, re.S)
    assert body, f"{path}: no {table} table"
    return set(re.findall(r"^  (\w+):", body.group(1), re.M))


def test_every_warning_code_is_documented_and_localised():
    from cpa_bridge.core.notices import WarningCode

    for code in WarningCode:
        assert re.search(rf"^\| `{code.value}` \|", PROTOCOL, re.M), code.value
    for locale in LOCALES:
        missing = [c.value for c in WarningCode if f"warning_{c.value}" not in _messages(locale)]
        assert not missing, f"{locale} lacks {missing}"
    assert _js_table_keys("lib/warnings.js", "ARGS") == {c.value for c in WarningCode}


def test_every_error_code_has_a_localised_hint():
    ext_codes = set(
        re.findall(
            r"^  [A-Z_]+: '(\w+)',", (ROOT / "extension" / "lib" / "messages.js").read_text(), re.M
        )
    )
    codes = {c.value for c in ErrorCode} | ext_codes
    assert _js_table_keys("lib/errors.js", "HINTS") == codes
    for locale in LOCALES:
        missing = sorted(c for c in codes if f"hint_{c}" not in _messages(locale))
        assert not missing, f"{locale} lacks hints for {missing}"


def test_every_message_has_a_translator_description():
    missing = [
        key for key, value in _messages("en").items() if not value.get("description", "").strip()
    ]
    assert not missing, f"{len(missing)} messages without a description, e.g. {missing[:10]}"


def test_translator_descriptions_say_more_than_the_key():
    """'Relay accounts: account added' for `account_added` tells a translator nothing: a
    description says where the text appears, and a placeholder has a name that says what it holds."""
    en = _messages("en")
    restated = [
        key
        for key, value in en.items()
        if re.sub(r"^[^:]*:\s*", "", value["description"]).strip().lower().replace(" ", "_")
        == key.lower()
    ]
    assert not restated, f"{len(restated)} descriptions only repeat their key, e.g. {restated[:10]}"
    letters = sorted(
        key for key, value in en.items() if any(len(p) == 1 for p in value.get("placeholders", {}))
    )
    assert not letters, f"placeholders named by a letter: {letters[:10]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_are_declared_and_agree(locale):
    en = _messages("en")
    for key, value in _messages(locale).items():
        used = {m.lower() for m in re.findall(r"\$([A-Z_]+)\$", value["message"])}
        declared = set(value.get("placeholders", {}))
        assert used <= declared, f"{locale}:{key} uses undeclared {used - declared}"
        assert declared == set(en[key].get("placeholders", {})), (
            f"{locale}:{key} placeholders differ from en"
        )


def test_provider_list_names_agree_between_host_and_extension():
    from cpa_bridge.core.lists import PROVIDER_LISTS

    source = (ROOT / "extension" / "lib" / "messages.js").read_text(encoding="utf-8")
    block = re.search(r"PROVIDER_TYPES = Object\.freeze\(\[(.*?)\]\)", source, re.S)
    assert block, "PROVIDER_TYPES not found in extension/lib/messages.js"
    assert tuple(re.findall(r"'([^']+)'", block.group(1))) == PROVIDER_LISTS


def test_provider_list_names_are_spelled_in_one_python_place():
    # every other module names the lists through cpa_bridge.core.lists
    offenders = []
    for path in (ROOT / "host" / "cpa_bridge").rglob("*.py"):
        if path.name == "lists.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(
                r"[\"'](openai-compatibility|claude-api-key|gemini-api-key|codex-api-key)[\"']",
                code,
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, offenders


def test_only_the_engine_writes_to_cliproxyapi():
    # the client's write methods are called from cliproxyapi/engine.py alone: one write path
    offenders = []
    for path in (ROOT / "host" / "cpa_bridge").rglob("*.py"):
        if path.name in ("engine.py", "client.py"):
            continue
        text = path.read_text(encoding="utf-8")
        for name in (
            "put_list(",
            "patch_item(",
            "delete_item(",
            '.request("PUT"',
            '.request("PATCH"',
            '.request("DELETE"',
        ):
            if name in text:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders, offenders


def test_no_committed_file_names_a_development_machine_path():
    import subprocess

    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    # this machine's checkout and home (the paths a comment copied from a development machine had)
    pattern = re.compile("(" + "|".join(re.escape(p) for p in ("/" + "work/", "/" + "root/")) + ")")
    offenders = []
    for name in files:
        path = ROOT / name
        if (
            path.suffix
            not in (".py", ".js", ".md", ".json", ".sh", ".toml", ".html", ".css", ".txt")
            or not path.exists()
        ):
            continue
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            if pattern.search(line):
                offenders.append(f"{name}:{number}")
    assert not offenders, offenders
