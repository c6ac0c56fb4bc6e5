"""Dash: gunicorn serves the Dash object's Flask ``.server`` through a small WSGI launcher that
disables ``run()`` and the removed ``run_server()`` (old notebooks still call it unguarded)."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import ObjectRuntime, launcher

LAUNCHER = "n2a_dash.py"


class Dash(ObjectRuntime):
    name = "dash"
    title = "Dash"
    module = "dash"
    packages = ["dash", "gunicorn"]
    classes = {"dash.Dash", "jupyter_dash.JupyterDash"}
    launch_methods = {"run", "run_server"}
    launch_note = "n2a disables it and serves the app with gunicorn"
    subsumes = ("flask",)  # a Dash app is a Flask app underneath
    startup_seconds = 45  # measured 0.7 s

    def examine(self, facts):
        found = super().examine(facts)
        if not isinstance(found, str):
            for call in facts.method_calls({found.app_object} if found.app_object else None, {"run_server"}):
                found.evidence.append(f"`run_server` (line {call.line}) was removed in Dash 3; the launcher ignores it")
        return found

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        env = {"N2A_APP_OBJECT": detection.app_object} if detection.app_object else {}
        command = [
            "gunicorn",
            "n2a_dash:server",
            "--bind",
            f"0.0.0.0:{port}",
            "--threads",
            "4",
            "--access-logfile",
            "-",
        ]
        return self.spec(command, Probe("http", "/_dash-layout"), port, env=env, files={LAUNCHER: launcher(LAUNCHER)})
