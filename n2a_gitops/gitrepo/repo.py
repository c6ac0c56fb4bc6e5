"""A GitOps clone, as n2a changes it: ``GitOpsRepo`` and the functions that open, create and clone one.

``GitOpsRepo`` is assembled from one module per job, all asking git through ``runner.GitRunner``
(the one place that runs git):

- commits.py: commits through a temporary index (HEAD plus exactly the given paths), history, files;
- recovery.py: the clone's lock and the journal that puts right a run killed half-way;
- push.py: the push race (retry with jittered backoff within a time budget);
- replay.py: replaying unpushed commits onto the remote branch, and moving the local branch after.

The names other code imports from here (``GitOpsRepo``, ``PushOutcome``, ``blob_id``, ``clone``,
``init_repo``, ``user_name``, ``origin_url``, ``changed_since``, the constants) stay here.
"""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.gitrepo.commits import RepoCommits
from n2a_gitops.gitrepo.push import MAX_TRANSIENT, PushOutcome, RepoPush
from n2a_gitops.gitrepo.recovery import DEFAULT_PUSH_TIMEOUT, JOURNAL
from n2a_gitops.gitrepo.replay import SUPERSEDED_REFS
from n2a_gitops.gitrepo.runner import (
    GIT_ENV,
    TEMP_INDEX,
    blob_id,
    clone_repo,
    create_repo,
    git_error,
    origin_url,
    start_git,
    user_name,
)

__all__ = [
    "DEFAULT_PUSH_TIMEOUT",
    "GIT_ENV",
    "JOURNAL",
    "MAX_TRANSIENT",
    "SUPERSEDED_REFS",
    "TEMP_INDEX",
    "GitOpsRepo",
    "PushOutcome",
    "blob_id",
    "changed_since",
    "clone",
    "git_error",
    "init_repo",
    "origin_url",
    "user_name",
]


class GitOpsRepo(RepoPush, RepoCommits):
    """A clone with a working tree: commit, recover, push and replay (see the modules above)."""


def changed_since(root: Path, since: str) -> list[str]:
    """``GitOpsRepo(root).changed_paths(since)``, asked of the git binary directly: a pre-push
    hook or CI job that checks one app should not pay GitPython's import (0.1 s). Anything
    unusual (not the top of a work tree, an unknown revision) goes the GitPython way, so the
    errors stay word for word what they are."""

    def start(*args: str):
        return start_git(root, *args)

    where, _ = start("rev-parse", "--show-toplevel", "--verify", "--quiet", f"{since}^{{commit}}").communicate()
    lines = where.splitlines()
    if len(lines) != 2 or Path(lines[0]).resolve() != Path(root).resolve():  # the top, then the commit
        return GitOpsRepo(root).changed_paths(since)
    # Both walk the work tree (10,000 files in a repo of 1,000 apps): side by side.
    diff = start("diff", "--name-only", since, "--")
    untracked = start("ls-files", "--others", "--exclude-standard")
    (changed, _), (new, _) = diff.communicate(), untracked.communicate()
    if diff.returncode or untracked.returncode:
        return GitOpsRepo(root).changed_paths(since)
    return sorted(set(changed.splitlines()) | set(new.splitlines()))


def init_repo(path: Path, branch: str = "main") -> GitOpsRepo:
    """Open the git repository at ``path``, creating it (on ``branch``) when there is none."""
    create_repo(path, branch)
    return GitOpsRepo(path)


def clone(url: str, dest: Path) -> GitOpsRepo:
    """``git clone URL DEST``; credentials are git's business (a credential helper)."""
    clone_repo(url, dest)
    return GitOpsRepo(dest)
