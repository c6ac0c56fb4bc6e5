"""`n2a preview` end to end: each example notebook is rendered, built with the real kustomize,
installed with uv from the package index into the cached venv (~/.cache/n2a, warm on reruns)
and served by its real framework on loopback (slow tier: `pytest -m slow`). The fast tests at the
end run a hand-written Deployment whose containers are plain sh and python.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from n2a_gitops.errors import N2AError
from n2a_gitops.output import Output
from n2a_gitops.preview import localpod as preview

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# framework -> (example notebook, where the app's own string shows, the string).
# Gradio, Dash, Streamlit and Solara render their pages with JavaScript: the HTML of `/` is a
# shell. The app's content then comes from the endpoint the page loads it from (gradio /config,
# dash /_dash-layout), or from the websocket the browser opens (streamlit's protobuf stream,
# solara's Jupyter-widget channel), spoken by a small client run in the app's own venv.
CASES = {
    "gradio": ("gradio_hello", "/config", "Hello from Gradio"),
    "streamlit": ("streamlit_hello", "ws:streamlit", "Hello from Streamlit"),
    "dash": ("dash_hello", "/_dash-layout", "Hello from Dash"),
    "panel": ("panel_hello", "/", "<title>Panel Hello</title>"),
    "bokeh": ("bokeh_hello", "/", "<title>Bokeh Hello</title>"),
    "voila": ("voila_hello", "/", "Hello from Voila"),
    "shiny": ("shiny_hello", "/", "Hello from Shiny"),
    "solara": ("solara_hello", "ws:solara", "Hello from Solara"),
    "flask": ("flask_hello", "/", "Hello from Flask"),
    "fastapi": ("fastapi_hello", "/", "Hello from FastAPI"),
    "python": ("python_hello", "/", "Hello from plain Python"),
}

STREAMLIT_CLIENT = r"""
import sys
from websockets.sync.client import connect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

url, needle = sys.argv[1], sys.argv[2]
with connect(url.replace("http", "ws", 1) + "_stcore/stream", subprotocols=["streamlit"]) as ws:
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    ws.send(msg.SerializeToString())  # what the browser sends to run the script
    while True:
        fm = ForwardMsg()
        fm.ParseFromString(ws.recv(timeout=60))
        if needle in str(fm):
            sys.exit(0)
        if fm.WhichOneof("type") == "script_finished":
            sys.exit("script finished without rendering " + repr(needle))
"""

SOLARA_CLIENT = r"""
import http.cookiejar, json, sys, urllib.request, uuid
from websockets.sync.client import connect

url, needle = sys.argv[1], sys.argv[2]
jar = http.cookiejar.CookieJar()
urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)).open(url).read()
session = str(uuid.uuid4())

def message(msg_type, content):
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session,
              "username": "n2a", "date": "2020-01-01T00:00:00Z", "version": "5.3"}
    return json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content,
                       "channel": "shell", "buffers": []})

ws_url = url.replace("http", "ws", 1) + f"jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={session}"
cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
with connect(ws_url, additional_headers={"Cookie": cookie}) as ws:
    comm = uuid.uuid4().hex  # the page's control channel, then "run the app"
    ws.send(message("comm_open", {"comm_id": comm, "target_name": "solara.control", "data": {}}))
    ws.send(message("comm_msg", {"comm_id": comm, "data": {"method": "run",
                                 "args": {"path": "", "appName": "__default__"}}}))
    while True:
        data = ws.recv(timeout=60)
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        if needle in text:
            sys.exit(0)
        if '"finished"' in text:
            sys.exit("app rendered without " + repr(needle))
"""


@pytest.fixture
def clean_cwd(tmp_path, monkeypatch):
    """Outside any GitOps repo, so prepare() uses default settings in a temp dir."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("N2A_REPO", raising=False)
    monkeypatch.delenv("N2A_NO_LOCK", raising=False)  # these run on the real index: lock as publish does
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def _prepare(notebook: Path, **kw):
    from n2a_gitops.pipeline import prepare

    return prepare(notebook, owner="ci", need_repo=False, **kw)


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=60) as resp:  # follows redirects, like a browser
        return resp.status, resp.read().decode("utf-8", "replace")


def _probe_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _deployment(manifests):
    return next(m for m in manifests if m["kind"] == "Deployment")


