"""Bokeh: ``bokeh serve`` on a launcher that runs the notebook's code as ``__main__`` with
``show(obj)`` turned into ``curdoc().add_root(obj)`` (notebook authors call show(), which under
a server would write an HTML file and try to open a browser). Run as a script in front of
``bokeh serve``, the same launcher is the warm-up: the code runs once at start and a failure
stops the pod."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import BaseRuntime, imports_line, launcher

LAUNCHER = "n2a_bokeh.py"


class Bokeh(BaseRuntime):
    name = "bokeh"
    title = "Bokeh"
    packages = ["bokeh"]
    startup_seconds = 60  # measured 1.1 s, plus the warm-up: one run of the code

    def examine(self, facts):
        if facts.imported("bokeh") is None:
            return "no `import bokeh`"
        evidence = [imports_line(facts, "bokeh")]
        roots = facts.method_calls(None, {"add_root"})
        shows = [
            c for c in facts.calls if c.qualname in {"bokeh.plotting.show", "bokeh.io.show", "bokeh.io.showing.show"}
        ]
        evidence += [f"adds a root to the document: `{c.text()}` (line {c.line})" for c in roots]
        evidence += [f"shows `{c.text()}` (line {c.line}); served as a document root" for c in shows]
        if not (roots or shows):
            evidence.append("but neither curdoc().add_root() nor show() is called")
        return self.detection(evidence, strong=bool(roots or shows))

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        app = LAUNCHER.removesuffix(".py")
        command = [
            "bokeh",
            "serve",
            LAUNCHER,
            "--address",
            "0.0.0.0",
            "--port",
            str(port),
            "--allow-websocket-origin",
            "*",
            "--use-xheaders",
        ]
        # `/` redirects to the app page, which runs the user's code: probe the app's metadata.
        return self.spec(
            command,
            Probe("http", f"/{app}/metadata"),
            port,
            files={LAUNCHER: launcher(LAUNCHER)},
            warmup=["python", LAUNCHER],
        )
