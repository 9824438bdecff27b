#!/usr/bin/env bash
# The full test suite (unit, host, contract and real-browser e2e) on a fresh machine:
# creates .venv, installs the package with its test extras, installs Chromium and
# Firefox ESR with apt when they are missing and we are root, installs the pinned npm tools
# (npm ci), builds the real CLIProxyAPI servers with Go, then runs pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/host -x`; `-n 0` for one process).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q -e '.[test]'

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)  # the TLS test makes a self-signed certificate
# CJK fonts, so the zh_CN / ja screenshots show text (no test depends on them)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} for the real-browser tests (apt-get)"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  elif ! command -v chromium >/dev/null 2>&1 || ! command -v firefox-esr >/dev/null 2>&1; then
    echo "!!! ${missing[*]} missing and not root: real-browser e2e tests will be SKIPPED !!!" >&2
    echo "!!! install them with: sudo apt-get install ${missing[*]}                      !!!" >&2
  fi
fi

# The JS linters and unit tests (tests/tooling/test_js_tools.py) use the npm tools pinned in
# package-lock.json. `npm ci` runs when node_modules/ is missing or older than the lock file.
if command -v npm >/dev/null 2>&1; then
  if [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "installing the pinned npm tools (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
elif [ "${CI:-}" = true ]; then
  echo "!!! node and npm (Node 20.19+) are needed for the JS linters and tests under CI !!!" >&2
  exit 1
else
  echo "!!! npm missing: the JS linters and unit tests will be SKIPPED !!!" >&2
fi

# Go lives in /usr/local/go on these machines; a non-login shell may not have it on PATH.
[ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null 2>&1 && export PATH="$PATH:/usr/local/go/bin"
# Real CLIProxyAPI servers (tests/real/versions.txt), built with Go into ~/.cache/cpa-bridge-tests
# (once per version; a rerun reuses them). Under CI=true a server that fails to build is a failure.
if command -v go >/dev/null 2>&1; then
  echo "building the real CLIProxyAPI servers (cached after the first run)"
  if ! .venv/bin/python -m tests.real.build; then
    [ "${CI:-}" = true ] && { echo "!!! a real CLIProxyAPI server failed to build !!!" >&2; exit 1; }
  fi
elif [ "${CI:-}" = true ]; then
  echo "!!! Go is not installed: the real CLIProxyAPI servers cannot be built (CI=true) !!!" >&2
  exit 1
else
  echo "!!! Go is not installed: the real-CLIProxyAPI tests will be SKIPPED !!!" >&2
fi

# Cached bytecode: the suite starts some 650 host and CLI processes, and without it each one
# compiles the host's modules again. Some machines set PYTHONDONTWRITEBYTECODE (an empty value
# turns it off); __pycache__/ is ignored by git.
export PYTHONDONTWRITEBYTECODE=
exec .venv/bin/python -m pytest "$@"
