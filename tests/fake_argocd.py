"""A stand-in for the Argo CD API server, answering real HTTP on loopback.

It is NOT Argo CD: it serves the three endpoints n2a uses, with documents shaped as Argo CD
v3.5's swagger.json describes them (v1alpha1Application, v1alpha1ApplicationTree, the
newline-delimited ``{"result": applicationLogEntry}`` stream, and ``runtimeError`` bodies for
401/403/404). tests/test_argocd_api.py checks every document it serves against that swagger.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "project-role-token"
TOKEN_WITHOUT_LOGS = "token-without-logs-policy"


def application(
    name: str,
    *,
    revision: str,
    sync: str = "Synced",
    health: str = "Healthy",
    message: str = "successfully synced (all tasks run)",
    phase: str = "Succeeded",
    namespace: str = "notebook-apps",
    urls: list[str] | None = None,
) -> dict:
    """A v1alpha1Application as GET /api/v1/applications/{name} returns it."""
    return {
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "uid": "0b6a3d1e-0000-4000-8000-000000000001",
            "resourceVersion": "4711",
            "creationTimestamp": "2025-01-01T10:00:00Z",
        },
        "spec": {
            "project": "notebook-apps",
            "source": {
                "repoURL": "https://git.example.com/gitops.git",
                "path": f"apps/{name}",
                "targetRevision": "main",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
        },
        "status": {
            "sync": {
                "status": sync,
                "revision": revision,
                "comparedTo": {
                    "source": {"repoURL": "https://git.example.com/gitops.git", "path": f"apps/{name}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                },
            },
            "health": {"status": health, "lastTransitionTime": "2025-01-01T10:01:00Z"},
            "operationState": {
                "phase": phase,
                "message": message,
                "startedAt": "2025-01-01T10:00:30Z",
                "finishedAt": "2025-01-01T10:00:40Z",
                "operation": {"sync": {"revision": revision}},
                "syncResult": {"revision": revision, "resources": []},
            },
            "summary": {
                "externalURLs": urls if urls is not None else [f"https://{name}.apps.example.com/"],
                "images": ["ghcr.io/astral-sh/uv:python3.11-bookworm-slim"],
            },
            "reconciledAt": "2025-01-01T10:00:41Z",
        },
    }


def tree(name: str, pods: list[str], namespace: str = "notebook-apps") -> dict:
    """A v1alpha1ApplicationTree: the Deployment, its ReplicaSet and pods."""
    rs = f"{name}-web-5d4f8c7b9"
    nodes = [
        {
            "group": "apps",
            "version": "v1",
            "kind": "Deployment",
            "namespace": namespace,
            "name": f"{name}-web",
            "uid": "d-1",
            "health": {"status": "Healthy"},
        },
        {
            "group": "apps",
            "version": "v1",
            "kind": "ReplicaSet",
            "namespace": namespace,
            "name": rs,
            "uid": "rs-1",
            "parentRefs": [
                {"group": "apps", "kind": "Deployment", "namespace": namespace, "name": f"{name}-web", "uid": "d-1"}
            ],
        },
    ]
    for i, pod in enumerate(pods):
        nodes.append(
            {
                "group": "",
                "version": "v1",
                "kind": "Pod",
                "namespace": namespace,
                "name": pod,
                "uid": f"p-{i}",
                "health": {"status": "Healthy"},
                "images": ["ghcr.io/astral-sh/uv:python3.11-bookworm-slim"],
                "parentRefs": [
                    {"group": "apps", "kind": "ReplicaSet", "namespace": namespace, "name": rs, "uid": "rs-1"}
                ],
            }
        )
    return {"nodes": nodes, "hosts": []}


class FakeArgoCD:
    """Start with ``with FakeArgoCD() as argo:``; ``argo.url``; set ``argo.apps[name]`` etc."""

    def __init__(self):
        self.apps: dict[str, list[dict]] = {}  # name -> successive answers (the last one repeats)
        self.logs: dict[str, list[dict]] = {}  # name -> applicationLogEntry dicts
        self.previous_logs: dict[str, list[dict]] = {}  # name -> entries of the containers' previous runs
        self.requests: list[dict] = []  # what n2a sent: method, path, query, authorization
        self.served: list[tuple[str, object]] = []  # (definition, document) for the swagger check
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_app(
        self,
        name: str,
        *answers: dict,
        pods: list[str] | None = None,
        logs: list[dict] | None = None,
        previous_logs: list[dict] | None = None,
    ):
        self.apps[name] = list(answers)
        self._trees = getattr(self, "_trees", {})
        self._trees[name] = tree(name, pods or [f"{name}-web-5d4f8c7b9-abcde"])
        self.logs[name] = logs or []
        self.previous_logs[name] = previous_logs or []

    def move(self, name: str, answer: dict, logs: list[dict] | None = None):
        """Argo CD moves on: from now on NAME answers ANSWER (a new app appears; an app known
        already keeps its pods and, unless LOGS is given, its pods' log)."""
        if name not in self.apps:
            self.add_app(name, answer, logs=logs)
            return
        self.apps[name] = [answer]
        if logs is not None:
            self.logs[name] = logs

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                parsed = urllib.parse.urlparse(self.path)
                query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
                auth = self.headers.get("Authorization", "")
                fake.requests.append({"method": "GET", "path": parsed.path, "query": query, "authorization": auth})
                token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
                if token not in (TOKEN, TOKEN_WITHOUT_LOGS):
                    # What Argo CD's grpc-gateway answers for a missing or invalid token.
                    return self._error(
                        401, 16, "invalid session: token signature is invalid" if token else "no session information"
                    )
                parts = parsed.path.strip("/").split("/")
                if parts[:3] != ["api", "v1", "applications"] or len(parts) not in (4, 5):
                    return self._error(404, 5, "Not Found")
                name = urllib.parse.unquote(parts[3])
                if name not in fake.apps:
                    return self._error(404, 5, f'applications.argoproj.io "{name}" not found')
                if len(parts) == 4:
                    answers = fake.apps[name]
                    doc = answers.pop(0) if len(answers) > 1 else answers[0]
                    return self._json(200, doc, "v1alpha1Application")
                if parts[4] == "resource-tree":
                    return self._json(200, fake._trees[name], "v1alpha1ApplicationTree")
                if parts[4] == "logs":
                    if token == TOKEN_WITHOUT_LOGS:
                        return self._error(
                            403,
                            7,
                            f"permission denied: logs, get, notebook-apps/{name}, sub: proj:notebook-apps:viewer",
                        )
                    return self._logs(name, query)
                return self._error(404, 5, "Not Found")

            def _logs(self, name, query):
                want = {"group": "apps", "kind": "Deployment", "resourceName": f"{name}-web"}
                if any(query.get(k) != v for k, v in want.items()):
                    # Argo CD finds nothing to stream for another resource: an empty stream.
                    entries = []
                else:
                    # previous=true: what the containers printed before their last restart.
                    entries = list((fake.previous_logs if query.get("previous") == "true" else fake.logs)[name])
                    if "tailLines" in query:
                        n = int(query["tailLines"])
                        by_pod: dict[str, list] = {}
                        for e in entries:
                            by_pod.setdefault(e["podName"], []).append(e)
                        entries = [e for e in entries if e in by_pod[e["podName"]][-n:]] if n > 0 else entries
                entries.append({"content": "", "podName": "", "timeStampStr": "", "last": True})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for entry in entries:
                    doc = {"result": entry}
                    fake.served.append(("stream:applicationLogEntry", doc))
                    data = (json.dumps(doc) + "\n").encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def _json(self, code, doc, definition):
                fake.served.append((definition, doc))
                data = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, code, grpc_code, message):
                self._json(
                    code, {"error": message, "code": grpc_code, "message": message, "details": []}, "runtimeError"
                )

        return Handler
