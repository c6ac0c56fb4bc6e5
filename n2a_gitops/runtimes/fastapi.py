"""FastAPI: uvicorn serves the app object through a launcher that disables ``uvicorn.run()``
(notebooks call it unguarded; it would bind 127.0.0.1:8000 instead of our port)."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import ObjectRuntime, launcher

LAUNCHER = "n2a_fastapi.py"


class FastAPI(ObjectRuntime):
    name = "fastapi"
    title = "FastAPI"
    module = "fastapi"
    packages = ["fastapi", "uvicorn"]
    # gr.mount_gradio_app() returns the FastAPI app it mounted Gradio on.
    classes = {"fastapi.FastAPI", "gradio.mount_gradio_app", "gradio.routes.mount_gradio_app"}
    launch_methods = set()
    launch_functions = {"uvicorn.run", "uvicorn.main.run"}
    launch_note = "n2a disables it and runs uvicorn on the container port"
    subsumes = ("gradio",)  # gr.mount_gradio_app(fastapi_app, ...) is served by FastAPI
    startup_seconds = 45  # measured 0.7 s

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        env = {"N2A_APP_OBJECT": detection.app_object} if detection.app_object else {}
        command = [
            "uvicorn",
            "n2a_fastapi:app",
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
            "--proxy-headers",
            "--forwarded-allow-ips",
            "*",
        ]
        return self.spec(command, Probe("tcp"), port, env=env, files={LAUNCHER: launcher(LAUNCHER)})
