"""n2a launcher for Panel, served by `panel serve n2a_panel.py --index n2a_panel`.

Runs app.py as __main__ (under panel serve the module name is bokeh_app_<hash>, so a guarded
.servable() would never run) and turns pn.serve(x) / x.show(), which would start a second
server, into x.servable().

Warm-up: `python n2a_panel.py panel serve n2a_panel.py ...` runs this file once as a script
first, the notebook's code included, outside any session (as in the notebook's own kernel).
Panel runs the code only per browser session and `--warm` only logs an error, so without this
a pod with broken code would be Ready. If the code raises, Python prints the traceback and
exits 1 before the server starts; otherwise the process becomes the server (exec).
"""

import os
import runpy
import sys
import time

if __name__ == "__main__" and sys.argv[1:]:
    print("n2a: warm-up: running the notebook's code once before `panel serve`", file=sys.stderr, flush=True)
    _started = time.monotonic()

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

if __name__ == "__main__" and sys.argv[1:]:
    print(
        f"n2a: warm-up passed in {time.monotonic() - _started:.1f} s; starting the server", file=sys.stderr, flush=True
    )
    sys.stdout.flush()
    os.execvp(sys.argv[1], sys.argv[1:])