def _notebook(tmp_path: Path, name: str, cells: list[str]) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [new_code_cell(c) for c in cells]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.mark.parametrize("framework", list(CASES))
@pytest.mark.slow
def test_example_notebook_serves_its_own_content(framework, clean_cwd, tmp_path):
    example, where, needle = CASES[framework]
    prepared = _prepare(EXAMPLES / f"{example}.ipynb")
    assert prepared.result.framework == framework  # detected, not forced
    container = _deployment(prepared.manifests)["spec"]["template"]["spec"]["containers"][0]
    probe = container["readinessProbe"]

    with preview.serve(prepared.manifests, out=Output(quiet=True)) as app:
        port = app.pod.port
        if "httpGet" in probe:
            assert _probe_status(port, probe["httpGet"]["path"]) == 200
        else:
            assert "tcpSocket" in probe  # preview already connected; connect once more
            import socket

            socket.create_connection(("127.0.0.1", port), timeout=10).close()
        status, page = _get(app.url)
        assert status == 200
        if where.startswith("ws:"):
            client = tmp_path / "client.py"
            client.write_text(STREAMLIT_CLIENT if where == "ws:streamlit" else SOLARA_CLIENT)
            venv_python = app.pod.venv / "bin" / "python"
            done = subprocess.run(
                [str(venv_python), str(client), app.url, needle], capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr[-2000:]
        else:
            body = page if where == "/" else _get(app.url.rstrip("/") + where)[1]
            assert needle in body, body[:2000]


@pytest.mark.slow
def test_crashing_app_shows_its_own_traceback(clean_cwd, tmp_path):
    nb = _notebook(
        tmp_path,
        "crash",
        [
            "import os\nport = int(os.environ.get('PORT', '8000'))",
            "def load_model(path):\n    raise FileNotFoundError(f'model weights missing at {path}')\n\nmodel = load_model('weights-4711.bin')",
        ],
    )
    prepared = _prepare(nb)
    assert prepared.result.framework == "python"
    with pytest.raises(N2AError) as info:
        with preview.serve(prepared.manifests, out=Output(quiet=True), wait=60):
            pass
    message = info.value.message
    assert "exited with code 1" in message
    assert "FileNotFoundError: model weights missing at weights-4711.bin" in message
    assert "in load_model" in message  # the app's own frames ...
    assert "n2a_gitops" not in message  # ... not ours
    assert info.value.exit_code == 1


@pytest.mark.slow
def test_app_that_never_answers_times_out_with_its_output(clean_cwd, tmp_path):
    nb = _notebook(
        tmp_path,
        "sleepy",
        [
            "import os, time\nprint('warming up on port', os.environ.get('PORT'), flush=True)\ntime.sleep(3600)",
        ],
    )
    prepared = _prepare(nb, framework="python")
    with pytest.raises(N2AError) as info:
        with preview.serve(prepared.manifests, out=Output(quiet=True), wait=3):
            pass
    assert "did not answer its readiness probe" in info.value.message
    assert "warming up on port" in info.value.message


@pytest.mark.slow
def test_second_preview_reuses_the_cached_environment(clean_cwd, tmp_path):
    """The real index and real flask: the lock's venv is built once (or is already in the
    user's cache from an earlier run), then the next preview is a hit and touches nothing."""
    prepared = _prepare(EXAMPLES / "flask_hello.ipynb")
    assert prepared.result.lock["packages"] >= 5  # flask, gunicorn and what they need
    with preview.serve(prepared.manifests) as app:
        venv = app.pod.venv.resolve()
        assert app.install.venv in ("miss", "hit") and venv.parent == preview.cache_root() / "envs"
        site = next(venv.glob("lib/python*/site-packages"))
        first = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    with preview.serve(prepared.manifests) as app:
        assert app.install.venv == "hit" and "nothing installed" in app.install.describe()
        assert app.pod.venv.resolve() == venv
        assert _get(app.url)[0] == 200
    second = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    changed = sorted(str(p) for p in first if second.get(p) != first[p])
    assert not changed, changed[:5]
    assert any("flask" in p.name for p in site.iterdir()) and second.keys() == first.keys()


@pytest.mark.slow
def test_preview_stops_the_app_and_removes_its_files(clean_cwd):
    prepared = _prepare(EXAMPLES / "python_hello.ipynb")
    with preview.serve(prepared.manifests) as app:
        work = app.pod.root
        pid = app.proc.pid
        assert (work / "volumes").is_dir()
    assert app.proc.poll() is not None
    assert not work.exists()
    with pytest.raises(OSError):
        import os

        os.kill(pid, 0)


@pytest.mark.slow
def test_cli_preview_repo_app_and_json(clean_cwd, tmp_path):
    """`n2a preview --repo DIR APP` on a published app, run as a user would (then Ctrl-C)."""
    import os
    import signal

    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "ci",
        "GIT_AUTHOR_EMAIL": "ci@example.com",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@example.com",
    }
    repo = tmp_path / "gitops"
    n2a = [sys.executable, "-m", "n2a_gitops"]
    subprocess.run([*n2a, "init", str(repo)], check=True, env=env, capture_output=True)
    subprocess.run(
        [*n2a, "publish", str(EXAMPLES / "python_hello.ipynb"), "--repo", str(repo), "--owner", "jane"],
        check=True,
        env=env,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [*n2a, "preview", "--repo", str(repo), "python-hello-jane", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        result = json.loads(line)
        assert _get(result["url"]) == (200, "<h1>Hello from plain Python</h1>")
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    # n2a init's default access puts a sign-in proxy in the pod: the preview ran the app and said so.
    assert "without the sign-in proxy (oauth2-proxy)" in err and "'authenticated'" in err
    missing = subprocess.run([*n2a, "preview", "--repo", str(repo), "nope"], env=env, capture_output=True, text=True)
    assert missing.returncode == 5
    assert "python-hello-jane" in missing.stderr  # the fix lists the apps that exist


# -- fast: the generic pod contract, with sh and python as the "image" ------------------------------


def _pod(configmap: dict, main_command: list[str], items: list[dict]) -> list[dict]:
    mounts = [{"name": "work", "mountPath": "/app/work"}, {"name": "home", "mountPath": "/home/app"}]
    return [
        configmap,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "t-web"},
            "spec": {
                "template": {
                    "spec": {
                        "initContainers": [
                            {
                                "name": "install",
                                "command": ["sh", "-c", 'cp -RL "$N2A_SRC/." "$N2A_WORK"'],
                                "env": [
                                    {"name": "N2A_SRC", "value": "/app/src"},
                                    {"name": "N2A_WORK", "value": "/app/work"},
                                ],
                                "volumeMounts": [{"name": "code", "mountPath": "/app/src", "readOnly": True}, *mounts],
                            }
                        ],
                        "containers": [
                            {
                                "name": "app",
                                "command": main_command,
                                "workingDir": "/app/work",
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "env": [
                                    {"name": "PORT", "value": "8080"},
                                    {"name": "DATA_DIR", "value": "/app/work/data"},
                                    {"name": "PATH", "value": "/usr/local/bin:/usr/bin:/bin"},
                                ],
                                "readinessProbe": {"httpGet": {"path": "/index.html", "port": "http"}},
                                "startupProbe": {
                                    "httpGet": {"path": "/index.html", "port": "http"},
                                    "periodSeconds": 1,
                                    "failureThreshold": 30,
                                },
                                "volumeMounts": mounts,
                            }
                        ],
                        "volumes": [
                            {
                                "name": "code",
                                "projected": {
                                    "sources": [{"configMap": {"name": configmap["metadata"]["name"], "items": items}}]
                                },
                            },
                            {"name": "work", "emptyDir": {}},
                            {"name": "home", "emptyDir": {}},
                        ],
                    }
                }
            },
        },
    ]


