"""Panel: ``panel serve`` on a launcher that runs the notebook's code as ``__main__``.

Under ``panel serve`` a script's ``__name__`` is ``bokeh_app_<hash>``, so a guarded
``.servable()`` would never run; notebooks also call ``pn.serve(x)`` or ``x.show()``, which
would start a second server inside the session. The launcher runs the code as ``__main__`` and
turns those calls into ``.servable()``. Run as a script in front of ``panel serve``, the same
launcher is the warm-up: the code runs once at start and a failure stops the pod (``--warm``
would only log it)."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import BaseRuntime, imports_line, launch_line, launcher

LAUNCHER = "n2a_panel.py"


class Panel(BaseRuntime):
    name = "panel"
    title = "Panel"
    packages = ["panel"]
    subsumes = ("bokeh",)  # Panel is built on Bokeh; Panel notebooks often import bokeh too
    startup_seconds = 90  # measured 2.0 s, plus the warm-up: one run of the code

    def examine(self, facts):
        if facts.imported("panel") is None:
            return "no `import panel`"
        evidence = [imports_line(facts, "panel")]
        servable = facts.method_calls(None, {"servable"})
        launches = facts.calls_to({"panel.serve", "panel.io.server.serve"})
        launches += [c for c in facts.method_calls(None, {"show"}) if not c.qualname.startswith("bokeh.")]
        evidence += [launch_line(c, "served by `panel serve`") for c in servable]
        evidence += [launch_line(c, "turned into .servable()") for c in launches]
        if not (servable or launches):
            evidence.append("but nothing is marked .servable() and nothing is served")
        return self.detection(evidence, strong=bool(servable or launches))

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        app = LAUNCHER.removesuffix(".py")
        command = [
            "panel",
            "serve",
            LAUNCHER,
            "--address",
            "0.0.0.0",
            "--port",
            str(port),
            "--allow-websocket-origin",
            "*",
            "--index",
            app,
            "--liveness",
            "--use-xheaders",
        ]
        # Every page view runs the user's code in a new session: probe /liveness instead.
        return self.spec(
            command, Probe("http", "/liveness"), port, files={LAUNCHER: launcher(LAUNCHER)}, warmup=["python", LAUNCHER]
        )
