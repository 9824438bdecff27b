"""install / uninstall (and check, from check.py): the operations behind install.py, importable by test harnesses.

    import sys; sys.path.insert(0, "<repo>/install")
    from cpa_install.api import install, check, uninstall
    report = install(user_data_dir=profile, browsers=[], no_venv=True)   # -> InstallReport
    assert check(user_data_dir=profile).ok

Every function takes ``platform``, ``home``, ``environ``, ``root`` and ``registry``
so tests can run the Linux, macOS and Windows code paths on one machine. All
failures raise ``InstallError`` (or its subclass ``Refused``) with a one-line message.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import browsers as table
from . import launcher, manifests
from .browsers import FIREFOX
from .check import BrowserCheck, CheckReport, check
from .context import Context
from .errors import InstallError, Refused
from .record import Record, file_sha256, makedirs, sha256, write_atomic
from .targets import (
    DEFAULT_EXTENSION_DIR,
    REPO,
    UDD_PREFIX,
    Registration,
    abs_path,
    browser_names,
    extension_identity,
    jsonable,
    make_context,
    registrations,
    registry_for,
)
from .windows import parent_key

__all__ = [
    "BrowserCheck",
    "CheckReport",
    "InstallError",
    "InstallReport",
    "Refused",
    "Registration",
    "Step",
    "UninstallReport",
    "check",
    "install",
    "uninstall",
]


@dataclass
class Step:
    """One thing an operation writes, keeps or removes (listed by --dry-run and --json)."""

    kind: str  # "file" | "registry" | "venv" | "dir"
    target: str
    action: str  # create | update | replace | unchanged | remove | keep | missing
    note: str = ""


@dataclass
class InstallReport:
    dry_run: bool
    platform: str
    scope: str
    data_dir: Path
    extension_dir: Path | None
    extension_id: str
    gecko_id: str | None
    python: Path
    host_launcher: Path
    cli_launcher: Path | None  # None: the package manager provides `cpa-bridge`
    registrations: list[Registration] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def families(self) -> list[str]:
        return sorted({r.family for r in self.registrations})

    def to_json(self) -> dict:
        return jsonable(asdict(self))


@dataclass
class UninstallReport:
    dry_run: bool
    record: Path
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return jsonable(asdict(self))


# -- install -------------------------------------------------------------------


def install(
    user_data_dir: Path | None = None,
    browsers: list[str] | None = None,
    no_venv: bool = False,
    home: Path | None = None,
    *,
    extension_dir: Path | None = None,
    extension_id: str | None = None,
    python: Path | None = None,
    system: bool = False,
    editable: bool = False,
    reinstall: bool = False,
    force: bool = False,
    dry_run: bool = False,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
    registry=None,
    cli_launcher: bool = True,
    log: Callable[[str], None] = lambda message: None,
) -> InstallReport:
    """Install the host for the chosen (or found) browsers. Idempotent.

    ``browsers`` None or [] means "the browsers found here", unless ``user_data_dir``
    is given, which then is the only target. ``python`` implies ``no_venv``.
    ``cli_launcher=False`` leaves the ``cpa-bridge`` command to the package manager
    (pip, pipx), which already put it on PATH.
    """
    udd = abs_path(user_data_dir)
    ctx = make_context(platform, home, environ, system, root, udd)
    ident = extension_identity(abs_path(extension_dir), extension_id)
    ext_dir = ident.extension_dir
    reg = registry_for(ctx, registry, dry_run)
    rec = Record.load(ctx.record_path)
    no_venv = no_venv or python is not None
    host_python = (
        (abs_path(python) or Path(os.path.abspath(sys.executable))) if no_venv else ctx.venv_python
    )

    report = InstallReport(
        dry_run,
        ctx.platform,
        ctx.scope,
        ctx.data_dir,
        ext_dir,
        ident.chromium_id,
        ident.gecko_id,
        host_python,
        ctx.host_launcher,
        ctx.cli_launcher if cli_launcher else None,
    )
    names = browser_names(browsers)
    explicit = names is not None
    if names is None:
        names = [] if udd else ctx.detect()
    if not names and udd is None:
        raise InstallError(
            f"no supported browser found ({', '.join(table.NAMES)}); choose with --browser NAME or --user-data-dir DIR"
        )
    if FIREFOX in names and not ident.gecko_id:
        where = (ext_dir or DEFAULT_EXTENSION_DIR) / "manifest.json"
        problem = (
            f"{where} has no browser_specific_settings.gecko.id, so Firefox cannot be registered"
        )
        if explicit:
            raise InstallError(problem)
        report.warnings.append(problem + "; skipped Firefox")
        names.remove(FIREFOX)
    if ident.id_source == "path":
        report.warnings.append(
            'the extension manifest has no "key": its id depends on where the directory is'
        )
    report.registrations = registrations(ctx, names, udd)

    plan = _plan(ctx, report, ident, rec, reg)
    conflicts = [str(f.path) for f in plan.files if f.action == "conflict"]
    conflicts += [k.key for k in plan.keys if k.action == "conflict"]
    if conflicts and not force:
        raise Refused(
            f"refusing to overwrite {', '.join(conflicts)}: "
            "not written by this installer, or changed since (--force replaces)"
        )

    # The interpreter.
    if no_venv:
        launcher.check_importable(host_python, ctx.environ, report.warnings.append)
        venv_action = "skipped"
    else:
        launcher.check_python_version(REPO)
        state = launcher.venv_state(ctx.venv_dir, host_python, REPO, editable, ctx.environ)
        venv_action = {"missing": "create", "stale": "update", "current": "unchanged"}[state]
        if venv_action == "unchanged" and reinstall:
            venv_action = "update"
    report.steps.append(
        Step(
            "venv",
            str(ctx.venv_dir),
            venv_action,
            f"--no-venv: using {host_python}" if no_venv else "",
        )
    )
    report.steps += [Step("file", str(f.path), _shown(f.action), f.kind) for f in plan.files]
    report.steps += [Step("registry", k.key, _shown(k.action), k.value) for k in plan.keys]
    if cli_launcher and ctx.platform != "win32" and not ctx.on_path(ctx.cli_launcher.parent):
        report.warnings.append(
            f"{ctx.cli_launcher.parent} is not on PATH; add it, or run {ctx.cli_launcher} by its full path"
        )
    if dry_run:
        return report

    rec.extension_id, rec.gecko_id = ident.chromium_id, ident.gecko_id
    try:
        if not no_venv:
            _apply_venv(ctx, rec, venv_action, editable, log)
        _apply(plan, rec, reg)
    finally:
        rec.save(ctx.record_path)
    return report


@dataclass
class _FilePlan:
    path: Path
    content: bytes
    mode: int
    kind: str  # "launcher" | "manifest"
    browsers: list[str]
    action: str = ""  # create | update | unchanged | conflict


@dataclass
class _KeyPlan:
    key: str
    value: str
    browsers: list[str]
    action: str = ""


@dataclass
class _Plan:
    files: list[_FilePlan]  # launchers first, so a manifest never names a missing launcher
    keys: list[_KeyPlan]


def _shown(action: str) -> str:
    return "replace" if action == "conflict" else action  # only reached with --force


def _plan(ctx: Context, report: InstallReport, ident, rec: Record, reg) -> _Plan:
    """Every file and key to write, and what would happen to each."""
    files: dict[Path, _FilePlan] = {}
    launchers = [(ctx.host_launcher, launcher.host_launcher_text(ctx.platform, report.python))]
    if report.cli_launcher is not None:
        launchers.append(
            (report.cli_launcher, launcher.cli_launcher_text(ctx.platform, report.python))
        )
    for path, text in launchers:
        files[path] = _FilePlan(path, text, 0o755, "launcher", [])
    keys: dict[str, _KeyPlan] = {}
    for r in report.registrations:
        content = manifests.render(manifests.build(r.family, ctx.host_launcher, ident))
        plan = files.setdefault(r.manifest, _FilePlan(r.manifest, content, 0o644, "manifest", []))
        assert plan.content == content, f"two browser families share {r.manifest}"
        plan.browsers.append(r.label)
        if r.registry_key:
            keys.setdefault(
                r.registry_key, _KeyPlan(r.registry_key, str(r.manifest), [])
            ).browsers.append(r.label)
    for f in files.values():
        f.action = _file_action(f, rec, ctx.platform)
    for k in keys.values():
        k.action = _key_action(k.key, k.value, rec, reg)
    return _Plan(list(files.values()), list(keys.values()))


def _file_action(plan: _FilePlan, rec: Record, platform: str) -> str:
    try:
        current = plan.path.read_bytes()
    except FileNotFoundError:
        return "create"
    if current == plan.content:
        mode_ok = platform == "win32" or (plan.path.stat().st_mode & 0o777) == plan.mode
        return "unchanged" if mode_ok else "update"
    entry = rec.files.get(str(plan.path))
    return "update" if entry and entry.get("sha256") == sha256(current) else "conflict"


def _key_action(key: str, value: str, rec: Record, reg) -> str:
    current = reg.get(key)
    if current is None:
        return "create"
    if current == value:
        return "unchanged"
    entry = rec.registry.get(key)
    return "update" if entry and entry.get("value") == current else "conflict"


def _apply_venv(
    ctx: Context, rec: Record, action: str, editable: bool, log: Callable[[str], None]
) -> None:
    rec.venv = str(ctx.venv_dir)  # it lives in our data dir: ours to remove
    if action == "unchanged":
        return
    makedirs(ctx.data_dir, rec.dirs)
    if action == "create":
        log(f"creating venv {ctx.venv_dir} ...")
        launcher.create_venv(ctx.venv_dir, ctx.environ)
    log(f"installing {REPO} into the venv (pip) ...")
    launcher.pip_install(ctx.venv_python, REPO, editable, ctx.environ, log)
    problem = launcher.import_problem(ctx.venv_python, ctx.environ)
    if problem:
        raise InstallError(
            f"the venv cannot import {launcher.HOST_MODULE} after pip install: {problem}"
        )


def _apply(plan: _Plan, rec: Record, reg) -> None:
    """Write what changed and record everything planned (records only grow here)."""
    for f in plan.files:
        if f.action != "unchanged":
            makedirs(f.path.parent, rec.dirs)
            write_atomic(f.path, f.content, f.mode)
        old = rec.files.get(str(f.path), {}).get("browsers", [])
        rec.files[str(f.path)] = {
            "sha256": sha256(f.content),
            "kind": f.kind,
            "browsers": sorted(set(old) | set(f.browsers)),
        }
    for k in plan.keys:
        if k.action != "unchanged":
            rec.registry_keys += _missing_keys(reg, k.key)
            reg.set_default(k.key, k.value)
        old = rec.registry.get(k.key, {}).get("browsers", [])
        rec.registry[k.key] = {"value": k.value, "browsers": sorted(set(old) | set(k.browsers))}


def _missing_keys(reg, key: str) -> list[str]:
    """Parents of ``key`` that do not exist yet (set_default will create them)."""
    missing = []
    parent = parent_key(key)
    while parent and not reg.exists(parent):
        missing.append(parent)
        parent = parent_key(parent)
    return missing


# -- uninstall -----------------------------------------------------------------


def uninstall(
    browsers: list[str] | None = None,
    user_data_dir: Path | None = None,
    home: Path | None = None,
    *,
    system: bool = False,
    dry_run: bool = False,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
    registry=None,
) -> UninstallReport:
    """Remove what install wrote, as listed in the install record.

    With ``browsers`` or ``user_data_dir``, only those registrations go; otherwise
    everything (manifests, registry keys, launchers, venv, record, empty dirs).
    Files changed since we wrote them are left in place, with a warning.
    """
    udd = abs_path(user_data_dir)
    ctx = make_context(platform, home, environ, system, root, udd)
    rec = Record.load(ctx.record_path)
    report = UninstallReport(dry_run, ctx.record_path)
    if rec.is_empty():
        return report
    labels = set(browser_names(browsers) or [])
    if udd is not None:
        labels.add(UDD_PREFIX + str(udd))
    full = not labels
    reg = registry_for(ctx, registry, dry_run) if rec.registry or rec.registry_keys else None

    def selected(entry: dict) -> bool:
        """Whether the entry goes; a shared entry just loses the selected browsers."""
        if full:
            return True
        names = set(entry.get("browsers", []))
        if not names & labels:
            return False
        if names - labels:
            if not dry_run:
                entry["browsers"] = sorted(names - labels)
            return False
        return True

    for path, entry in sorted(rec.files.items()):
        if not selected(entry):
            continue
        current = file_sha256(Path(path))
        if current is None:
            report.steps.append(Step("file", path, "missing"))
        elif current == entry.get("sha256") or (
            path.endswith(".json") and manifests.is_ours(Path(path))
        ):
            note = (
                ""
                if current == entry.get("sha256")
                else "a cpa-bridge manifest, rewritten since install"
            )
            report.steps.append(Step("file", path, "remove", note))
            if not dry_run:
                os.unlink(path)
        else:
            report.steps.append(Step("file", path, "keep", "changed since install"))
            report.warnings.append(f"left {path} in place: it changed since it was installed")
        if not dry_run:
            del rec.files[path]
    for key, entry in sorted(rec.registry.items()):
        if not selected(entry):
            continue
        assert reg is not None  # registry_for() gave one, since the record has keys
        current = reg.get(key)
        if current is None:
            report.steps.append(Step("registry", key, "missing"))
        elif current == entry.get("value"):
            report.steps.append(Step("registry", key, "remove"))
            if not dry_run:
                reg.delete(key)
        else:
            report.steps.append(Step("registry", key, "keep", f"now points to {current}"))
            report.warnings.append(f"left registry key {key} in place: it now points to {current}")
        if not dry_run:
            del rec.registry[key]
    if full and rec.venv:
        venv_dir = Path(rec.venv)
        if (venv_dir / "pyvenv.cfg").is_file():
            report.steps.append(Step("venv", str(venv_dir), "remove"))
            if not dry_run:
                shutil.rmtree(venv_dir)
        if not dry_run:
            rec.venv = None
    if dry_run:
        return report
    if full and ctx.record_path.exists():
        ctx.record_path.unlink()
    _remove_empty(rec, reg, report)
    if not full:
        rec.save(ctx.record_path)
    elif ctx.data_dir.exists():
        report.warnings.append(
            f"kept {ctx.data_dir}: it holds files the host wrote (settings, logs); delete it to remove those too"
        )
    return report


def _remove_empty(rec: Record, reg, report: UninstallReport) -> None:
    """Remove the directories and registry keys we created, deepest first, if now empty."""
    for d in sorted(set(rec.dirs), key=lambda p: len(Path(p).parts), reverse=True):
        try:
            os.rmdir(d)
        except FileNotFoundError:
            pass
        except OSError:
            report.steps.append(Step("dir", d, "keep", "not empty"))
            continue
        else:
            report.steps.append(Step("dir", d, "remove"))
        rec.dirs.remove(d)
    for key in sorted(set(rec.registry_keys), key=lambda k: k.count("\\"), reverse=True):
        if reg.exists(key):
            if not reg.is_empty(key):
                continue
            reg.delete(key)
            report.steps.append(Step("registry", key, "remove"))
        rec.registry_keys.remove(key)
