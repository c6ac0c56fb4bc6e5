"""n2a launcher for Bokeh, served by `bokeh serve n2a_bokeh.py`.

Runs app.py as __main__ with show(obj) turned into curdoc().add_root(obj) and the notebook's
output_notebook()/output_file() calls ignored: under a server they would write files or try
to open a browser instead of adding the plot to the page.
"""

import os
import runpy

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
