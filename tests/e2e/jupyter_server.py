"""Start a real Jupyter server (or JupyterLab) on loopback with a token, for the tests.

The server gets its own HOME, runtime and config dirs, the fixed git identity, and this
checkout's ``jupyter-config/`` on JUPYTER_CONFIG_PATH: the n2a server extension is enabled by
the very config file the wheel installs, not by a command-line flag.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_remote(base: Path, run) -> Path:
    """`n2a init` a GitOps repository in BASE/seed and make BASE/remote.git, a bare copy of it
    that stands in for the git host. ``run(*argv)`` runs a command in the test's environment."""
    run(
        sys.executable,
        "-m",
        "n2a_gitops",
        "init",
        str(base / "seed"),
        "--repo-url",
        "https://git.example.com/platform/gitops.git",
        "--apps-domain",
        "apps.example.com",
    )
    run("git", "clone", "-q", "--bare", str(base / "seed"), str(base / "remote.git"))
    return base / "remote.git"


def server_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("N2A_", "JUPYTER", "JPY_"))}
    env.pop("JUPYTERHUB_USER", None)
    home.mkdir(parents=True, exist_ok=True)
    env.update(GIT_IDENTITY)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_CONFIG_PATH=str(REPO_ROOT / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(home / ".jupyter-runtime"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Server:
    url: str  # base URL, ending in "/"
    token: str
    proc: subprocess.Popen
    log: Path

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers(), timeout=120, **kw)

    def post(self, path: str, json=None, **kw) -> requests.Response:
        return requests.post(self.url + path, headers=self.headers(), json=json, timeout=300, **kw)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start(root: Path, env: dict[str, str], log: Path, lab: bool = False, timeout: float = 90) -> Server:
    port, token = free_port(), secrets.token_hex(16)
    module = "jupyterlab" if lab else "jupyter_server"
    cmd = [
        sys.executable,
        "-m",
        module,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        # No network from tests: no update checks or news fetching.
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
    ]
    if os.geteuid() == 0:  # CI containers run as root; jupyter refuses that unless told
        cmd.append("--allow-root")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as sink:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}/", token, proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if server.get("api/status").status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"jupyter did not answer within {timeout}s:\n{log.read_text()}")
