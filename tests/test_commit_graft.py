"""Commits graft the published paths into HEAD's tree (gitrepo/commits.py) instead of reading
the whole tree into an index: the tree they make must be exactly the one git itself makes from
HEAD plus `git add -A -- PATHS` (computed here with the git binary, in an index of its own), and
the user's other staged, unstaged and untracked work stays as it was."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from n2a_gitops.gitrepo.repo import GitOpsRepo


def git(cwd: Path, *args: str, env: dict | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}
    ).stdout


def tree_git_makes(root: Path, paths: list[str], tmp_path: Path) -> str:
    """HEAD's tree with the working-tree state of ``paths``, as git makes it from a full index."""
    env = {"GIT_INDEX_FILE": str(tmp_path / "reference-index")}
    git(root, "read-tree", "HEAD", env=env)
    present = [p for p in paths if (root / p).exists() or git(root, "ls-tree", "HEAD", "--", p)]
    if present:
        git(root, "add", "-A", "--", *present, env=env)
    return git(root, "write-tree", env=env).strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    for rel, text in {
        "README.md": "top\n",
        "apps/alpha/kustomization.yaml": "a: 1\n",
        "apps/alpha/src/app.py": "print('alpha')\n",
        "apps/beta/kustomization.yaml": "b: 1\n",
        "apps/beta/src/deep/er/file.txt": "deep\n",
        "argocd/apps/alpha.yaml": "alpha\n",
        "argocd/apps/beta.yaml": "beta\n",
        "only/one/file.txt": "alone\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "apps/alpha/src/run.sh").write_text("#!/bin/sh\n")
    (root / "apps/alpha/src/run.sh").chmod(0o755)
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root


def commit_and_compare(root: Path, paths: list[str], tmp_path: Path) -> str:
    expected = tree_git_makes(root, paths, tmp_path)
    sha = GitOpsRepo(root).commit_paths(paths, "change")
    assert sha is not None
    assert git(root, "rev-parse", f"{sha}^{{tree}}").strip() == expected
    git(root, "fsck", "--no-dangling")  # every tree the graft wrote is well formed
    return sha


def test_a_new_app_a_changed_one_and_a_removed_one_give_the_tree_git_gives(repo, tmp_path):
    (repo / "apps/gamma/src").mkdir(parents=True)
    (repo / "apps/gamma/src/app.py").write_text("print('gamma')\n")
    (repo / "argocd/apps/gamma.yaml").write_text("gamma\n")
    (repo / "apps/alpha/src/app.py").write_text("print('alpha 2')\n")
    (repo / "apps/alpha/src/run.sh").chmod(0o644)  # a mode change is part of the state
    for path in (repo / "apps/beta").rglob("*"):
        if path.is_file():
            path.unlink()
    (repo / "argocd/apps/beta.yaml").unlink()
    paths = [
        "apps/gamma",
        "argocd/apps/gamma.yaml",
        "apps/alpha",
        "argocd/apps/alpha.yaml",
        "apps/beta",
        "argocd/apps/beta.yaml",
    ]
    sha = commit_and_compare(repo, paths, tmp_path)
    listed = git(repo, "ls-tree", "-r", "--name-only", sha).split()
    assert "apps/gamma/src/app.py" in listed and not [p for p in listed if p.startswith("apps/beta")]
    assert git(repo, "status", "--porcelain", "--", *paths) == ""


def test_removing_the_only_file_of_a_folder_removes_the_folders_above_it(repo, tmp_path):
    (repo / "only/one/file.txt").unlink()
    sha = commit_and_compare(repo, ["only/one/file.txt"], tmp_path)
    assert "only" not in git(repo, "ls-tree", "--name-only", sha).split()


def test_removing_everything_commits_the_empty_tree(repo, tmp_path):
    everything = ["README.md", "apps", "argocd", "only"]
    git(repo, "rm", "-rq", "--cached", "--", *everything)
    for rel in everything:
        subprocess.run(["rm", "-rf", str(repo / rel)], check=True)
    sha = commit_and_compare(repo, everything, tmp_path)
    assert git(repo, "ls-tree", sha) == ""


def test_unchanged_paths_make_no_commit_and_other_work_stays_as_it_was(repo, tmp_path):
    (repo / "README.md").write_text("the user's unstaged edit\n")
    (repo / "apps/beta/kustomization.yaml").write_text("b: staged\n")
    git(repo, "add", "apps/beta/kustomization.yaml")
    (repo / "notes.txt").write_text("untracked\n")
    before = git(repo, "status", "--porcelain", "--untracked-files=all")
    head = git(repo, "rev-parse", "HEAD").strip()
    assert GitOpsRepo(repo).commit_paths(["apps/alpha", "argocd/apps/alpha.yaml"], "nothing") is None
    assert git(repo, "rev-parse", "HEAD").strip() == head
    (repo / "apps/alpha/kustomization.yaml").write_text("a: 2\n")
    sha = commit_and_compare(repo, ["apps/alpha"], tmp_path)
    # Only apps/alpha moved; the user's staged blob is still staged, not committed.
    assert git(repo, "diff", "--name-only", head, sha).split() == ["apps/alpha/kustomization.yaml"]
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == before
