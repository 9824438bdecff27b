"""Where each browser looks for native-messaging host manifests.

One row per browser. Every install, check and uninstall path is read from this
table; no other module knows a browser-specific directory or registry key.
Source: the native-messaging reference notes (part A2) the project was written from.

Path templates start with one of these (expanded by ``Context.expand``):
``~`` home, ``{config}`` $XDG_CONFIG_HOME or ~/.config, ``{appsupport}``
~/Library/Application Support, ``{localappdata}`` / ``{appdata}`` the Windows
folders, ``/`` an absolute system path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOST_NAME = "io.cpabridge.host"
HOST_DESCRIPTION = "cpa-bridge: imports API keys from the browser into CLIProxyAPI"

# Browser families: each family has one manifest flavour (allow-list key).
CHROMIUM = "chromium"
FIREFOX = "firefox"

Dirs = dict[str, tuple[str, ...]]  # OS ("linux", "darwin", "win32") -> templates


@dataclass(frozen=True)
class Browser:
    name: str  # what --browser takes
    title: str
    family: str
    user_dirs: Dirs  # per-user manifest directories (Linux, macOS)
    system_dirs: Dirs  # system-wide manifest directories (Linux, macOS)
    profile_dirs: Dirs  # any of these existing means "browser found"
    binaries: tuple[str, ...] = ()  # ... or one of these on PATH
    mac_apps: tuple[str, ...] = ()  # ... or /Applications/<app> (macOS)
    # Windows: vendor paths; the key is <HKCU|HKLM>\Software\<vendor>\NativeMessagingHosts\<name>
    win_vendors: tuple[str, ...] = field(default=())


BROWSERS: tuple[Browser, ...] = (
    Browser(
        name="chrome",
        title="Google Chrome",
        family=CHROMIUM,
        user_dirs={
            "linux": ("{config}/google-chrome/NativeMessagingHosts",),
            "darwin": ("{appsupport}/Google/Chrome/NativeMessagingHosts",),
        },
        system_dirs={
            "linux": ("/etc/opt/chrome/native-messaging-hosts",),
            "darwin": ("/Library/Google/Chrome/NativeMessagingHosts",),
        },
        profile_dirs={
            "linux": ("{config}/google-chrome",),
            "darwin": ("{appsupport}/Google/Chrome",),
            "win32": ("{localappdata}/Google/Chrome/User Data",),
        },
        binaries=("google-chrome", "google-chrome-stable"),
        mac_apps=("Google Chrome.app",),
        win_vendors=("Google\\Chrome",),
    ),
    Browser(
        name="chromium",
        title="Chromium",
        family=CHROMIUM,
        user_dirs={
            "linux": ("{config}/chromium/NativeMessagingHosts",),
            "darwin": ("{appsupport}/Chromium/NativeMessagingHosts",),
        },
        system_dirs={
            "linux": ("/etc/chromium/native-messaging-hosts",),
            "darwin": ("/Library/Application Support/Chromium/NativeMessagingHosts",),
        },
        profile_dirs={
            "linux": ("{config}/chromium",),
            "darwin": ("{appsupport}/Chromium",),
            "win32": ("{localappdata}/Chromium/User Data",),
        },
        binaries=("chromium", "chromium-browser"),
        mac_apps=("Chromium.app",),
        win_vendors=("Chromium",),
    ),
    Browser(
        name="edge",
        title="Microsoft Edge",
        family=CHROMIUM,
        user_dirs={
            "linux": ("{config}/microsoft-edge/NativeMessagingHosts",),
            "darwin": ("{appsupport}/Microsoft Edge/NativeMessagingHosts",),
        },
        system_dirs={
            "linux": ("/etc/opt/edge/native-messaging-hosts",),
            "darwin": ("/Library/Microsoft/Edge/NativeMessagingHosts",),
        },
        profile_dirs={
            "linux": ("{config}/microsoft-edge",),
            "darwin": ("{appsupport}/Microsoft Edge",),
            "win32": ("{localappdata}/Microsoft/Edge/User Data",),
        },
        binaries=("microsoft-edge", "microsoft-edge-stable"),
        mac_apps=("Microsoft Edge.app",),
        win_vendors=("Microsoft\\Edge",),
    ),
    Browser(
        name="brave",
        title="Brave",
        family=CHROMIUM,
        user_dirs={
            "linux": ("{config}/BraveSoftware/Brave-Browser/NativeMessagingHosts",),
            "darwin": ("{appsupport}/BraveSoftware/Brave-Browser/NativeMessagingHosts",),
        },
        # Not documented by Brave. Brave is an unbranded Chromium build, which reads Chromium's
        # system dir; /etc/opt/chrome/ is Google Chrome's (installing there registers for Chrome).
        system_dirs={
            "linux": ("/etc/chromium/native-messaging-hosts",),
            "darwin": ("/Library/Application Support/Chromium/NativeMessagingHosts",),
        },
        profile_dirs={
            "linux": ("{config}/BraveSoftware/Brave-Browser",),
            "darwin": ("{appsupport}/BraveSoftware/Brave-Browser",),
            "win32": ("{localappdata}/BraveSoftware/Brave-Browser/User Data",),
        },
        binaries=("brave-browser", "brave", "brave-browser-stable"),
        mac_apps=("Brave Browser.app",),
        # Installers write Chrome's key for Brave (keepassxc); some add Brave's own.
        win_vendors=("Google\\Chrome", "BraveSoftware\\Brave-Browser"),
    ),
    Browser(
        name="vivaldi",
        title="Vivaldi",
        family=CHROMIUM,
        user_dirs={
            "linux": ("{config}/vivaldi/NativeMessagingHosts",),
            "darwin": ("{appsupport}/Vivaldi/NativeMessagingHosts",),
        },
        # Unclear upstream: browserpass uses the first, passff the second.
        system_dirs={
            "linux": (
                "/etc/opt/vivaldi/native-messaging-hosts",
                "/etc/vivaldi/native-messaging-hosts",
            ),
            "darwin": ("/Library/Application Support/Vivaldi/NativeMessagingHosts",),
        },
        profile_dirs={
            "linux": ("{config}/vivaldi",),
            "darwin": ("{appsupport}/Vivaldi",),
            "win32": ("{localappdata}/Vivaldi/User Data",),
        },
        binaries=("vivaldi", "vivaldi-stable"),
        mac_apps=("Vivaldi.app",),
        # Vivaldi on Windows reads Chrome's key (keepassxc-browser#48).
        win_vendors=("Google\\Chrome",),
    ),
    Browser(
        name="firefox",
        title="Firefox",
        family=FIREFOX,
        user_dirs={
            # Still ~/.mozilla even when Firefox keeps its profile in ~/.config/mozilla.
            "linux": ("~/.mozilla/native-messaging-hosts",),
            "darwin": ("{appsupport}/Mozilla/NativeMessagingHosts",),
        },
        system_dirs={
            "linux": (
                "/usr/lib/mozilla/native-messaging-hosts",
                "/usr/lib64/mozilla/native-messaging-hosts",
            ),
            "darwin": ("/Library/Application Support/Mozilla/NativeMessagingHosts",),
        },
        profile_dirs={
            "linux": ("~/.mozilla", "{config}/mozilla"),
            "darwin": ("{appsupport}/Firefox",),
            "win32": ("{appdata}/Mozilla/Firefox",),
        },
        binaries=("firefox", "firefox-esr"),
        mac_apps=("Firefox.app",),
        win_vendors=("Mozilla",),
    ),
)

NAMES: tuple[str, ...] = tuple(b.name for b in BROWSERS)
_BY_NAME = {b.name: b for b in BROWSERS}


def get(name: str) -> Browser:
    return _BY_NAME[name]
