"""--check: is each browser's registration usable, and does the host answer a ping?"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import browsers as table
from . import manifests
from .browsers import CHROMIUM, FIREFOX
from .context import Context
from .errors import InstallError
from .ping import PingError, ping
from .record import Record
from .targets import (
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


@dataclass
class BrowserCheck:
    label: str
    status: str  # "ok" | "broken" | "absent"
    manifest: Path
    registry_key: str | None = None
    problems: list[str] = field(default_factory=list)
    host_version: str | None = None
    protocol: object | None = None


@dataclass
class CheckReport:
    results: list[BrowserCheck] = field(default_factory=list)

    @property
    def broken(self) -> list[BrowserCheck]:
        return [r for r in self.results if r.status == "broken"]

    @property
    def ok(self) -> bool:
        return not self.broken and any(r.status == "ok" for r in self.results)

    def to_json(self) -> dict:
        return jsonable({"ok": self.ok, "results": [asdict(r) for r in self.results]})


def check(
    browsers: list[str] | None = None,
    user_data_dir: Path | None = None,
    home: Path | None = None,
    *,
    extension_dir: Path | None = None,
    extension_id: str | None = None,
    system: bool = False,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
    registry=None,
    ping_timeout: float = 10.0,
    ping_host: bool = True,
) -> CheckReport:
    """For each browser: is the manifest there and right, and does the host answer a ping?

    Looks at the browsers given, or else those in the install record, those found
    here and those that have a manifest. A registration is "broken" if it is
    recorded or asked for and not usable; "absent" if it was never there.
    """
    udd = abs_path(user_data_dir)
    ctx = make_context(platform, home, environ, system, root, udd)
    rec = Record.load(ctx.record_path)
    ident = _check_identity(abs_path(extension_dir), extension_id, rec)
    reg = registry_for(ctx, registry, dry_run=True)

    explicit = browser_names(browsers)
    recorded_udds: list[Path] = []
    if explicit is not None:
        names = explicit
    elif udd is not None:
        names = []
    else:
        every = registrations(ctx, table.NAMES, None)
        present = {r.label for r in every if _registered(r, reg)}
        wanted = present | set(rec.browsers()) | set(ctx.detect())
        names = [n for n in table.NAMES if n in wanted]
        # A plain --check also covers the --user-data-dir profiles the install record holds.
        recorded_udds = [
            Path(b[len(UDD_PREFIX) :]) for b in rec.browsers() if b.startswith(UDD_PREFIX)
        ]
    regs = registrations(ctx, names, udd)
    for profile in recorded_udds:
        regs += registrations(ctx, [], profile)
    report = CheckReport()
    pings: dict[tuple, object] = {}
    for r in regs:
        expected = (
            explicit is not None
            or r.label.startswith(UDD_PREFIX)
            or str(r.manifest) in rec.files
            or (r.registry_key or "") in rec.registry
        )
        report.results.append(
            _check_one(ctx, r, ident, reg, expected, pings if ping_host else None, ping_timeout)
        )
    return report


def _check_identity(
    ext_dir: Path | None, extension_id: str | None, rec: Record
) -> manifests.Identity:
    """Ids to check against: --extension-id, else what we installed, else manifest.json."""
    try:
        ident = extension_identity(ext_dir, extension_id or rec.extension_id)
    except InstallError:
        if not rec.extension_id:
            raise
        return manifests.Identity(ext_dir, extension_id or rec.extension_id, rec.gecko_id, "record")
    if rec.gecko_id and not ident.gecko_id:
        ident = manifests.Identity(
            ident.extension_dir, ident.chromium_id, rec.gecko_id, ident.id_source
        )
    return ident


def _registered(r: Registration, reg) -> bool:
    if r.registry_key:
        return reg.get(r.registry_key) is not None
    return r.manifest.exists()


def _check_one(
    ctx: Context, r: Registration, ident, reg, expected: bool, pings: dict | None, timeout: float
) -> BrowserCheck:
    """Check one registration; ``pings`` caches ping answers (None: do not start the host)."""
    result = BrowserCheck(r.label, "ok", r.manifest, r.registry_key)
    if r.registry_key:
        value = reg.get(r.registry_key)
        if value is None:
            result.status = "broken" if expected else "absent"
            result.problems.append(f"registry key {r.registry_key} is missing")
            return result
        result.manifest = Path(value)
        if not os.path.isabs(value):
            result.status = "broken"
            result.problems.append(f"registry key {r.registry_key} holds a relative path {value}")
            return result
    elif not r.manifest.exists() and not r.manifest.is_symlink():
        result.status = "broken" if expected else "absent"
        result.problems.append(f"manifest {r.manifest} does not exist")
        return result
    if r.family == FIREFOX and not ident.gecko_id:
        result.status = "broken"
        result.problems.append("the extension has no gecko id to check allowed_extensions against")
        return result
    result.problems = manifests.problems(result.manifest, r.family, ident, ctx.platform)
    if result.problems:
        result.status = "broken"
        return result
    if pings is None:
        return result
    host = manifests.host_path(result.manifest)
    if host is None:  # pragma: no cover - problems() above already read the path
        result.status = "broken"
        result.problems.append(f'manifest {result.manifest}: cannot read "path"')
        return result
    argv = [ident.origin] if r.family == CHROMIUM else [str(result.manifest), ident.gecko_id]
    cache_key = (str(host), tuple(argv))
    if cache_key not in pings:
        try:
            pings[cache_key] = ping(host, argv, ctx.environ, timeout)
        except PingError as exc:
            pings[cache_key] = exc
    answer = pings[cache_key]
    if isinstance(answer, PingError):
        result.status = "broken"
        result.problems.append(f"host did not answer ping: {answer}")
    else:
        result.host_version, result.protocol = answer.get("host_version"), answer.get("protocol")
    return result
