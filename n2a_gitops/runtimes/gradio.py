"""Gradio: a launcher runs the notebook's code with ``launch()`` disabled, then launches the app
object itself on 0.0.0.0 and the container port (a hard-coded ``server_port`` would win over
GRADIO_SERVER_PORT, and a notebook without ``launch()`` would just exit)."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import ObjectRuntime, launcher

LAUNCHER = "n2a_gradio.py"


class Gradio(ObjectRuntime):
    name = "gradio"
    title = "Gradio"
    module = "gradio"
    packages = ["gradio"]
    classes = {f"gradio.{c}" for c in ("Blocks", "Interface", "ChatInterface", "TabbedInterface")}
    launch_methods = {"launch"}
    launch_note = "n2a disables it and launches the app itself"
    startup_seconds = 120  # measured 5.2 s on 2 cores; importing gradio dominates

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        env = {"GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": str(port)}
        if detection.app_object:
            env["N2A_APP_OBJECT"] = detection.app_object
        # No dedicated health route in Gradio; /config is cheap and does not run user code.
        return self.spec(
            ["python", LAUNCHER, str(port)],
            Probe("http", "/config"),
            port,
            env=env,
            files={LAUNCHER: launcher(LAUNCHER)},
        )
