"""The only module that touches git (through GitPython).

Commits are made through a temporary index: the commit holds HEAD plus exactly the given paths
as they are in the working tree, so whatever else the user has staged, modified or left
untracked stays exactly as it was.

Every change to a clone (publish, delete, rollback, init, push) holds the clone's lock
(repolock.py), so two browser tabs, the magic and the button never interleave. Before writing,
a journal in the git directory says what is about to happen; a run killed half-way (SIGKILL
included) leaves it behind, and the next run puts the clone right from it (``_recover``).

Pushing when others push too (``push``): a push that loses the race (pushreply.py lists the
forms) is retried with jittered exponential backoff within a time budget. Each retry fetches and
replays the unpushed commits onto the remote branch without touching the working tree (a 3-way
``read-tree`` in a temporary index), pushes the result, and only then moves the local branch
(a 2-way ``read-tree -m -u``, which keeps the user's staged and unstaged work, or refuses and
changes nothing). An app folder changes as a whole: when the remote changed an app that a
local commit also changed, the newer of the two (author date: when each was published) wins
the whole folder and the other is reported as superseded, never merged file by file.
"""

from __future__ import annotations

import json
import os
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from n2a_gitops.errors import (
    BusyError,
    ConflictError,
    N2AError,
    NotFoundError,
    PushRefusedError,
    SupersededError,
    UnreachableError,
    UsageError,
)

# Never let git wait for a password on a terminal nobody watches (JupyterLab, CI).
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0"}
DEFAULT_PUSH_TIMEOUT = 120.0
JOURNAL = "n2a-journal.json"  # in the git dir: what a write or a branch move is about to do
TEMP_INDEX = "n2a-index-"  # temporary index files, in the git dir so that a killed run's are found
SUPERSEDED_REFS = "refs/n2a/superseded"  # local commits another publish superseded: kept, never lost
MAX_TRANSIENT = 4  # network hiccups (HTTP 5xx, hang-ups) retried at most this often


def blob_id(content: bytes) -> str:
    """The id git gives a blob with this content (no filters), without running git."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _git_error(action: str, exc) -> N2AError:
    detail = (getattr(exc, "stderr", "") or str(exc)).strip()
    fix = "see the git message above"
    if "Please tell me who you are" in detail or "empty ident" in detail:
        fix = 'set your identity: git config --global user.name "Your Name" && git config --global user.email you@example.com'
    elif "Authentication failed" in detail or "could not read Username" in detail or "403" in detail:
        fix = "configure git credentials for the remote (a credential helper or a token), then push again"
    return N2AError(f"git {action} failed: {detail}", fix)


@dataclass
class PushOutcome:
    """What a push did: the remote's head (what Argo CD syncs) and where each local commit went."""

    head: str  # the remote branch's commit after the push
    remote: str  # "origin/main"
    attempts: int  # pushes tried (1: no race lost)
    commits: dict[str, str | None] = field(default_factory=dict)  # local sha -> sha on the remote (None: superseded)
    superseded: list[dict] = field(default_factory=list)  # {"commit", "app", "by", "kept_as"}
    replaced: list[dict] = field(
        default_factory=list
    )  # {"app", "commit", "by"}: older same-app publishes ours replaced
    warnings: list[str] = field(default_factory=list)

    def live(self, sha: str | None) -> str | None:
        """The remote commit that carries local commit ``sha`` (itself when it was not replayed)."""
        return self.commits.get(sha, sha) if sha else None


@dataclass
class _Replay:
    tip: str
    commits: dict[str, str | None] = field(default_factory=dict)
    superseded: list[dict] = field(default_factory=list)
    replaced: list[dict] = field(default_factory=list)


