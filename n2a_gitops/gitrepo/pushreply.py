"""What a git host's answer to a push (or fetch) means. Text only: no git is run here.

``git push --porcelain`` prints one status line per ref, ``!\\t<src>:<dst>\\t[rejected] (fetch first)``;
hosts explain themselves in ``remote:`` lines on stderr. Someone else pushing first shows up in
many forms, and all of them mean "fetch, rebase, try again":

- git itself: ``[rejected] (fetch first)``, ``(non-fast-forward)``, ``(stale info)``;
- a ref that moved between the host's check and its update (git, GitHub, Gitea, Bitbucket):
  ``[remote rejected] (cannot lock ref 'refs/heads/main': is at X but expected Y)``,
  ``(failed to update ref)``, ``(failed to lock)``, ``(reference already exists)``;
- Gitaly (GitLab) and Gitee: ``(incorrect old value provided)``.

A hook or a protected branch is different: the host read the push and said no, so retrying
cannot help (``(pre-receive hook declined)``, ``(protected branch hook declined)``, GitHub's
``GH006`` / ``GH013``, GitLab's and Gitea's "not allowed to push", Bitbucket's "can only be
modified through pull requests").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RACE = (
    "fetch first",
    "non-fast-forward",
    "stale info",
    "cannot lock ref",
    "failed to update ref",
    "failed to lock",
    "reference already exists",
    "incorrect old value",
    "but expected",
    "tip of your current branch is behind",
    "remote contains work that you do",
)
REFUSED = (
    "hook declined",
    "declined",
    "protected branch",
    "gh006",
    "gh013",
    "not allowed to push",
    "not allowed to force push",
    "can only be modified through pull requests",
    "rule violations",
    "push rejected",
    "denied",
)
PROTECTED = (
    "protected branch",
    "gh006",
    "gh013",
    "not allowed to push",
    "pull request",
    "merge request",
    "rule violations",
)
AUTH = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "permission denied",
    "permission to",
    "returned error: 401",
    "returned error: 403",
    "access denied",
    "invalid credentials",
    "terminal prompts disabled",
    "host key verification failed",
)
UNREACHABLE = (
    "could not resolve host",
    "could not resolve hostname",
    "connection refused",
    "connection timed out",
    "no route to host",
    "network is unreachable",
    "failed to connect",
    "does not appear to be a git repository",
    "repository not found",
    "could not read from remote repository",
    "operation timed out",
    "returned error: 404",
    "name or service not known",
    "temporary failure in name resolution",
)
TRANSIENT = (
    "the remote end hung up unexpectedly",
    "early eof",
    "rpc failed",
    "returned error: 500",
    "returned error: 502",
    "returned error: 503",
    "returned error: 504",
    "internal server error",
    "unexpected disconnect",
    "connection reset",
    "gnutls recv error",
    "ssl_read",
)


@dataclass
class PushAnswer:
    kind: str  # "ok", "race", "refused", "auth", "unreachable", "transient", "other"
    reason: str = ""  # the ref's reason, or the line of stderr that decided
    remote: list[str] = field(default_factory=list)  # the host's own words ("remote: ..." lines)
    protected: bool = False  # a protected branch (push to another branch and ask for a merge)

    def server_says(self) -> str:
        lines = [
            r
            for r in self.remote
            if r and not re.match(r"(Resolving|Counting|Compressing|Writing|Total|Enumerating|Delta)", r)
        ]
        return "; ".join(lines[-6:])


def _has(text: str, needles) -> bool:
    low = text.lower()
    return any(n in low for n in needles)


def classify(status: int, stdout: str, stderr: str) -> PushAnswer:
    stdout, stderr = stdout or "", stderr or ""
    remote = [line[len("remote:") :].strip() for line in stderr.splitlines() if line.startswith("remote:")]
    if status == 0:
        return PushAnswer("ok", remote=remote)
    refs = [line.split("\t") for line in stdout.splitlines() if line.startswith("!")]
    if refs:
        summary = refs[0][2] if len(refs[0]) > 2 else refs[0][-1]
        match = re.search(r"\((.*)\)\s*$", summary)
        reason = match.group(1) if match else summary
        said = " ".join(remote)
        if summary.startswith("[rejected]") and _has(reason, RACE):
            return PushAnswer("race", reason, remote)
        if summary.startswith("[remote failure]") or _has(reason, TRANSIENT):  # the host failed, not refused
            return PushAnswer("transient", reason, remote)
        # A host's "cannot lock ref ..." on stderr beside a plain "failed to update ref" is a race;
        # a hook's or a protected branch's words are not, whatever else is said.
        if _has(reason, REFUSED) or _has(said, ("gh006", "gh013", "protected branch", "not allowed to push")):
            return PushAnswer("refused", reason, remote, _has(reason + " " + said, PROTECTED))
        if _has(reason, RACE) or _has(said, RACE):
            return PushAnswer("race", reason, remote)
        return PushAnswer("refused", reason, remote, _has(reason + " " + said, PROTECTED))
    errors = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("remote:")]
    text = "\n".join(errors)
    for kind, needles in (("auth", AUTH), ("unreachable", UNREACHABLE), ("transient", TRANSIENT)):
        if _has(text, needles):
            line = next((e for e in errors if _has(e, needles)), text)
            return PushAnswer(kind, line.removeprefix("fatal: ").removeprefix("error: "), remote)
    if _has(text, RACE):  # e.g. "Updates were rejected because the tip ... is behind" without --porcelain
        return PushAnswer("race", text, remote)
    return PushAnswer("other", text or f"git exited with status {status}", remote)
