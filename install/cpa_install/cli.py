"""Command line of install/install.py: parse options, call api, print the result."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from . import api
from .browsers import CHROMIUM, FIREFOX, NAMES
from .context import PLATFORMS
from .errors import EXIT_FAILED, EXIT_OK, InstallError
from .targets import display_label

PROG = "install.py"
WORDS = {
    "create": "written",
    "update": "updated",
    "replace": "replaced (was not ours)",
    "unchanged": "unchanged",
}

EPILOG = f"""\
browsers: {", ".join(NAMES)}, all. Without --browser, the browsers found here
(profile directory or program present) get the host; --user-data-dir alone
registers just that Chromium profile.

exit codes: 0 ok; 1 failed (or --check found a broken registration);
2 bad usage; 3 refused to overwrite a file or key this installer did not write.

examples:
  python3 install/install.py                      # per-user, all browsers found
  python3 install/install.py --browser chromium --dry-run
  python3 install/install.py --no-venv --user-data-dir /tmp/profile   # test profile
  python3 install/install.py --check
  python3 install/install.py --uninstall
"""


PACKAGED_PROG = "cpa-bridge-install"
PACKAGED_EPILOG = f"""\
browsers: {", ".join(NAMES)}, all. Without --browser, the browsers found here
(profile directory or program present) get the host.

The host runs on the Python this command was installed with (pip or pipx);
the `cpa-bridge` command is the one pip or pipx put on PATH.

exit codes: 0 ok; 1 failed (or --check found a broken registration);
2 bad usage; 3 refused to overwrite a file or key this installer did not write.

examples:
  pipx install . && cpa-bridge-install      # per-user, all browsers found
  cpa-bridge-install --check
  cpa-bridge-install --uninstall
