"""Find and run the kustomize binary (standalone `kustomize`, else `kubectl kustomize`)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from n2a_gitops.errors import N2AError

INSTALL_HINT = (
    "install kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl, "
    "or set N2A_KUSTOMIZE to the kustomize binary"
)


def find_kustomize() -> list[str]:
    """The argv prefix that builds a folder: N2A_KUSTOMIZE, kustomize, else kubectl kustomize."""
    override = os.environ.get("N2A_KUSTOMIZE")
    if override:
        argv = shlex.split(override)
        if not shutil.which(argv[0]):
            raise N2AError(f"N2A_KUSTOMIZE names {argv[0]!r}, which is not an executable", INSTALL_HINT)
        return [*argv, "build"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise N2AError("no kustomize binary found (looked for N2A_KUSTOMIZE, kustomize, kubectl)", INSTALL_HINT)


def build_text(path: Path) -> str:
    argv = [*find_kustomize(), str(path)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise N2AError(
            f"`{shlex.join(argv)}` did not finish in 120 s", "check the overlay for remote resources"
        ) from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise N2AError(
            f"kustomize build of {path} failed (`{shlex.join(argv)}` exited {proc.returncode}):\n{detail}",
            "fix the overlay or the shared base; nothing was committed",
        )
    return proc.stdout


def build(path: Path) -> list[dict]:
    return parse(build_text(path))


def parse(text: str) -> list[dict]:
    """The documents of kustomize's output."""
    from n2a_gitops import yamlio

    return [doc for doc in yamlio.load_all(text) if doc]