def test_configmaps_are_laid_out_like_the_projected_volume(tmp_path):
    import base64

    blob = bytes(range(256)) * 4
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "t-code-abc"},
        "data": {"index.html": "<h1>Grüße from the ConfigMap</h1>"},
        "binaryData": {"data__x.bin": base64.b64encode(blob).decode()},
    }
    items = [{"key": "index.html", "path": "index.html"}, {"key": "data__x.bin", "path": "data/x.bin"}]
    # The app records what it sees, then serves its working directory on $PORT.
    command = [
        "sh",
        "-c",
        f'echo "$DATA_DIR|$PORT|$(pwd)" > seen.txt && exec {sys.executable} -m http.server "$PORT" --bind 0.0.0.0',
    ]
    with preview.serve(_pod(configmap, command, items), cache_dir=tmp_path / "cache") as app:
        assert _get(app.url + "index.html") == (200, "<h1>Grüße from the ConfigMap</h1>")
        with urllib.request.urlopen(app.url + "data/x.bin") as resp:
            assert resp.read() == blob  # binaryData, decoded, at the item's path
        data_dir, port, cwd = _get(app.url + "seen.txt")[1].strip().split("|")
    assert port == str(app.pod.port) != "8080"
    assert data_dir == cwd + "/data" and not cwd.startswith("/app/")