"""


def build_parser(packaged: bool = False) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PACKAGED_PROG if packaged else PROG,
        description=(
            "Register the installed cpa-bridge host with your browsers."
            if packaged
            else "Install the cpa-bridge native-messaging host and CLI, and register the host with your browsers."
        ),
        epilog=PACKAGED_EPILOG if packaged else EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="verify each browser's registration and ping the host"
    )
    mode.add_argument(
        "--uninstall", action="store_true", help="remove what the installer wrote (only that)"
    )
    p.add_argument(
        "--browser",
        action="append",
        metavar="NAME",
        help="register for this browser even if not found (repeatable)",
    )
    p.add_argument(
        "--user-data-dir",
        type=Path,
        metavar="DIR",
        help="register in a custom Chromium profile: DIR/NativeMessagingHosts",
    )
    p.add_argument(
        "--system",
        action="store_true",
        help="system-wide (needs root / administrator) instead of per-user",
    )
    p.add_argument(
        "--extension-dir",
        type=Path,
        metavar="DIR",
        help=f"unpacked extension (default {api.DEFAULT_EXTENSION_DIR})",
    )
    p.add_argument(
        "--extension-id",
        metavar="ID",
        help="Chromium extension id (32 letters a-p) if not the one from manifest.json's key",
    )
    if packaged:  # the package manager made the environment: the host runs on this Python
        p.set_defaults(no_venv=True, python=None, editable=False, reinstall=False)
    else:
        p.add_argument(
            "--no-venv",
            action="store_true",
            help="run the host on this Python (it must import cpa_bridge) instead of a private venv",
        )
        p.add_argument(
            "--python",
            type=Path,
            metavar="PATH",
            help="run the host on this Python (implies --no-venv)",
        )
        p.add_argument(
            "--editable", action="store_true", help="pip install the repository in editable mode"
        )
        p.add_argument(
            "--reinstall",
            action="store_true",
            help="pip install again even if the same version is in the venv",
        )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite manifests, launchers or keys this installer did not write",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be written or removed; change nothing",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    # For tests: run another OS's code path, and prefix system paths.
    p.add_argument("--platform", choices=PLATFORMS, help=argparse.SUPPRESS)
    p.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    return p


def packaged_main(argv: list[str] | None = None) -> int:
    """`cpa-bridge-install`: the installer of a pip / pipx install (no private venv, no CLI launcher)."""
    return main(argv, packaged=True)


def main(argv: list[str] | None = None, packaged: bool = False) -> int:
    args = build_parser(packaged).parse_args(argv)
    args.packaged = packaged
    common = {"platform": args.platform, "root": args.root, "system": args.system}
    try:
        if args.check:
            return _check(args, common)
        if args.uninstall:
            return _uninstall(args, common)
        return _install(args, common)
    except InstallError as exc:
        return _fail(args, str(exc), exc.exit_code)
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except PermissionError as exc:
        hint = " (system-wide installs need root or an administrator)" if args.system else ""
        return _fail(args, f"permission denied: {exc.filename or exc}{hint}", EXIT_FAILED)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(args, f"{exc.strerror or exc}{where}", EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("CPA_INSTALL_DEBUG"):
            raise
        return _fail(
            args,
            f"unexpected {type(exc).__name__}: {exc} (CPA_INSTALL_DEBUG=1 shows a traceback)",
            EXIT_FAILED,
        )


def _fail(args, message: str, code: int) -> int:
    print(f"{PACKAGED_PROG if args.packaged else PROG}: error: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"ok": False, "error": message}))
    return code


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)


def _install(args, common) -> int:
    report = api.install(
        user_data_dir=args.user_data_dir,
        browsers=args.browser,
        no_venv=args.no_venv,
        extension_dir=args.extension_dir,
        extension_id=args.extension_id,
        python=args.python,
        editable=args.editable,
        reinstall=args.reinstall,
        force=args.force,
        dry_run=args.dry_run,
        cli_launcher=not args.packaged,
        log=lambda m: print(m, file=sys.stderr),
        **common,
    )
    if args.json:
        print(json.dumps(dict(report.to_json(), ok=True), indent=2))
        _warn(report.warnings)
        return EXIT_OK
    if report.dry_run:
        print("Dry run: nothing was written. It would:")
        for s in report.steps:
            print(
                f"  {s.action:9} {s.kind:8} {s.target}"
                + (f"  ({s.note})" if s.note and s.kind != "file" else "")
            )
        _warn(report.warnings)
        return EXIT_OK
    actions = {s.target: s.action for s in report.steps}
    print(f"cpa-bridge host installed ({report.scope}).")
    print(f"  host launcher: {report.host_launcher}  (Python: {report.python})")
    print(
        f"  CLI:           {report.cli_launcher or shutil.which('cpa-bridge') or 'cpa-bridge (from pip/pipx)'}"
    )
    print("  registered for:")
    for r in report.registrations:
        where = f"{r.registry_key} -> {r.manifest}" if r.registry_key else str(r.manifest)
        state = actions.get(r.registry_key) if r.registry_key else actions.get(str(r.manifest))
        print(f"    {display_label(r.label)}: {where} ({WORDS.get(state or '', state)})")
    ext = report.extension_dir
    if (
        ext is None
    ):  # installed as a package: the extension comes from a release package or a checkout
        ext = Path("extension")
        print(
            f"Load the extension (Chromium id {report.extension_id}) from the extension/ folder of the source,"
        )
        print(
            "or from the packages `python3 scripts/build.py` makes in dist/ (see the README, Packages):"
        )
    else:
        print(f"Load the extension from {ext} (Chromium id {report.extension_id}):")
    if CHROMIUM in report.families:
        print(
            f"  Chrome, Chromium, Edge, Brave, Vivaldi: chrome://extensions -> Developer mode -> Load unpacked -> {ext}"
        )
    if FIREFOX in report.families:
        print(
            f"  Firefox: about:debugging#/runtime/this-firefox -> Load Temporary Add-on -> {ext / 'manifest.json'}"
        )
    again = PACKAGED_PROG if args.packaged else f"python3 {api.REPO / 'install' / 'install.py'}"
    print(f"Check it any time: {again} --check")
    _warn(report.warnings)
    return EXIT_OK


#: Where the host keeps the user's data, per platform (the host's store/paths.py, platformdirs).
DATA_DIRS = {
    "linux": ("~/.config/cpa-bridge", "~/.local/share/cpa-bridge"),
    "darwin": ("~/Library/Application Support/cpa-bridge",),
    "win32": ("%APPDATA%\\cpa-bridge", "%LOCALAPPDATA%\\cpa-bridge"),
}


def kept_data(platform: str) -> str:
    """What uninstall leaves in place on purpose, and how to remove it too."""
    dirs = DATA_DIRS.get(platform, DATA_DIRS["linux"])
    return (
        "Kept your data: settings.json (CLIProxyAPI URLs and management keys), keys.json (your saved API "
        "keys) and backups/ (every list cpa-bridge changed, for undo), in "
        + " and ".join(dirs)
        + " (or $CPA_BRIDGE_CONFIG_DIR / $CPA_BRIDGE_DATA_DIR). To remove them too, delete "
        + ("that folder." if len(dirs) == 1 else "those folders.")
    )


def _uninstall(args, common) -> int:
    report = api.uninstall(
        browsers=args.browser, user_data_dir=args.user_data_dir, dry_run=args.dry_run, **common
    )
    full = not args.browser and not args.user_data_dir
    platform = common.get("platform") or sys.platform
    platform = (
        "win32" if platform.startswith("win") else "darwin" if platform == "darwin" else "linux"
    )
    if args.json:
        print(
            json.dumps(
                dict(report.to_json(), ok=True, kept=kept_data(platform) if full else None),
                indent=2,
            )
        )
    elif not report.steps:
        print(f"Nothing to uninstall (no install record at {report.record}).")
    else:
        verbs = {
            "remove": "would remove" if report.dry_run else "removed",
            "keep": "kept",
            "missing": "already gone",
        }
        for s in report.steps:
            print(f"{verbs[s.action]:13} {s.target}" + (f"  ({s.note})" if s.note else ""))
    if full and not args.json:
        print(kept_data(platform))
    _warn(report.warnings)
    return EXIT_OK


def _check(args, common) -> int:
    report = api.check(
        browsers=args.browser,
        user_data_dir=args.user_data_dir,
        extension_dir=args.extension_dir,
        extension_id=args.extension_id,
        **common,
    )
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for r in report.results:
            label = display_label(r.label)
            if r.status == "ok":
                where = f"{r.registry_key} -> {r.manifest}" if r.registry_key else str(r.manifest)
                print(f"{label}: ok: {where} (host {r.host_version}, protocol {r.protocol})")
            elif r.status == "absent":
                print(f"{label}: not registered")
            else:
                for problem in r.problems:
                    print(f"{label}: broken: {problem}")
        if report.broken:
            print(f"check failed: {len(report.broken)} broken registration(s)", file=sys.stderr)
        elif not report.ok:
            print(
                "check failed: the host is not registered for any browser; run python3 install/install.py",
                file=sys.stderr,
            )
    return EXIT_OK if report.ok else EXIT_FAILED
