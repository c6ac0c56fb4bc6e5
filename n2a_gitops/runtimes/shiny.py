"""Shiny for Python, express (``shiny.express``) and core (an ``App(ui, server)`` object)."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import BaseRuntime, imports_line, launch_line, object_line


class Shiny(BaseRuntime):
    name = "shiny"
    title = "Shiny"
    packages = ["shiny"]
    startup_seconds = 45  # measured 0.7 s

    def examine(self, facts):
        if facts.imported("shiny") is None:
            return "no `import shiny`"
        evidence = [imports_line(facts, "shiny")]
        if facts.imported("shiny.express") is not None:
            evidence.append(f"Shiny express: imports shiny.express (line {facts.imported('shiny.express')})")
            return self.detection(evidence)
        objects = facts.objects_of({"shiny.App", "shiny.app.App"})
        if not objects:
            return self.detection(
                evidence + ["but builds no App(ui, server) object and does not import shiny.express"], strong=False
            )
        evidence += [object_line(*o) for o in objects]
        evidence += [launch_line(c, "ignored: `shiny run` serves the app") for c in facts.calls_to({"shiny.run_app"})]
        return self.detection(evidence, app_object=objects[-1][0])

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        target = "app.py"
        if detection.app_object and detection.app_object != "app":
            target = f"app.py:{detection.app_object}"  # `shiny run` looks for `app` otherwise
        command = ["shiny", "run", target, "--host", "0.0.0.0", "--port", str(port)]
        # The page is static; a session starts only on the websocket, so `/` is cheap.
        return self.spec(command, Probe("http", "/"), port)
