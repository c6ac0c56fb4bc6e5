"""A container of the local pod as a process: its env, argv and working directory as the kubelet
would give them (paths and the port made local), and the init containers run to completion.

The init containers run their own script (the very one the pod runs) with their own env.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from n2a_gitops.errors import N2AError, UsageError
from n2a_gitops.output import Output
from n2a_gitops.pod import envvars
from n2a_gitops.preview.volumes import LocalPod, _local_value

TAIL_LINES = 40
TRACEBACK_LINES = 200  # a traceback is shown whole, up to this many lines
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # kernels colour their tracebacks
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
        if "N2A_BLOB_SOURCE" in env:  # the blobs step fetches from the local copy of blobs/, not the cluster's server
            from n2a_gitops.blobs.store import preview_source

            env["N2A_BLOB_SOURCE"] = preview_source()
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
        what: dict[str | None, str] = {
            "hit": "venv hit: nothing installed",
            "miss": "venv miss: installed from the lock",
        }
        return f"install {self.seconds:.1f} s ({what.get(self.venv, 'no lock: installed from requirements.txt')})"


def install(pod: LocalPod, out: Output) -> Install:
    """Run the Deployment's init containers as the pod would."""
    started = time.monotonic()
    output = "".join(_run_init(pod, init, out) for init in pod.spec.get("initContainers") or ())
    said = VENV_LINE.findall(output)
    return Install(time.monotonic() - started, said[-1][0] if said else None, said[-1][1] if said else None)


def _notes(pod: LocalPod, out: Output) -> None:
    """Where this preview differs from a pod, in words."""
    if pod.envs and pod.envs_kind == "emptyDir":  # envs_kind is only set for the envs volume
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
