#!/bin/sh
# Everything the browser end-to-end test needs, idempotent and quick when already present:
# Debian's chromium (never a browser download), the Python playwright driver, and the
# lab extension's node_modules (only needed to rebuild it; the built assets are committed).
# A stamp file tells the tests the script ran, so under CI they fail instead of skipping.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if ! "$PY" -c 'import playwright' >/dev/null 2>&1; then
  if [ -x "$ROOT/.venv/bin/uv" ]; then
    "$ROOT/.venv/bin/uv" pip install --python "$PY" -q playwright
  else
    "$PY" -m pip install -q playwright
  fi
fi

# The test installs the package's lab extension into the environment the way the wheel does.
"$PY" - <<'PYEOF'
import playwright  # noqa: F401
print("playwright ok")
PYEOF
chromium --version
mkdir -p "$ROOT/test-artifacts"
date > "$ROOT/test-artifacts/.e2e-installed"
