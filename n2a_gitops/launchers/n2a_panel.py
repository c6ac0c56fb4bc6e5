"""n2a launcher for Panel, served by `panel serve n2a_panel.py --index n2a_panel`.

Runs app.py as __main__ (under panel serve the module name is bokeh_app_<hash>, so a guarded
.servable() would never run) and turns pn.serve(x) / x.show(), which would start a second
server, into x.servable().
"""

import os
import runpy

import panel as pn
from panel.viewable import Viewable


def _servable(obj, title=None):
    if isinstance(obj, dict):  # pn.serve({"page": obj}): serve the first page
        obj = next(iter(obj.values()))
    if callable(obj) and not isinstance(obj, Viewable):
        obj = obj()
    pn.panel(obj).servable(title=title)


def _serve(panels, *args, title=None, **kwargs):
    _servable(panels, title if isinstance(title, str) else None)


def _show(self, *args, title=None, **kwargs):
    _servable(self, title)


pn.serve = _serve
Viewable.show = _show
runpy.run_path(os.path.join(os.getcwd(), "app.py"), run_name="__main__")
