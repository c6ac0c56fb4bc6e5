"""Serving the local pod: start the main container, wait for its readiness probe, stop it
(its whole process group) on exit; `n2a preview` serves until Ctrl-C or until the app dies.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from n2a_gitops.config import cache_root
from n2a_gitops.errors import UsageError
from n2a_gitops.output import Output
from n2a_gitops.pod.access import ACCESS_ANNOTATION, APP_CONTAINER, PROXY_CONTAINER
from n2a_gitops.preview.containers import (
    Install,
    PreviewError,
    _argv,
    _container_env,
    _cwd,
    _notes,
    _refuse_conda,
    _tail,
    install,
)
from n2a_gitops.preview.volumes import LocalPod, _configmaps, _materialise, _one, missing_secrets

DEFAULT_WAIT = 180  # seconds, when the Deployment has no startup probe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _App:
    """The main container's process, its output tail, and its probe."""

    # Set by serve() once the app answers its readiness probe, before it yields the app.
    url: str
    install: Install
    seconds: dict[str, float]

    def __init__(self, pod: LocalPod, container: dict, out: Output, echo: bool):
        self.pod, self.container, self.out, self.echo = pod, container, out, echo
        self.lines: collections.deque[str] = collections.deque(maxlen=400)
        self.argv = _argv(pod, container, False, shown=True)  # what is printed and in --json
        argv = _argv(pod, container, False)
        self.count = 0  # lines read so far (the deque keeps only the last ones)
        env, cwd = _container_env(pod, container, False), _cwd(pod, container)
        self.cwd = cwd  # the working directory, where the init step copied app.py and its map
        cwd.mkdir(parents=True, exist_ok=True)
        try:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise PreviewError(
                f"{self.argv[0]} is not installed in the app's environment",
                "add the package that provides it to the requirements",
            ) from None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None  # Popen(stdout=PIPE)
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            self.count += 1
            if self.echo:
                self.out.info(line)

    def output(self, since: int = 0) -> str:
        """The tail of what the app printed (after its first SINCE lines), tracebacks mapped to cells."""
        from n2a_gitops.notebook import cellmap

        self.reader.join(timeout=2)
        lines = list(self.lines)
        lines = lines[max(0, len(lines) - (self.count - since)) :]
        # Voila runs app.ipynb in a kernel: its frames name cells by execution count.
        return _tail(lines, cellmap.load_maps(self.cwd), cellmap.kernel_counts(self.cwd / "app.ipynb"))

    def printed_traceback(self, since: int = 0) -> bool:
        lines = list(self.lines)[max(0, len(self.lines) - (self.count - since)) :]
        return any("Traceback (most recent call last)" in line for line in lines)

    def probe_ok(self, probe: dict) -> bool:
        port = self.pod.port
        try:
            if "httpGet" in probe:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    conn.request("GET", probe["httpGet"].get("path") or "/")
                    status = conn.getresponse().status
                finally:
                    conn.close()
                return 200 <= status < 400  # what the kubelet counts as success
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # Children left behind in the group (workers, kernels) go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.reader.join(timeout=5)


def _wait_seconds(container: dict) -> float:
    startup = container.get("startupProbe")
    if not startup:
        return DEFAULT_WAIT
    return startup.get("initialDelaySeconds", 0) + startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)


