"""Plain Python that serves on its own (http.server, socketserver, aiohttp, a raw socket ...):
``python app.py`` with PORT set; the code must bind 0.0.0.0:$PORT itself."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import BaseRuntime

# Module -> calls that start serving with it (qualified names or method names).
SERVERS = {
    "http.server": {"serve_forever", "http.server.test"},
    "socketserver": {"serve_forever"},
    "wsgiref.simple_server": {"serve_forever", "handle_request"},
    "aiohttp": {"aiohttp.web.run_app"},
    "tornado": {"tornado.ioloop.IOLoop.current().start", "listen"},
    "socket": {"listen"},
    "asyncio": {"asyncio.start_server", "start_server"},
    "waitress": {"waitress.serve"},
    "bottle": {"bottle.run"},
}
# Web frameworks n2a has no runtime for: their code serves, but we cannot tell how.
UNSUPPORTED = (
    "bottle",
    "cherrypy",
    "sanic",
    "quart",
    "tornado",
    "nicegui",
    "reflex",
    "starlette",
    "litestar",
    "falcon",
    "django",
    "pyramid",
    "twisted",
    "aiohttp",
    "hypercorn",
    "waitress",
    "http.server",
    "socketserver",
)


class Python(BaseRuntime):
    name = "python"
    title = "plain Python"
    packages: list[str] = []
    startup_seconds = 30  # measured 0.2 s

    def examine(self, facts):
        evidence = []
        for module, starters in SERVERS.items():
            if facts.imported(module) is None:
                continue
            for call in facts.calls:
                if call.qualname in starters or (call.attr in starters and call.receiver):
                    evidence.append(f"serves on its own with {module}: `{call.text()}` (line {call.line})")
                    break
        for call in facts.calls:
            port = call.constant_kwarg("port")
            if isinstance(port, int) and evidence:
                evidence.append(
                    f"`{call.text()}` (line {call.line}) binds port {port} itself: read "
                    "int(os.environ['PORT']) instead, the container serves on $PORT"
                )
        port_reads = [
            c
            for c in facts.calls
            if c.qualname in {"os.environ.get", "os.getenv"}
            and c.node.args
            and getattr(c.node.args[0], "value", None) == "PORT"
        ]
        evidence += [f"reads the PORT variable (line {c.line})" for c in port_reads]
        if not evidence:
            return "no server of its own (http.server, socketserver, aiohttp, sockets ...)"
        return self.detection(evidence)

    def serves_unrecognised(self, facts) -> list[str]:
        """Imports that suggest the code serves in a way no runtime recognises."""
        return [f"imports {m} (line {facts.imported(m)})" for m in UNSUPPORTED if facts.imported(m) is not None]

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        return self.spec(["python", "app.py"], Probe("tcp"), port, env={"PORT": str(port)})
