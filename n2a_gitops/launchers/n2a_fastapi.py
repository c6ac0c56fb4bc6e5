"""n2a launcher for FastAPI: `uvicorn n2a_fastapi:app` with uvicorn.run() disabled.

Notebooks call uvicorn.run(app, ...) unguarded; under uvicorn that would start a second server
on the notebook's host and port.
"""

import importlib
import os
import sys

import uvicorn
from starlette.applications import Starlette

uvicorn.run = lambda *args, **kwargs: None
sys.path.insert(0, os.getcwd())
module = importlib.import_module("app")

_name = os.environ.get("N2A_APP_OBJECT")
app = getattr(module, _name, None) if _name else None
if not isinstance(app, Starlette):
    _found = [v for v in vars(module).values() if isinstance(v, Starlette)]
    if not _found:
        raise SystemExit("n2a: app.py builds no FastAPI object at module level")
    app = _found[-1]