class _Transient(Exception):
    """A network hiccup during fetch: retried like a lost race, a few times."""


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
        self.git_dir = Path(self.repo.git_dir)
        self._lock_depth = 0
        self.recovered: list[str] = []  # what taking the lock put right after an interrupted run

    # -- plumbing ----------------------------------------------------------------------------
    def _run(self, *args: str, env: dict | None = None) -> tuple[int, str, str]:
        """git ARGS without raising: (status, stdout, stderr), in the C locale (GitPython sets it)."""
        status, out, err = self.git.execute(
            [self.git.GIT_PYTHON_GIT_EXECUTABLE, *args],
            with_extended_output=True,
            with_exceptions=False,
            env={**_GIT_ENV, **(env or {})},
            strip_newline_in_stdout=False,
        )
        return status, out, err

    def _out(self, *args: str, env: dict | None = None) -> str:
        import git

        status, out, err = self._run(*args, env=env)
        if status:
            raise git.GitCommandError(["git", *args], status, err, out)
        return out.strip()

    @contextmanager
    def _temp_index(self):
        """A private index file in the git dir (a killed run's leftovers are found by ``_recover``)."""
        path = self.git_dir / f"{TEMP_INDEX}{os.getpid()}-{random.getrandbits(32):08x}"
        try:
            yield {**_GIT_ENV, "GIT_INDEX_FILE": str(path)}
        finally:
            if path.exists():
                path.unlink()

    # -- the clone's lock and recovery ---------------------------------------------------------
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
        if paths and self.head_sha():
            if self.dirty_paths(paths):
                self._run("reset", "-q", "HEAD", "--", *paths)
                self.restore_paths(paths)
                self.recovered.append(
                    f"{who} was interrupted during a {what}; {', '.join(paths)} put back as in "
                    f"HEAD ({self.head_sha()[:12]})"
                )
        self._journal(None)

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

        with self.locked(what="commit"):
            self.check_ready()
            branch, head = self.branch, self.head_sha()
            paths = self._existing(paths)
            with self._temp_index() as env:
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
            # The real index follows HEAD for our paths only; everything else stays as it was.
            if paths:
                self.git.reset("-q", "--", *paths)
            return sha

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
        return {str(Path(b.path).relative_to(path)): b.data_stream.read() for b in tree.traverse() if b.type == "blob"}

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

    def push(self, out=None, timeout: float | None = None, app: str | None = None) -> PushOutcome:
        """Push the current branch; while other publishers win the race, fetch, replay and retry.

        ``timeout`` bounds the retrying (default 120 s). ``app`` is the app this run published:
        when a newer publish of it from elsewhere superseded a local commit of it, SupersededError
        says by what (the commit is kept under refs/n2a/superseded/). The local branch follows
        the remote at the end.
        """
        from n2a_gitops.gitrepo.pushreply import classify

        budget = timeout or DEFAULT_PUSH_TIMEOUT
        with self.locked(budget, out, "push"):
            self.check_ready()
            branch = self.branch
            remote, remote_branch = self._remote()
            where = f"{remote}/{remote_branch}"
            local = self.head_sha()
            if not local:
                raise UsageError(f"{self.root} has no commit to push", "publish something first")
            deadline = time.monotonic() + budget
            replay, upstream, attempts, transient, why = _Replay(local), None, 0, 0, ""
            while replay.tip != upstream:  # else everything of ours is upstream already (or superseded)
                attempts += 1
                if out:
                    out.step(f"pushing {branch} to {where}" + (f" (attempt {attempts})" if attempts > 1 else ""))
                status, stdout, stderr = self._run(
                    "push", "--porcelain", remote, f"{replay.tip}:refs/heads/{remote_branch}"
                )
                answer = classify(status, stdout, stderr)
                if answer.kind == "ok":
                    break
                if answer.kind == "transient" and transient < MAX_TRANSIENT:
                    transient += 1
                elif answer.kind != "race":
                    raise self._push_failed(answer, remote, remote_branch, local)
                why = answer.reason
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BusyError(
                        f"{where} kept moving: {attempts} pushes lost the race to other publishers within {budget:g} s "
                        f"(last answer: {why})",
                        f"your commit {local[:12]} is kept in {self.root}; publish again with --push, or allow "
                        "longer with --push-timeout SECONDS (or N2A_PUSH_TIMEOUT)",
                        {"commit": local, "remote": where, "attempts": attempts},
                    )
                delay = min(left, random.uniform(0.05, min(5.0, 0.2 * 2 ** (attempts - 1))))  # full jitter
                if out:
                    out.step(f"{where} moved ({why}); fetching and replaying in {delay:.1f} s")
                time.sleep(delay)
                try:
                    fetched = self._fetch(remote, remote_branch)
                except _Transient:
                    continue
                if fetched is not None:
                    upstream = fetched
                    replay = self._replay(local, upstream)
            outcome = PushOutcome(replay.tip, where, attempts, replay.commits, replay.superseded, replay.replaced)
            for item in replay.superseded:
                self.git.update_ref(item["kept_as"], item["commit"])
            outcome.warnings += self._advance(branch, local, replay.tip, where)
        mine = next((s for s in reversed(outcome.superseded) if s["app"] == app), None)
        if mine:
            raise self._superseded(mine, outcome)
        return outcome

    def _fetch(self, remote: str, remote_branch: str) -> str | None:
        from n2a_gitops.gitrepo.pushreply import classify

        ref = f"refs/remotes/{remote}/{remote_branch}"
        status, stdout, stderr = self._run(
            "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{remote_branch}:{ref}"
        )
        if status:
            if "couldn't find remote ref" in stderr:
                return None  # the branch does not exist yet: just push again
            answer = classify(status, "", stderr)
            if answer.kind == "transient":
                raise _Transient(answer.reason)
            raise self._push_failed(answer, remote, remote_branch, self.head_sha(), action="fetch from")
        return self._out("rev-parse", ref)

    def _push_failed(self, answer, remote: str, remote_branch: str, local: str, action: str = "push to") -> N2AError:
        branch = self.branch
        kept = f"your commit {local[:12]} is kept in {self.root}"
        push_cmd = f"git -C {self.root} push {remote} {branch}:{remote_branch}"
        details = {"commit": local, "remote": f"{remote}/{remote_branch}"}
        said = answer.server_says()
        if answer.kind == "refused":
            details["server"] = said
            message = f"{remote} refused the push to {remote_branch} ({answer.reason})" + (
                f"; the server says: {said}" if said else ""
            )
            if answer.protected:
                return PushRefusedError(
                    message,
                    f"{remote_branch} takes changes only through a merge request; {kept}. Push it to a "
                    f"branch of its own and open one: git -C {self.root} push {remote} "
                    f"HEAD:refs/heads/n2a/publish-{local[:12]}",
                    details,
                )
            return PushRefusedError(
                message,
                f"{kept}. Do what the server asks above, then push it: {push_cmd} (or publish again with --push)",
                details,
            )
        url = self._run("remote", "get-url", remote)[1].strip()
        if answer.kind == "auth":
            return PushRefusedError(
                f"{remote} ({url}) refused git's credentials: {answer.reason}",
                f"{kept}. Give git credentials for {url} (a credential helper or a token), then push it: {push_cmd}",
                details,
            )
        if answer.kind in ("unreachable", "transient"):
            return UnreachableError(
                f"cannot reach the git remote {remote} ({url}): {answer.reason}",
                f"{kept}. Check the URL (git -C {self.root} remote -v) and the network; when the "
                f"remote answers, push it: {push_cmd} (or publish again with --push)",
                details,
            )
        return N2AError(
            f"git could not {action} {remote} ({url}): {answer.reason}",
            f"{kept}; when the cause is fixed, push it: {push_cmd}",
            details,
        )

    def _superseded(self, item: dict, outcome: PushOutcome) -> SupersededError:
        by = item["by"]
        app, sha = item["app"], item["commit"]
        return SupersededError(
            f"{app} was published at the same time from elsewhere: your version ({sha[:12]}) was superseded by "
            f"{by['sha'][:12]} from {by['author']} ({by['date']}), published no earlier than yours; {outcome.remote} is at "
            f"{outcome.head[:12]} and serves their version",
            f"nothing is lost: your version is kept as {item['kept_as']}. To make it live instead: "
            f"n2a rollback {app} {sha[:12]} --push",
            {
                "app": app,
                "commit": sha,
                "kept_as": item["kept_as"],
                "superseded_by": by,
                "revision": outcome.head,
                "pushed": False,
                "attempts": outcome.attempts,
            },
        )

    # -- replaying unpushed commits onto the remote branch (no working tree involved) ---------------
    def _last_touch(self, rev_range: str, paths: list[str]) -> dict | None:
        line = self._out("log", "-1", "--format=%H%x1f%at%x1f%an%x1f%ae%x1f%aI%x1f%s", rev_range, "--", *paths)
        if not line:
            return None
        sha, at, author, email, date, subject = line.split("\x1f", 5)
        return {"sha": sha, "time": int(at), "author": author, "email": email, "date": date, "subject": subject}

    def _changed(self, a: str, b: str) -> set[str]:
        return set(filter(None, self._out("diff", "--name-only", "--no-renames", "-z", a, b).split("\0")))

    def _replay(self, local: str, upstream: str) -> _Replay:
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
        result = _Replay(upstream)
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
                if all(app_of(p) in {a for a, _ in lost} for p in ours):
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


def changed_since(root: Path, since: str) -> list[str]:
    """``GitOpsRepo(root).changed_paths(since)``, asked of the git binary directly: a pre-push
    hook or CI job that checks one app should not pay GitPython's import (0.1 s). Anything
    unusual (not the top of a work tree, an unknown revision) goes the GitPython way, so the
    errors stay word for word what they are."""
    import subprocess

    def start(*args: str) -> subprocess.Popen:
        return subprocess.Popen(
            ["git", *args],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **_GIT_ENV},
        )

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
        reader = (
            git.Repo(path).config_reader()
            if path
            else git.GitConfigParser([os.path.expanduser("~/.gitconfig")], read_only=True)
        )
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
