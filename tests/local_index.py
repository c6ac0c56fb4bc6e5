"""A real package index on loopback for offline tests: small pure-Python wheels built here,
served with PEP 503 (HTML) and PEP 691 (JSON) simple pages by a real HTTP server.

It stands in for PyPI or a company mirror: uv, pip and n2a's own index look-ups talk to it over
HTTP exactly as they would to the real thing, hashes included (``#sha256=`` on every link).

    index = LocalIndex(tmp_path)
    index.add("python-dateutil", "2.9.0", modules=["dateutil"], requires=["six>=1.5"])
    index.add("six", "1.16.0", modules=["six"])
    with index.serve() as url:      # "http://127.0.0.1:PORT/simple/"
        ...
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import http.server
import json
import re
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Dist:
    name: str
    version: str
    filename: str
    sha256: str
    requires_python: str | None = None


@dataclass
class LocalIndex:
    root: Path
    dists: list[Dist] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # paths asked for, to prove what was looked up
    delay: float = 0.0  # seconds each wheel download waits: makes two concurrent installs overlap

    def __post_init__(self):
        self.root = Path(self.root)
        (self.root / "files").mkdir(parents=True, exist_ok=True)

    def add(
        self,
        name: str,
        version: str,
        modules: list[str] | None = None,
        requires: list[str] | None = None,
        requires_python: str | None = None,
        code: str = "",
        scripts: dict[str, str] | None = None,
    ) -> Path:
        """Build ``name-version-py3-none-any.whl`` whose top-level modules are ``modules``
        (packages with an ``__init__.py`` holding ``code``), depending on ``requires``;
        ``scripts``: console scripts, {"name": "module:function"}."""
        modules = modules if modules is not None else [normalize(name).replace("-", "_")]
        stem = f"{re.sub(r'[-.]+', '_', name)}-{version}"
        filename = f"{stem}-py3-none-any.whl"
        info = f"{stem}.dist-info"
        metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        if requires_python:
            metadata.append(f"Requires-Python: {requires_python}")
        metadata += [f"Requires-Dist: {r}" for r in requires or ()]
        files = {f"{m}/__init__.py": (code or f"__version__ = {version!r}\n") for m in modules}
        files[f"{info}/METADATA"] = "\n".join(metadata) + "\n"
        files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: n2a-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        files[f"{info}/top_level.txt"] = "".join(m + "\n" for m in modules)
        if scripts:
            files[f"{info}/entry_points.txt"] = "[console_scripts]\n" + "".join(
                f"{k} = {v}\n" for k, v in scripts.items()
            )
        record = []
        for path, text in files.items():
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(text.encode())}")
        files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
        target = self.root / "files" / filename
        with zipfile.ZipFile(target, "w") as zf:
            for path, text in files.items():
                zf.writestr(path, text)
        sha = hashlib.sha256(target.read_bytes()).hexdigest()
        self.dists.append(Dist(name, version, filename, sha, requires_python))
        return target

    # -- serving ---------------------------------------------------------------------------
    def _projects(self) -> dict[str, list[Dist]]:
        projects: dict[str, list[Dist]] = {}
        for d in self.dists:
            projects.setdefault(normalize(d.name), []).append(d)
        return projects

    def _page(self, path: str, want_json: bool) -> tuple[int, str, bytes]:
        projects = self._projects()
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts == ["simple"]:
            if want_json:
                body = {"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in sorted(projects)]}
                return 200, JSON_TYPE, json.dumps(body).encode()
            links = "".join(f'<a href="{n}/">{n}</a>\n' for n in sorted(projects))
            return 200, "text/html", f"<!DOCTYPE html><html><body>\n{links}</body></html>".encode()
        if len(parts) == 2 and parts[0] == "simple":
            name = parts[1]
            if name != normalize(name):  # PEP 503: redirect to the normalised name
                return 301, f"/simple/{normalize(name)}/", b""
            if name not in projects:
                return 404, "text/plain", b"not found"
            dists = projects[name]
            if want_json:
                files = [
                    {
                        "filename": d.filename,
                        "url": f"../../files/{d.filename}",
                        "hashes": {"sha256": d.sha256},
                        **({"requires-python": d.requires_python} if d.requires_python else {}),
                    }
                    for d in dists
                ]
                body = {"meta": {"api-version": "1.0"}, "name": name, "files": files}
                return 200, JSON_TYPE, json.dumps(body).encode()
            links = "".join(
                f'<a href="../../files/{d.filename}#sha256={d.sha256}"'
                + (f' data-requires-python="{html.escape(d.requires_python)}"' if d.requires_python else "")
                + f">{d.filename}</a>\n"
                for d in dists
            )
            return 200, "text/html", f"<!DOCTYPE html><html><body>\n{links}</body></html>".encode()
        if len(parts) == 2 and parts[0] == "files" and (self.root / "files" / parts[1]).is_file():
            return 200, "application/octet-stream", (self.root / "files" / parts[1]).read_bytes()
        return 404, "text/plain", b"not found"

    @contextlib.contextmanager
    def serve(self, json_api: bool = True):
        """Serve on 127.0.0.1; yields the simple API's URL. ``json_api=False``: HTML only (PEP 503)."""
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self, head=False):
                index.requests.append(self.path)
                if self.path.startswith("/files/") and index.delay:
                    time.sleep(index.delay)
                want_json = json_api and JSON_TYPE in (self.headers.get("Accept") or "")
                status, kind, body = index._page(self.path, want_json)
                self.send_response(status)
                if status == 301:
                    self.send_header("Location", kind)
                    body = b""
                else:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def do_HEAD(self):
                self.do_GET(head=True)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
        finally:
            server.shutdown()
            server.server_close()