def test_item_paths_cannot_leave_the_volume(tmp_path):
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t-code-abc"}, "data": {"k": "x"}}
    with pytest.raises(N2AError) as info:
        with preview.serve(_pod(configmap, ["true"], [{"key": "k", "path": "../../etc/evil"}]), cache_dir=tmp_path):
            pass
    assert "must stay inside the volume" in info.value.message


def test_an_app_without_its_command_installed_is_named(tmp_path):
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t-code-abc"}, "data": {"k": "x"}}
    with pytest.raises(N2AError) as info:
        with preview.serve(
            _pod(configmap, ["streamlit-not-here", "run"], [{"key": "k", "path": "k"}]), cache_dir=tmp_path
        ):
            pass
    assert "streamlit-not-here is not installed" in info.value.message


def test_a_busy_port_is_refused_before_anything_runs(tmp_path):
    import socket

    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t-code-abc"}, "data": {"k": "x"}}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(N2AError) as info:
            with preview.serve(_pod(configmap, ["true"], [{"key": "k", "path": "k"}]), port=port, cache_dir=tmp_path):
                pass
    assert info.value.message == f"port {port} is already in use on this machine"
    assert info.value.exit_code == 2


COUNTING_NOTEBOOKS = {
    "panel": ["import panel as pn", "open('runs.txt', 'a').write('run\\n')\npn.Column('# counted').servable()"],
    "bokeh": [
        "from bokeh.io import curdoc\nfrom bokeh.models import Div",
        "open('runs.txt', 'a').write('run\\n')\ncurdoc().add_root(Div(text='counted'))",
    ],
    "voila": ["open('runs.txt', 'a').write('run\\n')\nprint('counted')"],
}


@pytest.mark.slow
@pytest.mark.parametrize("framework", list(COUNTING_NOTEBOOKS))
def test_probe_never_runs_the_users_code(framework, clean_cwd, tmp_path):
    """Voila, Panel and Bokeh run the notebook on every page view; their probes must not."""
    prepared = _prepare(_notebook(tmp_path, f"count_{framework}", COUNTING_NOTEBOOKS[framework]))
    assert prepared.result.framework == framework
    probe = _deployment(prepared.manifests)["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    with preview.serve(prepared.manifests) as app:
        runs = app.pod.volumes["work"] / "runs.txt"

        def count():
            return runs.read_text().count("run") if runs.exists() else 0

        before = count()
        for _ in range(5):
            assert _probe_status(app.pod.port, probe["httpGet"]["path"]) == 200
        assert count() == before
        assert _get(app.url)[0] == 200  # a page view does run it: the counter works
        import time

        deadline = time.monotonic() + 60  # voila streams the page while the kernel runs
        while count() == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert count() > before


# -- env as the kubelet makes it; secrets from this environment ----------------------------------

# The "app": serves its environment and argv as JSON on $PORT, from memory (it writes no file).
ENV_SERVER = r"""
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Env(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"env": dict(os.environ), "argv": sys.argv[1:]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Env).serve_forever()
"""
SECRET_VALUE = "s3cr3t-" + "value-preview-never-writes"


def _env_pod(env: list[dict], args: list[str] = ()) -> list[dict]:
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "t-code-abc"},
        "data": {"index.html": "x"},
    }
    manifests = _pod(
        configmap, [sys.executable, "-c", ENV_SERVER, *args], [{"key": "index.html", "path": "index.html"}]
    )
    container = manifests[1]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "PORT", "value": "8080"}, *env]
    for probe in ("readinessProbe", "startupProbe"):
        container[probe]["httpGet"]["path"] = "/"
    return manifests


