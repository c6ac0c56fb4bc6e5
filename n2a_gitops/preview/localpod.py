"""Run a built app on this machine the way its pod would run it (`n2a preview`).

Everything comes from the built manifests, nothing from the runtime modules: the ConfigMaps
are laid out as the pod's projected ``code`` volume would mount them, every emptyDir becomes a
temporary directory, and each ``mountPath`` is mapped to its local directory (command, args,
env values and workingDir that start with a mountPath are rewritten). The init containers run
their own script with their own env. The volume the init script keeps its environments in
(``N2A_ENVS``: one venv per lock, a shared volume in the cluster) is n2a's cache folder
``envs/``, and ``UV_CACHE_DIR`` n2a's uv cache: a second preview of an unchanged app is a venv
hit, exactly as a pod with the shared volume would see it. Then the main container's command
runs with the container port replaced by the local port, and the rendered readiness probe
decides when the app is up.

Env values, command and args go through the kubelet's dependent-variable expansion
(envvars.py), so the process sees what the pod's would. A variable the pod reads from a Secret
takes its value from this machine's environment under the same name; such values are passed
to the process only: never printed (the command is shown with them as $(NAME)), never written.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from n2a_gitops.config import cache_root
from n2a_gitops.errors import N2AError, UsageError
from n2a_gitops.output import Output
from n2a_gitops.pod import envvars
from n2a_gitops.pod.access import ACCESS_ANNOTATION, APP_CONTAINER, PROXY_CONTAINER

TAIL_LINES = 40
TRACEBACK_LINES = 200  # a traceback is shown whole, up to this many lines
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # kernels colour their tracebacks
DEFAULT_WAIT = 180  # seconds, when the Deployment has no startup probe
# Host variables a local process needs that a pod gets from its image or cluster.
PASSTHROUGH = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TZ",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "UV_INDEX_USERNAME",
    "UV_INDEX_PASSWORD",
    "UV_OFFLINE",
)
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


class PreviewError(N2AError):
    """The app could not be started or never became ready (exit code 1)."""


class CannotPreview(UsageError):
    """The app needs something preview cannot provide on this machine (exit code 2), e.g. conda."""


VENV_LINE = re.compile(r"^n2a: venv (hit|miss) (\w+)$", re.M)  # what the init script says


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- reading the manifests -----------------------------------------------------------------


def _one(manifests: list[dict], kind: str) -> dict:
    found = [m for m in manifests if isinstance(m, dict) and m.get("kind") == kind]
    if len(found) != 1:
        raise UsageError(
            f"the built overlay holds {len(found)} {kind} objects; preview needs exactly one",
            "preview an app rendered by n2a (apps/<app>/)",
        )
    return found[0]


def _configmaps(manifests: list[dict]) -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in manifests if isinstance(m, dict) and m.get("kind") == "ConfigMap"}


def _safe_rel(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise UsageError(
            f"refusing volume item path {path!r}: it must stay inside the volume", "re-render the app with n2a"
        )
    return rel


def _write_configmap(cm: dict, items: list[dict] | None, dest: Path) -> None:
    data = cm.get("data") or {}
    binary = cm.get("binaryData") or {}
    pairs = [(i["key"], i.get("path") or i["key"]) for i in items] if items else [(k, k) for k in [*data, *binary]]
    for key, path in pairs:
        target = dest / _safe_rel(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if key in data:
            target.write_bytes(data[key].encode("utf-8"))
        elif key in binary:
            target.write_bytes(base64.b64decode(binary[key]))
        else:
            raise UsageError(f"ConfigMap {cm['metadata']['name']} has no key {key!r}", "re-render the app with n2a")


def _literal_env(container: dict) -> dict[str, str]:
    """The container's env as the kubelet expands it, without anything from valueFrom: what
    preview itself may look at, and keep in cache keys (never a secret)."""
    return envvars.resolve(container, lambda item: None)[0]


def _secret_ref(item: dict) -> dict | None:
    return ((item or {}).get("valueFrom") or {}).get("secretKeyRef")


def _local_value(item: dict) -> str | None:
    """valueFrom, locally: a Secret's key comes from this machine's environment under the
    variable's own name. Other sources (fieldRef, resourceFieldRef, configMapKeyRef) have no
    local counterpart and stay unset."""
    if _secret_ref(item):
        return os.environ.get(item["name"])
    return None


def missing_secrets(containers: list[dict]) -> list[str]:
    """Variables the pod reads from Secrets that this environment does not set, with where from.

    An ``optional`` reference may be missing (the kubelet then leaves the variable unset)."""
    missing = []
    for container in containers:
        for item in container.get("env") or ():
            ref = _secret_ref(item)
            if ref and not ref.get("optional") and item.get("name") not in os.environ:
                missing.append(f"{item['name']} (Secret {ref.get('name')}, key {ref.get('key')})")
    return list(dict.fromkeys(missing))


# -- the local pod ---------------------------------------------------------------------------


@dataclass
class LocalPod:
    deployment: dict
    root: Path  # scratch directory holding the emptyDirs and the code volume
    cache: Path
    port: int
    volumes: dict[str, Path] = field(default_factory=dict)  # volume name -> local dir
    envs: str | None = None  # the volume holding one venv per lock, and its kind in the pod
    envs_kind: str = ""  # "persistentVolumeClaim" (shared by pods) or "emptyDir"

    @property
    def spec(self) -> dict:
        return self.deployment["spec"]["template"]["spec"]

    @property
    def venv(self) -> Path | None:
        """The app container's $VIRTUAL_ENV on this machine (a symlink to the lock's venv)."""
        containers = self.spec.get("containers") or [{}]
        main = next((c for c in containers if c.get("name") == APP_CONTAINER), containers[0])
        value = _literal_env(main).get("VIRTUAL_ENV")
        return Path(self.localise(value, self.mounts(main))) if value else None

    def mounts(self, container: dict) -> list[tuple[str, Path]]:
        pairs = [
            (m["mountPath"].rstrip("/") or "/", self.volumes[m["name"]])
            for m in container.get("volumeMounts") or ()
            if m["name"] in self.volumes
        ]
        return sorted(pairs, key=lambda p: -len(p[0]))  # longest mountPath first

    def localise(self, value: str, mounts: list[tuple[str, Path]]) -> str:
        """Rewrite a path that starts with a mountPath (each element of a PATH-like list)."""
        if ":" in value and all(part.startswith("/") for part in value.split(":") if part):
            return ":".join(self.localise(part, mounts) for part in value.split(":"))
        for mount, local in mounts:
            if value == mount or value.startswith(mount + "/"):
                return str(local) + value[len(mount) :]
        return value


def _container_port(container: dict) -> int | None:
    ports = container.get("ports") or []
    return int(ports[0]["containerPort"]) if ports else None


def _replace_port(value: str, container_port: int | None, port: int) -> str:
    """The container port becomes the local port, 0.0.0.0 becomes loopback.

    Only whole values and `host:PORT` / `--flag=PORT` endings are rewritten, so that an env
    value such as a URL with another service's port in its middle stays as it is.
    """
    if container_port is not None:
        value = re.sub(rf"(^|[:=]){container_port}$", rf"\g<1>{port}", value)
    # Listen on loopback only: the preview is for the user, not the network.
    return re.sub(r"(^|=)0\.0\.0\.0(?=$|:)", r"\g<1>127.0.0.1", value)


def _materialise(deployment: dict, configmaps: dict[str, dict], root: Path, cache: Path, port: int) -> LocalPod:
    pod = LocalPod(deployment, root, cache, port)
    spec = pod.spec
    # Volumes that outlive a pod (or should, in the cluster) map to n2a's cache: the one the
    # init script keeps its environments in, and the uv cache.
    cached = {}
    for init in spec.get("initContainers") or []:
        env = _literal_env(init)
        for m in init.get("volumeMounts") or ():
            if env.get("N2A_ENVS") == m["mountPath"]:
                cached[m["name"]] = cache / "envs"
                pod.envs = m["name"]
            elif env.get("UV_CACHE_DIR") == m["mountPath"]:
                cached[m["name"]] = cache / "uv"
    for vol in spec.get("volumes") or ():
        name = vol["name"]
        local = root / "volumes" / name
        if name in cached:
            local = cached[name]
            local.mkdir(parents=True, exist_ok=True)
            if name == pod.envs:
                pod.envs_kind = "persistentVolumeClaim" if "persistentVolumeClaim" in vol else "emptyDir"
            pod.volumes[name] = local
            continue
        local.mkdir(parents=True)
        if "projected" in vol:
            for src in vol["projected"].get("sources") or ():
                if "configMap" in src:
                    ref = src["configMap"]
                    if ref["name"] not in configmaps:
                        raise UsageError(
                            f"the Deployment mounts ConfigMap {ref['name']}, which the overlay does not build",
                            "re-render the app with n2a",
                        )
                    _write_configmap(configmaps[ref["name"]], ref.get("items"), local)
        elif "configMap" in vol:
            _write_configmap(configmaps[vol["configMap"]["name"]], vol["configMap"].get("items"), local)
        pod.volumes[name] = local
    return pod


def _refuse_conda(spec: dict) -> None:
    """A conda app's environment comes from micromamba and conda channels, which preview does not
    run: say so instead of pretending with some other environment."""
    for init in spec.get("initContainers") or ():
        command = [str(a) for a in init.get("command") or ()]
        if command and Path(command[0]).name == "micromamba":
            raise CannotPreview(
                f"this app's environment is built from conda channels by micromamba (init container "
                f"{init.get('name')!r}); n2a preview installs environments with uv only and cannot run it here",
                "publish it and follow its start with `n2a status APP` and `n2a logs APP`; to preview it "
                "here, move its packages to the environment file's pip section (or to --requirements)",
            )


# -- processes ---------------------------------------------------------------------------------


def _kubelet_env(container: dict) -> tuple[dict[str, str], set[str]]:
    """(the container's declared env as its pod gets it, the names holding secret values)."""
    return envvars.resolve(container, _local_value)


def _container_env(pod: LocalPod, container: dict, init: bool) -> dict[str, str]:
    mounts = pod.mounts(container)
    env = {k: os.environ[k] for k in PASSTHROUGH if k in os.environ}
    env["PATH"] = SYSTEM_PATH
    declared, secret = _kubelet_env(container)
    for key, value in declared.items():
        # Paths and ports are rewritten for this machine; a secret's value is passed as it is.
        env[key] = value if key in secret else pod.localise(value, mounts)
    if init:
        import uv

        # The image has uv and python on PATH; here they are n2a's own uv and this Python.
        env["PATH"] = f"{Path(uv.find_uv_bin()).parent}:{env['PATH']}"
        env.setdefault("UV_PYTHON", sys.executable)
        env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    else:
        cport = _container_port(container)
        env = {k: v if k in secret else _replace_port(v, cport, pod.port) for k, v in env.items()}
    tmp = dict(mounts).get("/tmp")
    if tmp is not None:
        env.setdefault("TMPDIR", str(tmp))  # the pod's /tmp is its own emptyDir
    return env


def _argv(pod: LocalPod, container: dict, init: bool, shown: bool = False) -> list[str]:
    """The command the kubelet would run ($(VAR) expanded against the container's env), with
    paths and port made local. ``shown``: for printing, secret variables stay $(NAME)."""
    mounts = pod.mounts(container)
    declared, secret = _kubelet_env(container)
    raw = envvars.expand_args(
        [*(container.get("command") or ()), *(container.get("args") or ())], declared, secret if shown else set()
    )
    argv = [pod.localise(a, mounts) for a in raw]
    if not argv:
        raise UsageError(
            f"container {container.get('name')} has no command; preview cannot know what the image runs",
            "re-render the app with n2a",
        )
    if not init:
        argv = [_replace_port(a, _container_port(container), pod.port) for a in argv]
    return argv


def _cwd(pod: LocalPod, container: dict) -> Path:
    wd = container.get("workingDir")
    return Path(pod.localise(wd, pod.mounts(container))) if wd else pod.root


def _tail(lines, maps=None, counts=None) -> str:
    """The end of the app's output: the last TAIL_LINES, or from its last traceback on, with the
    notebook's cell beside each app.py frame."""
    from n2a_gitops.notebook import cellmap

    lines = [ANSI.sub("", line) for line in lines]
    starts = [i for i, line in enumerate(lines) if "Traceback (most recent call last)" in line]
    first = len(lines) - TAIL_LINES
    if starts:
        first = min(first, max(starts[-1], len(lines) - TRACEBACK_LINES))
    shown = lines[max(first, 0) :]
    text = cellmap.annotate("\n".join(shown), maps or {}).rstrip()
    if counts:
        text = cellmap.annotate_kernel(text, counts)
    return f"\n--- last {len(shown)} lines of its output ---\n{text}" if text else " (it printed nothing)"


def _run_init(pod: LocalPod, container: dict, out: Output) -> str:
    """Run one init container to completion; returns its output (the script reports venv hits)."""
    argv, env, cwd = _argv(pod, container, True), _container_env(pod, container, True), _cwd(pod, container)
    out.step(f"running init container {container.get('name')!r}")
    try:
        proc = subprocess.run(
            argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        )
    except FileNotFoundError:
        raise PreviewError(
            f"init container {container.get('name')}: {argv[0]} not found on this machine",
            f"install {argv[0]} or run the preview where it is available",
        ) from None
    if proc.returncode != 0:
        raise PreviewError(
            f"init container {container.get('name')!r} failed with exit code {proc.returncode}"
            + _tail(proc.stdout.splitlines()),
            "check requirements.txt (names, versions, the package index in n2a.yaml) and try again",
        )
    return proc.stdout


@dataclass
class Install:
    """The install phase: how long it took and whether the lock's venv was already there."""

    seconds: float
    venv: str | None  # "hit", "miss", or None (no lock: installed into the pod's own venv)
    key: str | None = None

    def describe(self) -> str:
        what = {"hit": "venv hit: nothing installed", "miss": "venv miss: installed from the lock"}
        return f"install {self.seconds:.1f} s ({what.get(self.venv, 'no lock: installed from requirements.txt')})"


def install(pod: LocalPod, out: Output) -> Install:
    """Run the Deployment's init containers as the pod would."""
    started = time.monotonic()
    output = "".join(_run_init(pod, init, out) for init in pod.spec.get("initContainers") or ())
    said = VENV_LINE.findall(output)
    return Install(time.monotonic() - started, said[-1][0] if said else None, said[-1][1] if said else None)


def _notes(pod: LocalPod, out: Output) -> None:
    """Where this preview differs from a pod, in words."""
    if pod.envs_kind == "emptyDir":
        out.info(
            f"note: n2a.yaml names no envVolumeClaim, so this app's pods install at every start; "
            f"this preview keeps its environments in {pod.volumes[pod.envs]} as a shared volume would"
        )
    lock = next((p / "requirements.lock" for p in pod.volumes.values() if (p / "requirements.lock").is_file()), None)
    match = re.search(r"for Python (3\.\d+) ", lock.read_text(errors="replace")) if lock else None
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if match and match.group(1) != here:
        out.warn(
            f"the lock is for Python {match.group(1)} (the image's); this preview runs Python {here}, "
            "so packages without a wheel for it are built here or fail"
        )


class _App:
    """The main container's process, its output tail, and its probe."""

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
