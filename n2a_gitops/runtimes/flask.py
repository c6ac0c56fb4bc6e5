"""Flask: gunicorn imports the app object. FLASK_RUN_FROM_CLI=true turns a leftover
``app.run(debug=True)`` into a no-op (under gunicorn it would hang the worker).

``--preload``: the master imports the code before it opens the port. Without it the port
answers while a worker is still importing, so the TCP probe would pass for code that then
fails to import (the pod Ready, then crashing)."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import ObjectRuntime, launcher

LAUNCHER = "n2a_flask.py"


class Flask(ObjectRuntime):
    name = "flask"
    title = "Flask"
    module = "flask"
    packages = ["flask", "gunicorn"]
    classes = {"flask.Flask"}
    launch_methods = {"run"}
    launch_note = "ignored under gunicorn (FLASK_RUN_FROM_CLI=true)"
    startup_seconds = 30  # measured 0.3 s

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        env = {"FLASK_RUN_FROM_CLI": "true"}
        files = {}
        if detection.app_object:
            target = f"app:{detection.app_object}"
        else:  # the object is found at run time by its class
            target, files = "n2a_flask:app", {LAUNCHER: launcher(LAUNCHER)}
        command = [
            "gunicorn",
            target,
            "--preload",
            "--bind",
            f"0.0.0.0:{port}",
            "--threads",
            "4",
            "--access-logfile",
            "-",
        ]
        # Flask has no health route of its own and the app's pages are the user's code.
        return self.spec(command, Probe("tcp"), port, env=env, files=files)
