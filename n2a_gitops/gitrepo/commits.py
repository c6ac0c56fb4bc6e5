"""Commits through a temporary index.

The commit holds HEAD plus exactly the given paths as they are in the working tree, so
whatever else the user has staged, modified or left untracked stays exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.errors import N2AError, NotFoundError
from n2a_gitops.gitrepo.recovery import RepoRecovery
from n2a_gitops.gitrepo.runner import GIT_ENV, blob_id, git_error, gitpython


class RepoCommits(RepoRecovery):
    """Writing (commit, replace, under the lock and the journal) and reading (history, files)."""

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
        git = gitpython()

        with self.locked(what="commit"):
            self.check_ready()
            branch, head = self.branch, self.head_sha()
            paths = self._existing(paths)
            with self._temp_index() as env:
                try:
                    # The private index holds HEAD's entries under ``paths`` only (not the whole
                    # tree: a repo of 2,000 apps has some 30,000 files), the working tree's state
                    # of them is added, and the result is grafted into HEAD's tree.
                    seed = "".join(
                        f"{mode} {sha}\t{path}\0" for path, (mode, sha) in self._entries(head, paths).items()
                    )
                    if seed:
                        self._out("update-index", "-z", "--index-info", env=env, stdin=seed.encode())
                    if paths:
                        self.git.add("-A", "--", *paths, env=env)
                    tree = self.git.write_tree(env=env)
                    if head:
                        grafted = self._graft(self._out("rev-parse", "HEAD^{tree}"), tree, paths)
                        tree = grafted or self._out("mktree", "-z", stdin=b"")  # nothing left: the empty tree
                    if head and tree == self.repo.head.commit.tree.hexsha:
                        return None
                    parents = ["-p", head] if head else []
                    sha = self.git.commit_tree(tree, *parents, "-m", message, env=GIT_ENV)
                    self.git.update_ref("-m", f"n2a: {message}", f"refs/heads/{branch}", sha, head or "0" * 40)
                except git.GitCommandError as exc:
                    raise git_error("commit", exc) from None
            # The real index follows HEAD for our paths only; everything else stays as it was.
            # No refresh of the whole index after it (a stat of every file in the repo): the
            # next `git status` refreshes the entries of these paths when it looks at them.
            if paths:
                status, _, err = self._run("reset", "-q", "--no-refresh", "--", *paths)
                if status and "no-refresh" in err:  # git before 2.36 has no --no-refresh
                    self.git.reset("-q", "--", *paths)
                elif status:
                    raise git_error("reset", git.GitCommandError(["git", "reset"], status, err))
            return sha

    def _level(self, tree: str | None) -> dict[str, str]:
        """name -> its `git ls-tree` line, for the entries of one tree (not recursive)."""
        if not tree:
            return {}
        return {item.split("\t", 1)[1]: item for item in filter(None, self._out("ls-tree", "-z", tree).split("\0"))}

    def _graft(self, base: str | None, ours: str | None, paths: list[str]) -> str | None:
        """Tree ``base`` with each of ``paths`` as it is in tree ``ours`` (removed where ``ours``
        lacks it); None when nothing is left. Only the trees on the way to ``paths`` are read and
        rewritten, so the cost follows those folders, not the size of the repo."""
        entries, theirs = self._level(base), self._level(ours)
        below: dict[str, list[str]] = {}
        for path in paths:
            first, _, rest = path.strip("/").partition("/")
            below.setdefault(first, []).append(rest)
        for name, rests in below.items():
            if "" in rests:  # the whole entry is one of ``paths``: take ours (or drop it)
                if name in theirs:
                    entries[name] = theirs[name]
                else:
                    entries.pop(name, None)
                continue
            sub = self._graft(_subtree(entries.get(name)), _subtree(theirs.get(name)), rests)
            if sub is None:
                entries.pop(name, None)
            else:
                entries[name] = f"040000 tree {sub}\t{name}"
        if not entries:
            return None
        return self._out("mktree", "-z", stdin="".join(f"{line}\0" for line in entries.values()).encode())

    def replace_paths(self, paths: list[str], files: dict[str, bytes], message: str, check=None) -> str | None:
        """Make ``paths`` hold exactly ``files`` (repo-relative) and commit them; None when unchanged.

        The one way n2a changes a repo (publish, delete, rollback): the paths must be clean
        first, ``check()`` may veto the new state, and on any failure they are put back as in HEAD.
        The journal names what is being written, so a run killed before its commit is undone by
        the next one (and only if nobody edited those files since).
        """
        import shutil

        with self.locked(what="publish"):
            self.check_ready()
            self.ensure_clean(paths)  # never throw away the user's uncommitted work
            start = self.head_sha()
            self._journal(
                {
                    "op": "write",
                    "head": start,
                    "paths": paths,
                    "blobs": sorted(set(self._blobs(start, paths).values()) | {blob_id(c) for c in files.values()}),
                }
            )
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
                sha = self.commit_paths(paths, message)
            except BaseException:
                self.restore_paths(paths)
                self._journal(None)
                raise
            self._journal(None)
            return sha

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
        git = gitpython()

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
        return {str(Path(b.path).relative_to(path)): b.data_stream.read() for b in tree.traverse() if b.type == "blob"}

    def changed_paths(self, since: str) -> list[str]:
        """Paths that differ between ``since`` and the working tree (committed or not)."""
        self.resolve(since)
        out = self.git.diff("--name-only", since, "--")
        untracked = self.git.ls_files("--others", "--exclude-standard")
        return sorted(set(out.splitlines()) | set(untracked.splitlines()))


def _subtree(line: str | None) -> str | None:
    """The tree id of an ls-tree line when it is a tree, else None."""
    if not line:
        return None
    mode_type_sha = line.split("\t", 1)[0].split()
    return mode_type_sha[2] if mode_type_sha[1] == "tree" else None
