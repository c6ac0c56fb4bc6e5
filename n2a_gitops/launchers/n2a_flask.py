"""n2a launcher for Flask when the app object's name is not known: `gunicorn n2a_flask:app`."""

import importlib
import os
import sys

import flask

os.environ.setdefault("FLASK_RUN_FROM_CLI", "true")  # app.run() becomes a no-op
sys.path.insert(0, os.getcwd())
module = importlib.import_module("app")

_found = [v for v in vars(module).values() if isinstance(v, flask.Flask)]
if not _found:
    raise SystemExit("n2a: app.py builds no flask.Flask object at module level")
app = _found[-1]
