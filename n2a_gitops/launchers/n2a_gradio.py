"""n2a launcher for Gradio: run app.py with launch() disabled, then launch its app on our port.

Usage: python n2a_gradio.py PORT
"""

import os
import runpy
import sys

import gradio as gr

_launch = gr.Blocks.launch
_launched = []


def _record(self, *args, **kwargs):
    """The notebook's own launch(), any arguments: remember the app, start nothing."""
    _launched.append(self)


gr.Blocks.launch = _record

sys.path.insert(0, os.getcwd())
namespace = runpy.run_path(os.path.join(os.getcwd(), "app.py"), run_name="__main__")

name = os.environ.get("N2A_APP_OBJECT")
app = namespace.get(name) if name else None
if not isinstance(app, gr.Blocks):
    # The app the notebook launched (even `gr.Interface(...).launch()`), else the last one built.
    candidates = _launched or [value for value in namespace.values() if isinstance(value, gr.Blocks)]
    if not candidates:
        sys.exit(
            "n2a: app.py builds no gradio Blocks/Interface object at module level; "
            "assign it to a variable such as `demo = gr.Interface(...)`"
        )
    app = candidates[-1]

port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8080"))
_launch(
    app,
    server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
    server_port=port,
    share=False,
    inbrowser=False,
    prevent_thread_lock=False,
)