def test_preview_gives_the_app_the_environment_its_pod_gets(tmp_path, monkeypatch):
    """Dependent variables as the kubelet expands them, paths made local, a Secret's value from
    this environment: passed to the app, and nowhere else (not printed, not in --json, no file)."""
    import io

    monkeypatch.setenv("API_KEY", SECRET_VALUE)
    monkeypatch.setenv("GREETING", "from the host: never used")
    env = [
        {"name": "GREETING", "value": "cost is $$(HOME) today"},  # what n2a writes for `$(HOME)`
        {"name": "EARLY", "value": "$(HOME)/x"},  # HOME comes later in the list: verbatim
        {"name": "HOME", "value": "/home/app"},
        {"name": "LATE", "value": "$(HOME)/cache"},  # defined above: expanded, then made local
        {"name": "MONEY", "value": "$$5 and $5"},
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "llm-keys", "key": "openai"}}},
        {"name": "AUTH", "value": "Bearer $(API_KEY)"},
        {"name": "OPTIONAL", "valueFrom": {"secretKeyRef": {"name": "x", "key": "y", "optional": True}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    out, err = io.StringIO(), io.StringIO()
    output = Output(json_mode=True, stream=out, err=err)
    with preview.serve(_env_pod(env, ["--key=$(API_KEY)", "$(HOME)"]), cache_dir=tmp_path / "cache", out=output) as app:
        seen = json.loads(_get(app.url)[1])
        files = [p for p in [*app.pod.root.rglob("*"), *(tmp_path / "cache").rglob("*")] if p.is_file()]
        assert not any(SECRET_VALUE.encode() in p.read_bytes() for p in files)
        shown = app.argv
        home = str(app.pod.volumes["home"])
    got = seen["env"]
    assert got["GREETING"] == "cost is $(HOME) today"
    assert got["EARLY"] == "$(HOME)/x"
    assert got["HOME"] == home and got["LATE"] == home + "/cache"
    assert got["MONEY"] == "$5 and $5"
    assert got["API_KEY"] == SECRET_VALUE and got["AUTH"] == f"Bearer {SECRET_VALUE}"
    assert "OPTIONAL" not in got and "POD" not in got
    assert seen["argv"] == [f"--key={SECRET_VALUE}", home]  # command and args are expanded too, then made local
    assert "--key=$(API_KEY)" in shown and SECRET_VALUE not in " ".join(shown)
    assert SECRET_VALUE not in out.getvalue() + err.getvalue()


def test_a_secret_missing_here_is_named_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("API_KEY", raising=False)
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    manifests = _env_pod(
        [
            {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "llm-keys", "key": "openai"}}},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        ]
    )
    manifests[1]["spec"]["template"]["spec"]["initContainers"][0]["command"] = [
        "sh",
        "-c",
        "exit 7",
    ]  # would fail if run
    with pytest.raises(N2AError) as info:
        with preview.serve(manifests, cache_dir=tmp_path):
            pass
    assert info.value.exit_code == 2
    assert "API_KEY (Secret llm-keys, key openai), DB_PASSWORD (Secret db, key password)" in info.value.message
    assert "API_KEY=... and DB_PASSWORD=..." in info.value.fix and "writes them nowhere" in info.value.fix


