#!/bin/sh
# Rebuild the prebuilt lab extension into ../n2a_gitops/labextension (committed, so users and CI
# need no Node). Offline once node_modules exists or npm's cache holds the locked packages.
#
# `jupyter labextension build` is avoided on purpose: it may try to fetch packages. The builder
# only needs JupyterLab's core package.json (which modules are shared singletons and at which
# versions); it is taken from the installed jupyterlab, or from $CORE_PATH.
set -eu
cd "$(dirname "$0")"

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  if [ -x ../.venv/bin/python ]; then PYTHON=../.venv/bin/python; else PYTHON=python3; fi
fi

if [ ! -x node_modules/.bin/tsc ] || [ ! -f node_modules/@jupyterlab/builder/lib/build-labextension.js ]; then
  npm ci --offline --no-audit --no-fund || npm ci --no-audit --no-fund
fi

CORE_PATH=${CORE_PATH:-$("$PYTHON" -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')}
if [ ! -f "$CORE_PATH/package.json" ]; then
  echo "build.sh: no JupyterLab core package.json in $CORE_PATH" >&2
  echo "fix: install jupyterlab>=4 into $PYTHON's environment, or set CORE_PATH" >&2
  exit 1
fi

rm -rf lib tsconfig.tsbuildinfo
node_modules/.bin/tsc
rm -rf ../n2a_gitops/labextension
node node_modules/@jupyterlab/builder/lib/build-labextension.js --core-path "$CORE_PATH" .
# Record which sources this build came from; a test fails when they change without a rebuild.
"$PYTHON" ../tests/e2e/labext_sources.py > ../n2a_gitops/labextension/sources.sha256
echo "built ../n2a_gitops/labextension"
