"""The Python the host runs on: a private venv (or the current interpreter), and
the small launcher scripts that start it by absolute path.

Browsers start the host with the browser's environment and PATH, so nothing
here relies on PATH: the launcher names the interpreter by absolute path.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from .errors import InstallError

PACKAGE = "cpa-bridge"
HOST_MODULE = "cpa_bridge.host"
# The CLI is started through its entry-point function rather than ``-m`` so it
# does not depend on cpa_bridge/cli.py having a ``__main__`` block.
CLI_CODE = (
    "import sys; sys.argv[0] = {q}cpa-bridge{q}; from cpa_bridge.cli import main; sys.exit(main())"
)


def _sh_quote(value: str) -> str:
    return f'"{value}"' if not re.search(r'["$`\\]', value) else shlex.quote(value)


def _bat_quote(value: str) -> str:
    return '"' + value.replace("%", "%%") + '"'


def host_launcher_text(platform: str, python: Path) -> bytes:
    if platform == "win32":
        return f"@echo off\r\n{_bat_quote(str(python))} -m {HOST_MODULE} %*\r\n".encode()
    return (
        "#!/bin/sh\n"
        "# cpa-bridge native-messaging host launcher (written by install/install.py)\n"
        f'exec {_sh_quote(str(python))} -m {HOST_MODULE} "$@"\n'
    ).encode()


def cli_launcher_text(platform: str, python: Path) -> bytes:
    if platform == "win32":
        code = CLI_CODE.format(q="'")
        return f'@echo off\r\n{_bat_quote(str(python))} -c "{code}" %*\r\n'.encode()
    code = shlex.quote(CLI_CODE.format(q='"'))
    return (
        "#!/bin/sh\n"
        "# cpa-bridge command-line launcher (written by install/install.py)\n"
        f'exec {_sh_quote(str(python))} -c {code} "$@"\n'
    ).encode()


def _run(
    argv: list[str], environ: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=dict(environ),
        cwd=tempfile.gettempdir(),  # keep the caller's directory off sys.path
        timeout=timeout,
        text=True,
    )


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "(no output)"


def import_problem(python: Path, environ: Mapping[str, str]) -> str | None:
    """None if ``python`` can import the host module, else why not."""
    try:
        proc = _run([str(python), "-c", f"import {HOST_MODULE}"], environ, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run {python}: {exc}"
    return None if proc.returncode == 0 else _last_line(proc.stderr)


def check_importable(python: Path, environ: Mapping[str, str], warn: Callable[[str], None]) -> None:
    """--no-venv: the interpreter must already be able to import the host."""
    problem = import_problem(python, environ)
    if problem:
        raise InstallError(
            f"{python} cannot import {HOST_MODULE} ({problem}); "
            f"pip install the repository into it first, or drop --no-venv"
        )
    if environ.get("PYTHONPATH"):
        bare = {k: v for k, v in environ.items() if k != "PYTHONPATH"}
        if import_problem(python, bare):
            warn(
                f"{HOST_MODULE} is importable only through PYTHONPATH; a browser started without it will not find it"
            )


def installed(python: Path, environ: Mapping[str, str]) -> tuple[str, bool] | None:
    """(version, editable) of cpa-bridge in that interpreter, or None if it is not installed."""
    code = (
        f"import importlib.metadata as m, json; d = m.distribution({PACKAGE!r}); "
        "u = json.loads(d.read_text('direct_url.json') or '{}'); "
        "print(d.version, bool(u.get('dir_info', {}).get('editable')))"
    )
    try:
        proc = _run([str(python), "-c", code], environ, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0 or len(proc.stdout.split()) != 2:
        return None
    version, editable = proc.stdout.split()
    return version, editable == "True"


def _project_field(repo: Path, name: str) -> str | None:
    """A string field of [project] in pyproject.toml (no tomllib: Python 3.9 has none)."""
    path = repo / "pyproject.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstallError(f"{path} not found: is {repo} the cpa-bridge repository?") from None
    section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    match = section and re.search(rf'^{re.escape(name)}\s*=\s*"([^"]+)"', section.group(1), re.M)
    return match.group(1) if match else None


def project_version(repo: Path) -> str:
    version = _project_field(repo, "version")
    if not version:
        raise InstallError(f"{repo / 'pyproject.toml'}: no [project] version found")
    return version


def check_python_version(repo: Path) -> None:
    """Fail before building a venv that pip would then refuse (requires-python ">=X.Y")."""
    match = re.fullmatch(
        r">=\s*(\d+)\.(\d+)", (_project_field(repo, "requires-python") or "").strip()
    )
    if match and sys.version_info[:2] < (int(match.group(1)), int(match.group(2))):
        need = f"{match.group(1)}.{match.group(2)}"
        raise InstallError(
            f"cpa-bridge needs Python >= {need} and this is {sys.version_info[0]}.{sys.version_info[1]}; "
            f"run the installer with a newer one (e.g. python{need} install/install.py)"
        )


def venv_state(
    venv_dir: Path, python: Path, repo: Path, editable: bool, environ: Mapping[str, str]
) -> str:
    """ "missing", "current" (this version, installed the same way) or "stale"."""
    if not python.exists():
        if venv_dir.exists() and any(venv_dir.iterdir()) and not (venv_dir / "pyvenv.cfg").exists():
            raise InstallError(f"{venv_dir} exists and is not a virtual environment; move it away")
        return "missing"
    return "current" if installed(python, environ) == (project_version(repo), editable) else "stale"


def create_venv(venv_dir: Path, environ: Mapping[str, str]) -> None:
    try:
        proc = _run([sys.executable, "-m", "venv", "--clear", str(venv_dir)], environ, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        raise InstallError(f"could not create a venv at {venv_dir}: {exc}") from None
    if proc.returncode != 0:
        hint = (
            " (on Debian/Ubuntu: apt install python3-venv; or use --no-venv)"
            if "ensurepip" in proc.stderr + proc.stdout
            else ""
        )
        raise InstallError(
            f"could not create a venv at {venv_dir}: {_last_line(proc.stderr + proc.stdout)}{hint}"
        )


# Left out of the build copy: VCS data, build output, caches, environments.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".venv",
    "node_modules",
    ".*_cache",
    "test-artifacts",
)


def pip_install(
    python: Path, repo: Path, editable: bool, environ: Mapping[str, str], log: Callable[[str], None]
) -> None:
    """pip install the repository into ``python``'s environment.

    A regular install builds from a clean copy: setuptools builds in the source
    tree, and a stale build/lib there can ship modules that no longer exist.
    """
    env = dict(environ)
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="cpa-bridge-build-") as tmp:
        source = repo
        if not editable:
            source = Path(tmp) / "src"
            shutil.copytree(repo, source, ignore=_NOT_SOURCE, symlinks=True)
        argv = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
        argv += ["--editable", str(source)] if editable else [str(source)]
        try:
            proc = _run(argv, env, timeout=1800)
        except (OSError, subprocess.SubprocessError) as exc:
            raise InstallError(f"pip install failed: {exc}") from None
    if proc.returncode != 0:
        for line in (proc.stdout + proc.stderr).splitlines()[-15:]:
            log(f"  pip: {line}")
        raise InstallError(
            f"pip install of {repo} into {python.parent.parent} failed: {_last_line(proc.stderr)}"
        )
