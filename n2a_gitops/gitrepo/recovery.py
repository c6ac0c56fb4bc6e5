"""The clone's lock and the recovery journal.

Every change to a clone (publish, delete, rollback, init, push) holds the clone's lock
(lock.py), so two browser tabs, the magic and the button never interleave. Before writing,
a journal in the git directory says what is about to happen; a run killed half-way (SIGKILL
included) leaves it behind, and the next run puts the clone right from it (``_recover``).
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

from n2a_gitops.errors import N2AError
from n2a_gitops.gitrepo.runner import TEMP_INDEX, GitRunner, blob_id

DEFAULT_PUSH_TIMEOUT = 120.0  # also how long to wait for the lock
JOURNAL = "n2a-journal.json"  # in the git dir: what a write or a branch move is about to do


class RepoRecovery(GitRunner):
    """Holding the clone's lock, and putting right what a killed run left behind."""

    @contextmanager
    def locked(self, timeout: float | None = None, out=None, what: str = "publish"):
        """Hold the clone's lock (re-entrant within this object); put right what a killed run left."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield self
            finally:
                self._lock_depth -= 1
            return
        from n2a_gitops.gitrepo.lock import RepoLock

        with RepoLock(Path(self.repo.common_dir).resolve(), timeout or DEFAULT_PUSH_TIMEOUT, out, what):
            self._lock_depth = 1
            try:
                self._recover()
                yield self
            finally:
                self._lock_depth = 0

    def _journal(self, entry: dict | None) -> None:
        path = self.git_dir / JOURNAL
        if entry is None:
            if path.exists():
                path.unlink()
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **entry}))
        os.replace(tmp, path)  # a reader sees the old journal or the new one, never half of one

    def _unexpected(self, paths: list[str], allowed: set[str]) -> list[str]:
        """Files under ``paths`` whose index entry or working-tree content differs from HEAD and is
        none of ``allowed`` (the blobs an interrupted run was writing): someone edited them since."""
        head = self._blobs("HEAD" if self.head_sha() else None, paths)
        index = {}
        for item in filter(None, self._out("ls-files", "-s", "-z", "--", *paths).split("\0")):
            meta, path = item.split("\t", 1)
            index[path] = meta.split()[1]
        on_disk = set()
        for rel in paths:
            target = self.root / rel
            if target.is_file():
                on_disk.add(rel)
            elif target.is_dir():
                on_disk.update(p.relative_to(self.root).as_posix() for p in target.rglob("*") if p.is_file())
        odd = []
        for path in sorted(set(head) | set(index) | on_disk):
            ok = allowed | {head.get(path)}
            disk = blob_id((self.root / path).read_bytes()) if path in on_disk else None
            if (disk is not None and disk not in ok) or (index.get(path) is not None and index[path] not in ok):
                odd.append(path)
        return odd

    def _recover(self) -> None:
        """Put the clone right after a run that was killed (the lock is free, so its holder is gone).
        What was put right is in ``self.recovered``, for the caller to report."""
        self.recovered = []
        for stale in self.git_dir.glob(f"{TEMP_INDEX}*"):
            stale.unlink(missing_ok=True)
        path = self.git_dir / JOURNAL
        if not path.exists():
            return
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:  # killed while writing the journal itself: nothing was changed yet
            self._journal(None)
            return
        paths = entry.get("paths") or []
        who = f"an earlier n2a run (pid {entry.get('pid')}, {entry.get('time')})"
        if entry.get("op") == "move":
            ref, old, new = entry["ref"], entry["from"], entry["to"]
            status, current, _ = self._run("rev-parse", "-q", "--verify", ref)
            head_ref = self._run("symbolic-ref", "-q", "HEAD")[1]
            if status or current.strip() not in (old, new) or head_ref.strip() != ref:
                self._journal(None)  # the branch was moved or switched since: nothing of ours to finish
                return
            allowed = set(self._blobs(old, paths).values()) | set(self._blobs(new, paths).values())
            if current.strip() == old:
                self.git.update_ref("-m", "n2a: finish an interrupted update", ref, new, old)
            what = f"update of {ref} to {new[:12]} (after its push)"
        else:
            allowed = set(entry.get("blobs") or [])
            what = f"publish that was writing {', '.join(paths)}"
        odd = self._unexpected(paths, allowed) if paths else []
        if odd:
            shown = ", ".join(odd[:5]) + (" ..." if len(odd) > 5 else "")
            spec = " ".join(paths)
            raise N2AError(
                f"{who} was interrupted during a {what}, and these files changed since: {shown}",
                f"keep them: git -C {self.root} add -- {spec} && git -C {self.root} commit; or drop them: "
                f"git -C {self.root} checkout HEAD -- {spec} && git -C {self.root} clean -fd -- {spec}; then run n2a again",
            )
        head = self.head_sha() if paths else None
        if head:
            if self.dirty_paths(paths):
                self._run("reset", "-q", "HEAD", "--", *paths)
                self.restore_paths(paths)
                self.recovered.append(
                    f"{who} was interrupted during a {what}; {', '.join(paths)} put back as in HEAD ({head[:12]})"
                )
        self._journal(None)

    def dirty_paths(self, paths: list[str]) -> list[str]:
        out = self.git.status("--porcelain", "--untracked-files=all", "--", *paths)
        return [line[3:] for line in out.splitlines() if line.strip()]

    def restore_paths(self, paths: list[str]) -> None:
        """Put ``paths`` back as they are in HEAD (after a failed write)."""
        tracked = [p for p in paths if self.head_sha() and self.git.ls_tree("HEAD", "--", p)]
        if tracked:
            self.git.checkout("HEAD", "--", *tracked)
        existing = [p for p in paths if (self.root / p).exists()]
        if existing:
            self.git.clean("-fdq", "--", *existing)
