"""Voila serves the notebook itself (``app.ipynb``) and runs it in a fresh kernel per visit.

It is the fallback for notebooks without a web framework or a server of their own: outputs,
plots and ipywidgets then become the app (``choose()`` in ``__init__`` decides)."""

from __future__ import annotations

from ..model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from .base import BaseRuntime

WIDGET_MODULES = ("ipywidgets", "IPython.display", "matplotlib", "plotly", "bqplot", "ipyleaflet", "voila")


class Voila(BaseRuntime):
    name = "voila"
    title = "Voila"
    packages = ["voila", "ipykernel", "ipywidgets"]
    startup_seconds = 90  # measured 3.2 s; each visit starts a kernel as well

    def examine(self, facts):
        # Never a strong match on its own: only the fallback when nothing else serves.
        used = [m for m in WIDGET_MODULES if facts.imported(m) is not None]
        if not used:
            return "used only as the fallback for notebooks without a server of their own"
        return self.detection([f"imports {m} (line {facts.imported(m)})" for m in used], strong=False)

    def fallback(self, reasons: list[str]) -> Detection:
        return self.detection(
            ["no web framework and no server of its own: Voila serves the notebook's outputs "
             "and widgets as the app"] + reasons, strong=False)

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        command = ["voila", "app.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=0.0.0.0"]
        # Any page view starts a kernel and runs the notebook: probe a static file instead.
        # Jupyter's platform-standard dirs (under HOME): the old layout is deprecated and warns.
        env = {"JUPYTER_PLATFORM_DIRS": "1"}
        return self.spec(command, Probe("http", "/voila/static/voila.js"), port, entry="app.ipynb", env=env)
