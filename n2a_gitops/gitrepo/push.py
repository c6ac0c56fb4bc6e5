"""Pushing when others push too.

A push that loses the race (pushreply.py lists the forms) is retried with jittered exponential
backoff within a time budget. Each retry fetches and replays the unpushed commits onto the
remote branch (replay.py), pushes the result, and only then moves the local branch.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from n2a_gitops.errors import (
    BusyError,
    N2AError,
    PushRefusedError,
    SupersededError,
    UnreachableError,
    UsageError,
)
from n2a_gitops.gitrepo.recovery import DEFAULT_PUSH_TIMEOUT
from n2a_gitops.gitrepo.replay import Replay, RepoReplay

MAX_TRANSIENT = 4  # network hiccups (HTTP 5xx, hang-ups) retried at most this often


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


class _Transient(Exception):
    """A network hiccup during fetch: retried like a lost race, a few times."""


class RepoPush(RepoReplay):
    """Push the current branch; fetch, replay and retry while other publishers win the race."""

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
            replay, upstream, attempts, transient, why = Replay(local), None, 0, 0, ""
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
            head = self.head_sha()
            assert head is not None, "push() refuses a branch without a commit before it ever fetches"
            raise self._push_failed(answer, remote, remote_branch, head, action="fetch from")
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
