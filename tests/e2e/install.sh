#!/bin/sh
# Everything the browser end-to-end test needs, idempotent and quick when already present:
# Debian's chromium (never a browser download), the Python playwright driver, and the
# JupyterHub for the hub service test. The lab extension's built assets are committed, so no
# npm here (labextension/build.sh rebuilds them when needed).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Python packages the browser and hub tests use (no browser download: playwright drives chromium).
for mod_pkg in playwright:playwright jupyterhub:jupyterhub; do
  mod=${mod_pkg%%:*}; pkg=${mod_pkg#*:}
  if ! "$PY" -c "import $mod" >/dev/null 2>&1; then
    if [ -x "$ROOT/.venv/bin/uv" ]; then
      "$ROOT/.venv/bin/uv" pip install --python "$PY" -q "$pkg"
    else
      "$PY" -m pip install -q "$pkg"
    fi
  fi
done

"$PY" -c 'import playwright.sync_api, jupyterhub; print("playwright and jupyterhub ok")'
chromium --version 2>/dev/null
