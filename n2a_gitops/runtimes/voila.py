"""Voila serves the notebook itself (``app.ipynb``) and runs it in a fresh kernel per visit.

It is the fallback for notebooks without a web framework or a server of their own: outputs,
plots and ipywidgets then become the app (``choose()`` in ``__init__`` decides).

The warm-up (``n2a_voila.py``) executes the notebook once with nbclient, in the kernel voila
would use, before the server starts: voila's static files answer while the code is broken."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import BaseRuntime, launcher

WARMUP = "n2a_voila.py"

WIDGET_MODULES = ("ipywidgets", "IPython.display", "matplotlib", "plotly", "bqplot", "ipyleaflet", "voila")


class Voila(BaseRuntime):
    name = "voila"
    title = "Voila"
    packages = ["voila", "ipykernel", "ipywidgets"]
    startup_seconds = 120  # measured 3.2 s, plus the warm-up: a kernel and one run of the notebook

    def examine(self, facts):
        # Never a strong match on its own: only the fallback when nothing else serves.
        used = [m for m in WIDGET_MODULES if facts.imported(m) is not None]
        if not used:
            return "used only as the fallback for notebooks without a server of their own"
        return self.detection([f"imports {m} (line {facts.imported(m)})" for m in used], strong=False)

    def fallback(self, reasons: list[str]) -> Detection:
        return self.detection(
            ["no web framework and no server of its own: Voila serves the notebook's outputs and widgets as the app"]
            + reasons,
            strong=False,
        )

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        command = ["voila", "app.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=0.0.0.0"]
        # Any page view starts a kernel and runs the notebook: probe a static file instead.
        # Jupyter's platform-standard dirs (under HOME): the old layout is deprecated and warns.
        env = {"JUPYTER_PLATFORM_DIRS": "1"}
        return self.spec(
            command,
            Probe("http", "/voila/static/voila.js"),
            port,
            entry="app.ipynb",
            env=env,
            warmup=["python", WARMUP],
            warmup_files={WARMUP: launcher(WARMUP)},
        )
