"""n2a launcher for Dash: a WSGI module for gunicorn (`gunicorn n2a_dash:server`).

Importing app.py must not start Dash's development server: run() is disabled, and so is
run_server(), removed in Dash 3 but still called by older notebooks.
"""

import importlib
import os
import sys

import dash


def _ignored(self, *args, **kwargs):
    return None


dash.Dash.run = _ignored
dash.Dash.run_server = _ignored

sys.path.insert(0, os.getcwd())
module = importlib.import_module("app")

_name = os.environ.get("N2A_APP_OBJECT")
app = getattr(module, _name, None) if _name else None
if not isinstance(app, dash.Dash):
    _found = [v for v in vars(module).values() if isinstance(v, dash.Dash)]
    if not _found:
        raise SystemExit("n2a: app.py builds no dash.Dash object at module level")
    app = _found[-1]

server = app.server