@contextlib.contextmanager
def serve(
    manifests: list[dict],
    port: int | None = None,
    out: Output | None = None,
    cache_dir=None,
    echo: bool = False,
    wait: float | None = None,
):
    """Start the app; yields its base URL once the readiness probe answers; stops it on exit."""
    out = out or Output(quiet=True)
    deployment = _one(manifests, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    containers = spec.get("containers") or []
    if not containers:
        raise UsageError("the Deployment has no container", "re-render the app with n2a")
    main, sidecars = _app_container(containers)
    for note in sidecar_notes(deployment, sidecars):
        out.info(f"note: {note}")
    missing = missing_secrets([*(spec.get("initContainers") or ()), main])
    if missing:
        names = [m.split(" ", 1)[0] for m in missing]
        raise UsageError(
            f"the app reads {', '.join(missing)} from Kubernetes Secrets; preview takes "
            f"{'them' if len(names) > 1 else 'it'} from this environment, where {', '.join(names)} "
            f"{'are' if len(names) > 1 else 'is'} not set",
            "set " + " and ".join(f"{n}=..." for n in names) + " in the environment you run n2a preview from "
            f"(export {'them' if len(names) > 1 else 'it'} in the shell, or a JupyterHub environment variable); preview passes the values "
            "to the app and writes them nowhere",
        )
    port = port or free_port()
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(
                f"port {port} is already in use on this machine",
                "pass another --port, or leave it out to get a free one",
            ) from None
    _refuse_conda(spec)
    root = Path(tempfile.mkdtemp(prefix="n2a-preview-"))
    app = None
    try:
        pod = _materialise(deployment, _configmaps(manifests), root, cache_root(cache_dir), port)
        _notes(pod, out)
        installed_by = install(pod, out)
        out.step(installed_by.describe())
        installed = time.monotonic()
        out.step(f"starting `{' '.join(_argv(pod, main, False, shown=True))}`")
        app = _App(pod, main, out, echo)
        probe = main.get("readinessProbe") or main.get("startupProbe") or {"tcpSocket": {}}
        deadline = time.monotonic() + (wait or _wait_seconds(main))
        while not app.probe_ok(probe):
            code = app.proc.poll()
            if code is not None:
                raise PreviewError(
                    f"the app exited with code {code} before it was ready" + app.output(),
                    "fix the error above in the notebook, then run the preview again",
                )
            if time.monotonic() > deadline:
                what = probe.get("httpGet", {}).get("path") or "its port"
                raise PreviewError(
                    f"the app did not answer its readiness probe ({what}) within {wait or _wait_seconds(main):.0f} s"
                    + app.output(),
                    "check that the app starts without waiting for input; a slow start needs more "
                    "time (see the Deployment's startupProbe)",
                )
            time.sleep(0.25)
        app.url = f"http://127.0.0.1:{port}/"
        app.install = installed_by
        app.seconds = {"install": installed_by.seconds, "start": time.monotonic() - installed}
        yield app
    finally:
        if app is not None:
            app.stop()
        shutil.rmtree(root, ignore_errors=True)


def _app_container(containers: list[dict]) -> tuple[dict, list[dict]]:
    """The container that serves the app (named "app"; else the first), and the others (the
    sign-in proxy, which cannot sign anyone in on a laptop)."""
    main = next((c for c in containers if c.get("name") == APP_CONTAINER), containers[0])
    return main, [c for c in containers if c is not main]


def sidecar_notes(deployment: dict, sidecars: list[dict]) -> list[str]:
    """What the preview leaves out, said plainly: above all, that no one has to sign in."""
    notes = []
    for sidecar in sidecars:
        if sidecar.get("name") == PROXY_CONTAINER:
            access = ((deployment.get("metadata") or {}).get("annotations") or {}).get(ACCESS_ANNOTATION, "")
            notes.append(
                f"the preview runs without the sign-in proxy ({PROXY_CONTAINER}): anyone who can reach "
                f"127.0.0.1 on this machine can open it; in the cluster only access {access!r} can"
            )
        else:
            notes.append(f"the preview runs only the app container, not {sidecar.get('name')!r}")
    return notes


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run(manifests: list[dict], port: int | None, out: Output, cache_dir=None, wait: float | None = None) -> int:
    """`n2a preview`: serve until Ctrl-C (exit 0) or until the app dies (exit 1)."""
    if threading.current_thread() is threading.main_thread():
        # A closed terminal or `kill` must stop the app too, not orphan it.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _interrupt)
    with serve(manifests, port, out, cache_dir, echo=True, wait=wait) as app:
        try:  # from the moment the URL is out, Ctrl-C is the normal way to stop
            out.info(f"phases       {app.install.describe()}, start {app.seconds['start']:.1f} s")
            out.info(f"app ready: {app.url}  (Ctrl-C stops it)")
            prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
            if prefix:
                out.info(f"from JupyterLab: {prefix.rstrip('/')}/proxy/{app.pod.port}/ (needs jupyter-server-proxy)")
            out.result(
                {
                    "url": app.url,
                    "port": app.pod.port,
                    "command": app.argv,
                    "seconds": {k: round(v, 3) for k, v in app.seconds.items()},
                    "venv": app.install.venv,
                }
            )
            while app.proc.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            out.info("stopping the app")
            return 0
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        raise PreviewError(
            f"the app exited with code {app.proc.returncode}" + app.output(),
            "fix the error above in the notebook, then run the preview again",
        )
