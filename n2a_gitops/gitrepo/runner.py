"""The one place that runs git: GitPython's command wrapper and the git binary, in the C locale,
never prompting for a password. Everything else in gitrepo/ asks git through ``GitRunner``'s
``_run`` / ``_out`` (or the GitPython objects it holds); nothing outside gitrepo/ imports git.

GitPython is imported lazily (``gitpython()``): it costs 0.1 s, which a pre-push hook that
checks one app should not pay.
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from n2a_gitops.errors import N2AError, UsageError

# Never let git wait for a password on a terminal nobody watches (JupyterLab, CI).
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0"}
TEMP_INDEX = "n2a-index-"  # temporary index files, in the git dir so that a killed run's are found


def gitpython():
    """The GitPython module, imported on first use."""
    import git

    return git


def blob_id(content: bytes) -> str:
    """The id git gives a blob with this content (no filters), without running git."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def git_error(action: str, exc) -> N2AError:
    detail = (getattr(exc, "stderr", "") or str(exc)).strip()
    fix = "see the git message above"
    if "Please tell me who you are" in detail or "empty ident" in detail:
        fix = 'set your identity: git config --global user.name "Your Name" && git config --global user.email you@example.com'
    elif "Authentication failed" in detail or "could not read Username" in detail or "403" in detail:
        fix = "configure git credentials for the remote (a credential helper or a token), then push again"
    return N2AError(f"git {action} failed: {detail}", fix)


class GitRunner:
    """A clone's git: run commands (``_run``, ``_out``), private indexes, trees and the branch."""

    def __init__(self, path: os.PathLike | str):
        git = gitpython()

        try:
            self.repo = git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise UsageError(
                f"{path} is not a git repository",
                "pass --repo with a clone of your GitOps repository, or create one with `n2a init DIR`",
            ) from None
        if self.repo.bare:
            raise UsageError(f"{path} is a bare repository", "pass a clone with a working tree")
        self.root = Path(self.repo.working_tree_dir)
        self.git = self.repo.git
        self.git_dir = Path(self.repo.git_dir)
        self._lock_depth = 0
        self.recovered: list[str] = []  # what taking the lock put right after an interrupted run

    # -- plumbing ----------------------------------------------------------------------------
    def _run(self, *args: str, env: dict | None = None, stdin: bytes | None = None) -> tuple[int, str, str]:
        """git ARGS without raising: (status, stdout, stderr), in the C locale (GitPython sets it).
        ``stdin``: what git reads on its standard input."""
        feed = None
        if stdin is not None:  # GitPython hands git a file as its stdin
            feed = tempfile.TemporaryFile()
            feed.write(stdin)
            feed.seek(0)
        try:
            status, out, err = self.git.execute(
                [self.git.GIT_PYTHON_GIT_EXECUTABLE, *args],
                istream=feed,
                with_extended_output=True,
                with_exceptions=False,
                env={**GIT_ENV, **(env or {})},
                strip_newline_in_stdout=False,
            )
        finally:
            if feed is not None:
                feed.close()
        return status, out, err

    def _out(self, *args: str, env: dict | None = None, stdin: bytes | None = None) -> str:
        git = gitpython()

        status, out, err = self._run(*args, env=env, stdin=stdin)
        if status:
            raise git.GitCommandError(["git", *args], status, err, out)
        return out.strip()

    @contextmanager
    def _temp_index(self):
        """A private index file in the git dir (a killed run's leftovers are found by ``_recover``)."""
        path = self.git_dir / f"{TEMP_INDEX}{os.getpid()}-{random.getrandbits(32):08x}"
        try:
            yield {**GIT_ENV, "GIT_INDEX_FILE": str(path)}
        finally:
            if path.exists():
                path.unlink()

    def _entries(self, rev: str | None, paths: list[str]) -> dict[str, tuple[str, str]]:
        """path -> (mode, blob id) of the files under ``paths`` at ``rev``."""
        if not rev or not paths:
            return {}
        entries = {}
        for item in filter(None, self._out("ls-tree", "-r", "-z", rev, "--", *paths).split("\0")):
            meta, path = item.split("\t", 1)
            mode, _type, sha = meta.split()
            entries[path] = (mode, sha)
        return entries

    def _blobs(self, rev: str | None, paths: list[str]) -> dict[str, str]:
        return {path: sha for path, (_mode, sha) in self._entries(rev, paths).items()}

    # -- state -----------------------------------------------------------------------------
    @property
    def branch(self) -> str:
        if self.repo.head.is_detached:
            raise N2AError(
                f"HEAD of {self.root} is detached (not on a branch), so a commit would be lost",
                "switch to the branch Argo CD follows: git switch main",
            )
        return self.repo.active_branch.name

    def head_sha(self) -> str | None:
        try:
            return self.repo.head.commit.hexsha
        except ValueError:  # unborn branch: no commit yet
            return None

    def check_ready(self) -> None:
        """Refuse to commit in the middle of a merge, rebase or cherry-pick, or on a detached HEAD."""
        self.branch  # noqa: B018 - raises when detached
        for marker, what in (
            ("MERGE_HEAD", "merge"),
            ("rebase-merge", "rebase"),
            ("rebase-apply", "rebase"),
            ("CHERRY_PICK_HEAD", "cherry-pick"),
            ("REVERT_HEAD", "revert"),
        ):
            if (self.git_dir / marker).exists():
                raise N2AError(
                    f"a {what} is in progress in {self.root}",
                    f"finish it (git {what} --continue) or abort it (git {what} --abort), then publish again",
                )


def start_git(root: Path, *args: str) -> subprocess.Popen:
    """``git ARGS`` in ``root`` as a child process (stdout and stderr piped, text), without GitPython."""
    return subprocess.Popen(
        ["git", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **GIT_ENV},
    )


def create_repo(path: Path, branch: str) -> None:
    """``git init`` at ``path`` (on ``branch``) unless a repository is there already."""
    git = gitpython()

    path.mkdir(parents=True, exist_ok=True)
    try:
        git.Repo(path)
    except git.InvalidGitRepositoryError:
        git.Repo.init(path, initial_branch=branch)


def clone_repo(url: str, dest: Path) -> None:
    """``git clone URL DEST``; credentials are git's business (a credential helper)."""
    git = gitpython()

    try:
        git.Repo.clone_from(url, str(dest), env=GIT_ENV, multi_options=["--quiet"])
    except git.GitCommandError as exc:
        error = git_error("clone", exc)
        error.fix = "check N2A_REPO_URL and that git can authenticate to it (a credential helper or token)"
        raise error from None


def user_name(path: Path | None = None) -> str | None:
    """git's user.name (repo config, then global), or None."""
    git = gitpython()

    try:
        reader = (
            git.Repo(path).config_reader()
            if path
            else git.GitConfigParser([os.path.expanduser("~/.gitconfig")], read_only=True)
        )
        return reader.get_value("user", "name", None) or None
    except Exception:  # no repo, no config, unreadable config: simply unknown
        return None


def origin_url(path: Path) -> str | None:
    git = gitpython()

    try:
        repo = git.Repo(path)
        return repo.remotes.origin.url if "origin" in [r.name for r in repo.remotes] else None
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
