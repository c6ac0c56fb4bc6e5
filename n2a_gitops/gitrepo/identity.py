"""Whether git knows who commits, and a repository-level identity for repos n2a itself creates."""

from __future__ import annotations

import subprocess
from pathlib import Path


def has_identity(path: Path) -> bool:
    """True when git in ``path`` has an explicit author and committer (config or GIT_* variables).

    ``user.useConfigOnly`` stops git from guessing ``root@host.(none)`` from the machine: a guessed
    identity is not one the user chose, so it counts as none.
    """
    for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        proc = subprocess.run(
            ["git", "-c", "user.useConfigOnly=true", "var", ident], cwd=path, capture_output=True, text=True
        )
        if proc.returncode != 0:
            return False
    return True


def set_local_identity(path: Path, name: str, email: str) -> None:
    """Write user.name and user.email into ``path``'s own .git/config (never the global config)."""
    for key, value in (("user.name", name), ("user.email", email)):
        subprocess.run(["git", "config", "--local", key, value], cwd=path, check=True, capture_output=True)
