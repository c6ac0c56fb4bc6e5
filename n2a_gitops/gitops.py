"""The only module that touches git (through GitPython).

Commits are made through a temporary index: the commit holds HEAD plus exactly the given paths
as they are in the working tree, so whatever else the user has staged, modified or left
untracked stays exactly as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import N2AError, NotFoundError, UsageError

# Never let git wait for a password on a terminal nobody watches (JupyterLab, CI).
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0"}


def _git_error(action: str, exc) -> N2AError:
    detail = (getattr(exc, "stderr", "") or str(exc)).strip()
    fix = "see the git message above"
    if "Please tell me who you are" in detail or "empty ident" in detail:
        fix = 'set your identity: git config --global user.name "Your Name" && git config --global user.email you@example.com'
    elif "Authentication failed" in detail or "could not read Username" in detail or "403" in detail:
        fix = "configure git credentials for the remote (a credential helper or a token), then push again"
    return N2AError(f"git {action} failed: {detail}", fix)


class GitOpsRepo:
    def __init__(self, path: os.PathLike | str):
        import git

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
        gitdir = Path(self.repo.git_dir)
        for marker, what in (("MERGE_HEAD", "merge"), ("rebase-merge", "rebase"), ("rebase-apply", "rebase"),
                             ("CHERRY_PICK_HEAD", "cherry-pick"), ("REVERT_HEAD", "revert")):
            if (gitdir / marker).exists():
                raise N2AError(
                    f"a {what} is in progress in {self.root}",
                    f"finish it (git {what} --continue) or abort it (git {what} --abort), then publish again",
                )

    def dirty_paths(self, paths: list[str]) -> list[str]:
        out = self.git.status("--porcelain", "--untracked-files=all", "--", *paths)
        return [line[3:] for line in out.splitlines() if line.strip()]

    def ensure_clean(self, paths: list[str]) -> None:
        dirty = self.dirty_paths(paths)
        if dirty:
            shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
            raise N2AError(
                f"uncommitted changes in files n2a would overwrite: {shown}",
                "commit or discard them (git status shows them), then publish again",
            )

    # -- writing -----------------------------------------------------------------------------
    def _existing(self, paths: list[str]) -> list[str]:
        """Paths present in the working tree or tracked in HEAD (git add rejects the rest)."""
        keep = []
        for p in paths:
            if (self.root / p).exists() or (self.head_sha() and self.git.ls_tree("HEAD", "--", p)):
                keep.append(p)
        return keep

    def commit_paths(self, paths: list[str], message: str) -> str | None:
        """Commit the working-tree state of exactly ``paths``; None when nothing changed."""
        import git

        self.check_ready()
        branch, head = self.branch, self.head_sha()
        paths = self._existing(paths)
        fd, index = tempfile.mkstemp(prefix="n2a-index-")
        os.close(fd)
        os.unlink(index)  # git wants to create it
        env = {**_GIT_ENV, "GIT_INDEX_FILE": index}
        try:
            if head:
                self.git.read_tree("HEAD", env=env)
            if paths:
                self.git.add("-A", "--", *paths, env=env)
            tree = self.git.write_tree(env=env)
            if head and tree == self.repo.head.commit.tree.hexsha:
                return None
            parents = ["-p", head] if head else []
            sha = self.git.commit_tree(tree, *parents, "-m", message, env=_GIT_ENV)
            self.git.update_ref("-m", f"n2a: {message}", f"refs/heads/{branch}", sha, head or "0" * 40)
        except git.GitCommandError as exc:
            raise _git_error("commit", exc) from None
        finally:
            if os.path.exists(index):
                os.unlink(index)
        # The real index follows HEAD for our paths only; everything else stays as it was.
        if paths:
            self.git.reset("-q", "--", *paths)
        return sha

    def replace_paths(self, paths: list[str], files: dict[str, bytes], message: str, check=None) -> str | None:
        """Make ``paths`` hold exactly ``files`` (repo-relative) and commit them; None when unchanged.

        The one way n2a changes a repo (publish, delete, rollback): the paths must be clean
        first, ``check()`` may veto the new state, and on any failure they are put back as in HEAD.
        """
        import shutil

        self.check_ready()
        self.ensure_clean(paths)  # never throw away the user's uncommitted work
        try:
            for rel in paths:
                target = self.root / rel
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
            for rel, content in files.items():
                target = self.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            if check:
                check()
            return self.commit_paths(paths, message)
        except BaseException:
            self.restore_paths(paths)
            raise

    def restore_paths(self, paths: list[str]) -> None:
        """Put ``paths`` back as they are in HEAD (after a failed write)."""
        tracked = [p for p in paths if self.head_sha() and self.git.ls_tree("HEAD", "--", p)]
        if tracked:
            self.git.checkout("HEAD", "--", *tracked)
        existing = [p for p in paths if (self.root / p).exists()]
        if existing:
            self.git.clean("-fdq", "--", *existing)

    # -- reading ---------------------------------------------------------------------------
    def history(self, paths: list[str], limit: int | None = None) -> list[dict]:
        if not self.head_sha():
            return []
        args = ["--format=%H%x1f%aI%x1f%an%x1f%s"]
        if limit:
            args.append(f"-n{limit}")
        out = self.git.log(*args, "--", *paths)
        rows = []
        for line in out.splitlines():
            sha, date, author, message = line.split("\x1f", 3)
            rows.append({"sha": sha, "date": date, "author": author, "message": message})
        return rows

    def resolve(self, rev: str) -> str:
        import git

        try:
            return self.repo.commit(rev).hexsha
        except (git.BadName, ValueError, git.GitCommandError):
            raise NotFoundError(f"no commit {rev!r} in {self.root}", "pick one from `n2a history APP`") from None

    def files_at(self, rev: str, path: str) -> dict[str, bytes]:
        """Files under ``path`` at ``rev``, keyed by their path relative to ``path``."""
        commit = self.repo.commit(self.resolve(rev))
        try:
            tree = commit.tree / path
        except KeyError:
            raise NotFoundError(f"{path} does not exist at {rev}", "pick a commit from `n2a history APP`") from None
        if tree.type == "blob":
            return {"": tree.data_stream.read()}
        return {
            str(Path(b.path).relative_to(path)): b.data_stream.read()
            for b in tree.traverse()
            if b.type == "blob"
        }

    def changed_paths(self, since: str) -> list[str]:
        """Paths that differ between ``since`` and the working tree (committed or not)."""
        self.resolve(since)
        out = self.git.diff("--name-only", since, "--")
        untracked = self.git.ls_files("--others", "--exclude-standard")
        return sorted(set(out.splitlines()) | set(untracked.splitlines()))

    # -- pushing ---------------------------------------------------------------------------
    def _remote(self) -> tuple[str, str]:
        branch = self.repo.active_branch
        tracking = branch.tracking_branch()
        if tracking is not None:
            return tracking.remote_name, tracking.remote_head
        if not self.repo.remotes:
            raise UsageError(
                f"{self.root} has no git remote to push to",
                "add one: git remote add origin <url of the GitOps repository>",
            )
        return ("origin" if "origin" in [r.name for r in self.repo.remotes] else self.repo.remotes[0].name), branch.name

    def push(self, out=None, attempts: int = 3) -> str:
        """Push the current branch; when the remote moved, fetch, rebase and try again."""
        import git

        self.check_ready()
        remote, remote_branch = self._remote()
        for attempt in range(1, attempts + 1):
            if out:
                out.step(f"pushing {self.branch} to {remote}/{remote_branch}")
            try:
                self.git.push("--porcelain", remote, f"HEAD:refs/heads/{remote_branch}", env=_GIT_ENV)
                return self.head_sha()
            except git.GitCommandError as exc:
                detail = f"{exc.stdout or ''}\n{exc.stderr or ''}"
                moved = any(s in detail for s in ("[rejected]", "non-fast-forward", "fetch first", "stale info"))
                if not moved or attempt == attempts:
                    raise _git_error("push", exc) from None
            if out:
                out.step(f"{remote}/{remote_branch} moved; fetching and rebasing (attempt {attempt + 1})")
            try:
                self.git.fetch(remote, remote_branch, env=_GIT_ENV)
                self.git.rebase("--autostash", "FETCH_HEAD", env=_GIT_ENV)
            except git.GitCommandError as exc:
                if (Path(self.repo.git_dir) / "rebase-merge").exists() or (Path(self.repo.git_dir) / "rebase-apply").exists():
                    self.git.rebase("--abort")
                raise N2AError(
                    f"could not rebase onto {remote}/{remote_branch}: {(exc.stderr or '').strip()}",
                    "someone changed the same files; pull and resolve, then push again",
                ) from None
        raise AssertionError("unreachable")


def init_repo(path: Path, branch: str = "main") -> GitOpsRepo:
    """Open the git repository at ``path``, creating it (on ``branch``) when there is none."""
    import git

    path.mkdir(parents=True, exist_ok=True)
    try:
        git.Repo(path)
    except git.InvalidGitRepositoryError:
        git.Repo.init(path, initial_branch=branch)
    return GitOpsRepo(path)


def user_name(path: Path | None = None) -> str | None:
    """git's user.name (repo config, then global), or None."""
    import git

    try:
        reader = git.Repo(path).config_reader() if path else git.GitConfigParser(
            [os.path.expanduser("~/.gitconfig")], read_only=True)
        return reader.get_value("user", "name", None) or None
    except Exception:  # no repo, no config, unreadable config: simply unknown
        return None


def origin_url(path: Path) -> str | None:
    import git

    try:
        repo = git.Repo(path)
        return repo.remotes.origin.url if "origin" in [r.name for r in repo.remotes] else None
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def clone(url: str, dest: Path) -> GitOpsRepo:
    """``git clone URL DEST``; credentials are git's business (a credential helper)."""
    import git

    try:
        git.Repo.clone_from(url, str(dest), env=_GIT_ENV, multi_options=["--quiet"])
    except git.GitCommandError as exc:
        error = _git_error("clone", exc)
        error.fix = "check N2A_REPO_URL and that git can authenticate to it (a credential helper or token)"
        raise error from None
    return GitOpsRepo(dest)
