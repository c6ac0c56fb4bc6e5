"""Replaying unpushed commits onto the remote branch, with no working tree involved.

Each retry of a lost push replays the unpushed commits onto the fetched remote branch in a
temporary index (a 3-way ``read-tree``), and only after the push moves the local branch (a
2-way ``read-tree -m -u``, which keeps the user's staged and unstaged work, or refuses and
changes nothing). An app folder changes as a whole: when the remote changed an app that a
local commit also changed, the newer of the two (author date: when each was published) wins
the whole folder and the other is reported as superseded, never merged file by file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from n2a_gitops.errors import ConflictError
from n2a_gitops.gitrepo.recovery import RepoRecovery

SUPERSEDED_REFS = "refs/n2a/superseded"  # local commits another publish superseded: kept, never lost


@dataclass
class Replay:
    tip: str
    commits: dict[str, str | None] = field(default_factory=dict)
    superseded: list[dict] = field(default_factory=list)
    replaced: list[dict] = field(default_factory=list)


class RepoReplay(RepoRecovery):
    """Rebuild local commits on top of the remote's, and move the local branch after a push."""

    def _last_touch(self, rev_range: str, paths: list[str]) -> dict | None:
        line = self._out("log", "-1", "--format=%H%x1f%at%x1f%an%x1f%ae%x1f%aI%x1f%s", rev_range, "--", *paths)
        if not line:
            return None
        sha, at, author, email, date, subject = line.split("\x1f", 5)
        return {"sha": sha, "time": int(at), "author": author, "email": email, "date": date, "subject": subject}

    def _changed(self, a: str, b: str) -> set[str]:
        return set(filter(None, self._out("diff", "--name-only", "--no-renames", "-z", a, b).split("\0")))

    def _replay(self, local: str, upstream: str) -> Replay:
        """Rebuild the commits of ``local`` that ``upstream`` lacks on top of it, in a private index."""
        from n2a_gitops.layout import app_of, app_paths_any

        status, base, _ = self._run("merge-base", local, upstream)
        if status:
            raise ConflictError(
                f"the remote branch shares no history with {self.root}",
                "clone the GitOps repository again (git clone <url>) and publish from the new clone",
                {"commit": local},
            )
        base = base.strip()
        result = Replay(upstream)
        if base == local:
            return result  # nothing of ours is missing upstream
        if self._out("rev-list", "--merges", f"{base}..{local}"):
            raise ConflictError(
                f"{self.root} has unpushed merge commits; n2a only replays straight commits onto the remote",
                f"git -C {self.root} pull --rebase, then git -C {self.root} push",
                {"commit": local},
            )
        mine = self._out("rev-list", "--reverse", "--topo-order", f"{base}..{local}").split()
        todo = set(
            self._out("rev-list", "--right-only", "--cherry-pick", "--no-merges", f"{upstream}...{local}").split()
        )
        parent = upstream
        for commit in mine:
            if commit not in todo:  # the same change is upstream already (a push that got through before)
                result.commits[commit] = parent
                continue
            first = self._out("rev-parse", f"{commit}^")
            ours, theirs = self._changed(first, commit), self._changed(first, parent)
            when = int(self._out("log", "-1", "--format=%at", commit))
            forced, lost = {}, []
            for app in sorted({a for a in map(app_of, ours) if a}):
                if not any(app_of(t) == app for t in theirs):
                    continue
                paths = app_paths_any(app)
                if self._blobs(commit, paths) == self._blobs(parent, paths):
                    continue  # the remote already serves exactly this version of the app
                other = self._last_touch(f"{first}..{parent}", paths) or {"time": 0}
                if when > other["time"]:
                    forced[app] = commit  # ours is the newer publish: it replaces theirs, whole
                    if other.get("sha"):
                        result.replaced.append({"app": app, "commit": commit, "by": other})
                else:
                    lost.append((app, other))
            if lost:
                # Blobs are content-addressed (blobs/sha256/..): a set-aside commit's blobs are
                # its app's data, owned by no app and never rewritten, so they do not block it.
                if all(app_of(p) in {a for a, _ in lost} or p.startswith("blobs/") for p in ours):
                    app, other = lost[0]
                    result.commits[commit] = None
                    result.superseded.append(
                        {"commit": commit, "app": app, "by": other, "kept_as": f"{SUPERSEDED_REFS}/{commit}"}
                    )
                    continue
                raise ConflictError(
                    f"commit {commit[:12]} changes {', '.join(a for a, _ in lost)} (which a newer publish on the remote "
                    "replaced) together with other files, so it cannot be replayed as it is",
                    f"git -C {self.root} pull --rebase, resolve, then git -C {self.root} push",
                    {"commit": local},
                )
            tree = self._merge_trees(first, parent, commit, forced)
            if tree == self._out("rev-parse", f"{parent}^{{tree}}"):
                result.commits[commit] = parent  # nothing left to add: the remote has it all
                continue
            meta = self._out("log", "-1", "--format=%an%x00%ae%x00%ad%x00%B", "--date=raw", commit)
            name, email, date, message = meta.split("\0", 3)
            parent = self._out(
                "commit-tree",
                tree,
                "-p",
                parent,
                "-m",
                message.strip() or "n2a",
                env={"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date},
            )
            result.commits[commit] = parent
        result.tip = parent
        return result

    def _merge_trees(self, base: str, theirs: str, ours: str, forced: dict[str, str]) -> str:
        """3-way merge of trees in a private index; ``forced`` apps take that commit's version whole."""
        from n2a_gitops.layout import app_paths_any

        with self._temp_index() as env:
            status, _, err = self._run("read-tree", "-i", "-m", "--aggressive", base, theirs, ours, env=env)
            if status:
                raise ConflictError(
                    f"cannot replay {ours[:12]} onto the remote: {err.strip()}",
                    f"git -C {self.root} pull --rebase, resolve, then git -C {self.root} push",
                )
            for app, commit in forced.items():
                paths = app_paths_any(app)
                present = sorted(set(filter(None, self._out("ls-files", "-z", "--", *paths, env=env).split("\0"))))
                if present:
                    self._out("update-index", "--force-remove", "--", *present, env=env)
                entries = [f"{mode},{sha},{path}" for path, (mode, sha) in self._entries(commit, paths).items()]
                if entries:
                    self._out("update-index", "--add", *[a for e in entries for a in ("--cacheinfo", e)], env=env)
            unmerged = sorted(
                {
                    line.split("\t", 1)[1]
                    for line in filter(None, self._out("ls-files", "-u", "-z", env=env).split("\0"))
                }
            )
            if unmerged:
                raise ConflictError(
                    f"the remote changed the same files as your unpushed commit {ours[:12]}: {', '.join(unmerged[:5])}",
                    f"merge by hand: git -C {self.root} pull --rebase, resolve those files, git rebase --continue, "
                    f"then git -C {self.root} push",
                    {"commit": ours, "files": unmerged},
                )
            return self._out("write-tree", env=env)

    def _advance(self, branch: str, old: str, new: str, where: str) -> list[str]:
        """Move the local branch from ``old`` to ``new`` (what the remote now has), carrying the
        user's staged and unstaged work like `git checkout` does; refuse and change nothing when
        that work is in files the remote changed."""
        if old == new:
            return []
        ref = f"refs/heads/{branch}"
        paths = sorted(self._changed(old, new))
        self._journal({"op": "move", "ref": ref, "from": old, "to": new, "paths": paths})
        self._run("update-index", "-q", "--refresh")
        status, _, err = self._run("read-tree", "-m", "-u", old, new)
        if status:
            self._journal(None)
            blocked = [line.split("'")[1] for line in err.splitlines() if line.count("'") >= 2]
            shown = ", ".join(blocked[:5]) or err.strip()
            return [
                f"{where} is at {new[:12]}, but your clone's {branch} stays at {old[:12]}: you have uncommitted "
                f"changes in files the remote changed ({shown}). To catch up: git -C {self.root} stash && "
                f"git -C {self.root} pull --rebase && git -C {self.root} stash pop"
            ]
        self.git.update_ref("-m", f"n2a: follow {where}", ref, new, old)
        self._journal(None)
        return []
