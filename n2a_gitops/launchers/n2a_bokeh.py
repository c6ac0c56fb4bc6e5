"""n2a launcher for Bokeh, served by `bokeh serve n2a_bokeh.py`.

Runs app.py as __main__ with show(obj) turned into curdoc().add_root(obj) and the notebook's
output_notebook()/output_file() calls ignored: under a server they would write files or try
to open a browser instead of adding the plot to the page.

Warm-up: `python n2a_bokeh.py bokeh serve n2a_bokeh.py ...` runs this file once as a script
first, the notebook's code included (curdoc() is then a document of its own, as in the
notebook's kernel). Bokeh runs the code only per browser session, so without this a pod with
broken code would be Ready. If the code raises, Python prints the traceback and exits 1 before
the server starts; otherwise the process becomes the server (exec).
"""

import os
import runpy
import sys
import time

if __name__ == "__main__" and sys.argv[1:]:
    print("n2a: warm-up: running the notebook's code once before `bokeh serve`", file=sys.stderr, flush=True)
    _started = time.monotonic()

import bokeh.io
import bokeh.io.output
import bokeh.io.showing
import bokeh.plotting
from bokeh.io import curdoc


def _show(obj, *args, **kwargs):
    curdoc().add_root(obj)


def _ignored(*args, **kwargs):
    return None


for _module in (bokeh.io, bokeh.plotting, bokeh.io.showing):
    _module.show = _show
for _module in (bokeh.io, bokeh.plotting, bokeh.io.output):
    _module.output_notebook = _ignored
    _module.output_file = _ignored

runpy.run_path(os.path.join(os.getcwd(), "app.py"), run_name="__main__")

if __name__ == "__main__" and sys.argv[1:]:
    print(
        f"n2a: warm-up passed in {time.monotonic() - _started:.1f} s; starting the server", file=sys.stderr, flush=True
    )
    sys.stdout.flush()
    os.execvp(sys.argv[1], sys.argv[1:])