@pytest.mark.slow
def test_env_values_reach_a_real_app_as_typed(clean_cwd, tmp_path, monkeypatch):
    """`--env GREETING='cost is $(HOME) today'` through the whole path: rendered, built with
    kustomize, installed and run by the python framework; the app answers with what it got."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_VALUE)
    notebook = _notebook(
        tmp_path,
        "envecho",
        [
            "import json, os\nfrom http.server import BaseHTTPRequestHandler, HTTPServer",
            "class Echo(BaseHTTPRequestHandler):\n    def do_GET(self):\n"
            "        body = json.dumps(dict(os.environ)).encode()\n        self.send_response(200)\n"
            "        self.send_header('Content-Length', str(len(body)))\n        self.end_headers()\n"
            "        self.wfile.write(body)",
            "HTTPServer(('0.0.0.0', int(os.environ.get('PORT', '8000'))), Echo).serve_forever()",
        ],
    )
    typed = {"GREETING": "cost is $(HOME) today", "PORT_REF": "$(PORT)", "MONEY": "$$5", "ODD": "$(open and $é"}
    prepared = _prepare(
        notebook, env=[f"{k}={v}" for k, v in typed.items()], secret_env=["OPENAI_API_KEY=envecho-ci-keys/openai"]
    )
    assert prepared.result.framework == "python"
    assert b"cost is $$(HOME) today" in prepared.files["apps/envecho-ci/patch-deployment.yaml"]
    with preview.serve(prepared.manifests) as app:
        seen = json.loads(_get(app.url)[1])
    assert {k: seen[k] for k in typed} == typed
    assert seen["OPENAI_API_KEY"] == SECRET_VALUE
    assert not any(SECRET_VALUE.encode() in content for content in prepared.files.values())


# -- fast: the lock's path, on the loopback index ------------------------------------------------

LOCKED_SERVER = (
    "import os, http.server, greeting\n\n"
    "class Hello(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = f'{greeting.WORD} {greeting.__version__}'.encode()\n"
    "        self.send_response(200)\n        self.end_headers()\n        self.wfile.write(body)\n\n"
    "http.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), Hello).serve_forever()"
)


def _preview_cli(n2a, repo, app, env) -> tuple[dict, str]:
    """`n2a preview --repo REPO APP --json` until ready; GET the app; Ctrl-C. (result, stderr)"""
    import signal

    proc = subprocess.Popen(
        [*n2a, "preview", "--repo", str(repo), app, "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        result = json.loads(line) if line else {}
        if result:
            result["page"] = _get(result["url"])
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and result, err
    return result, err


@pytest.mark.slow
def test_cli_preview_installs_from_the_lock_then_a_venv_hit_installs_nothing(tmp_path, monkeypatch):
    """`n2a preview` of a published app installs its requirements.lock through the pod's own
    init script; the second preview of the unchanged app, with the same cache folder (standing in
    for the shared volume), is a venv hit: nothing is installed and its phase timings say so."""
    import os

    import yaml
    from conftest import write_notebook
    from local_index import LocalIndex

    index = LocalIndex(tmp_path / "index")
    index.add("greeting", "1.0", code="__version__ = '1.0'\nWORD = 'hello'\n")
    monkeypatch.delenv("N2A_NO_LOCK")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "UV_CACHE_DIR": str(tmp_path / "uv-lock")}
    n2a = [sys.executable, "-m", "n2a_gitops"]
    repo = tmp_path / "gitops"
    subprocess.run([*n2a, "init", str(repo)], check=True, env=env, capture_output=True)
    nb = write_notebook(tmp_path / "nb" / "hello.ipynb", ["%pip install greeting", LOCKED_SERVER])
    with index.serve() as url:
        settings = yaml.safe_load((repo / "n2a.yaml").read_text())
        settings.update(packageIndex=url, envVolumeClaim="team-envs")
        (repo / "n2a.yaml").write_text(yaml.safe_dump(settings))
        subprocess.run(["git", "-C", str(repo), "commit", "-qam", "index and shared volume"], check=True, env=env)
        subprocess.run(
            [*n2a, "publish", str(nb), "--repo", str(repo), "--owner", "jane"], check=True, env=env, capture_output=True
        )
        lock = (repo / "apps/hello-jane/src/requirements.lock").read_text()
        assert "greeting==1.0" in lock and "--hash=sha256:" in lock

        first, err = _preview_cli(n2a, repo, "hello-jane", env)
        assert first["page"] == (200, "hello 1.0") and first["venv"] == "miss"
        assert "phases       install" in err and "(venv miss: installed from the lock)" in err
        assert any(r.startswith("/files/greeting") for r in index.requests)
        asked = list(index.requests)

        second, err = _preview_cli(n2a, repo, "hello-jane", env)
        assert second["page"] == (200, "hello 1.0") and second["venv"] == "hit"
        assert "(venv hit: nothing installed)" in err.split("phases       install", 1)[1].splitlines()[0]
        assert set(second["seconds"]) == {"install", "start"}
        assert index.requests == asked  # not even the index was asked
    envs = tmp_path / "cache" / "n2a" / "envs"
    assert len([p for p in envs.iterdir() if not p.name.startswith(".")]) == 1


def test_preview_of_a_conda_app_says_it_cannot_run_it_here(tmp_path):
    """Built by micromamba from conda channels: nothing here can stand in for that honestly."""
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t-code-abc"}, "data": {"k": "x"}}
    manifests = _pod(configmap, ["true"], [{"key": "k", "path": "k"}])
    spec = manifests[1]["spec"]["template"]["spec"]
    spec["initContainers"].insert(0, {"name": "conda", "command": ["micromamba", "create", "--yes"]})
    with pytest.raises(preview.CannotPreview) as info:
        with preview.serve(manifests, cache_dir=tmp_path):
            pass
    assert "cannot run it here" in info.value.message and "n2a status" in info.value.fix
    assert info.value.exit_code == 2 and not list(tmp_path.iterdir())  # nothing was run or laid out
