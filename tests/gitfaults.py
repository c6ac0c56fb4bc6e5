"""Fault injection for the git tests: real bare remotes with pre-receive hooks that refuse, move
the branch or hold pushes at a barrier, a git that stalls at a named step so a test can SIGKILL
n2a right there, and n2a run as a real process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import GRADIO_CELLS, git, write_notebook

REAL_GIT = shutil.which("git")


def n2a(*args, env=None, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "n2a_gitops", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def start_n2a(*args, env=None) -> subprocess.Popen:
    """n2a in a process group of its own, so that a test can kill it and the git it runs."""
    return subprocess.Popen(
        [sys.executable, "-m", "n2a_gitops", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def notebook(folder: Path, title: str = "Greeter", extra_cells=()) -> Path:
    """The gradio greeter with its own title (so two versions differ), plus EXTRA_CELLS."""
    cells = GRADIO_CELLS[:-1] + [f"demo.title = {title!r}", *extra_cells, GRADIO_CELLS[-1]]
    return write_notebook(folder / "greeter.ipynb", cells)


def clone(bare: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", str(bare), str(dest))
    return dest


def commit_file(repo: Path, rel: str, text: str, message: str, push: bool = False) -> str:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", rel)
    git(repo, "commit", "-qm", message)
    if push:
        git(repo, "push", "-q", "origin", "HEAD:main")
    return git(repo, "rev-parse", "HEAD").strip()


# The hook runs inside the remote's receive-pack: a git it starts must not inherit the push's
# quarantine and GIT_DIR, or it would write into the push being received.
_CLEAN = "env -u GIT_DIR -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES"


def install_hook(bare: Path, body: str) -> Path:
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\n" + body)
    hook.chmod(0o755)
    return hook


def hook_moving_the_branch(bare: Path, mover: Path, times: int | None) -> Path:
    """Each push (the first TIMES, or every one) finds the branch moved under it: while the hook
    runs, another clone pushes a commit, so the host's ref update fails with `cannot lock ref`."""
    count = bare / "moves"
    count.write_text("")
    limit = f'[ "$(wc -c < {count})" -lt {times} ] || exit 0' if times is not None else ""
    return install_hook(
        bare,
        f"""
[ -n "$N2A_TEST_MOVER" ] && exit 0   # the mover's own push goes straight through
{limit}
printf x >> {count}
n=$(wc -c < {count})
cd {mover} && {_CLEAN} sh -c 'git pull -q --rebase origin main; mkdir -p docs && echo "move '$n'" > docs/moves.md && git add docs/moves.md && \
  git commit -qm "move '$n'" && N2A_TEST_MOVER=1 git push -q origin HEAD:main' >&2
exit 0
""",
    )


def hook_barrier(bare: Path, parties: int, timeout: int = 240) -> Path:
    """Hold the first PARTIES pushes until all of them have arrived, then let them go at once:
    they race for the branch, one wins and the others lose (`cannot lock ref`)."""
    arrivals = bare / "arrivals"
    arrivals.mkdir(exist_ok=True)
    return install_hook(
        bare,
        f"""
mine=$(mktemp -p {arrivals})
n=$(ls {arrivals} | wc -l)
[ "$n" -gt {parties} ] && exit 0
i=0
while [ "$(ls {arrivals} | wc -l)" -lt {parties} ] && [ $i -lt {timeout * 10} ]; do sleep 0.1; i=$((i+1)); done
exit 0
""",
    )


def stalling_git(folder: Path) -> Path:
    """A git that stops (sleeps) at the step named by N2A_TEST_STALL and touches N2A_TEST_MARK:
    ``write-tree`` only when n2a writes its temporary index (files written, nothing committed),
    ``read-tree`` only with ``-u`` (pushed, the clone not yet moved)."""
    script = folder / "git"
    script.write_text(f"""#!/bin/sh
stall=no
case "$N2A_TEST_STALL:$1" in
  write-tree:write-tree) case "$GIT_INDEX_FILE" in *n2a-index-*) stall=yes;; esac;;
  read-tree:read-tree) case " $* " in *" -u "*) stall=yes;; esac;;
esac
if [ $stall = yes ]; then touch "$N2A_TEST_MARK"; sleep 600; fi
exec {REAL_GIT} "$@"
""")
    script.chmod(0o755)
    return script


def kill_when_stalled(proc: subprocess.Popen, mark: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not mark.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"n2a ended (exit {proc.returncode}) before the stall point:\n{err}")
        assert time.monotonic() < deadline, "n2a never reached the stall point"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def user_state(repo: Path, paths: list[str]) -> dict:
    """Index entries, bytes on disk and status of PATHS: the user's work n2a must not touch."""
    return {
        "index": git(repo, "ls-files", "-s", "--", *paths),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all", "--", *paths),
        "files": {p: (repo / p).read_bytes() if (repo / p).exists() else None for p in paths},
    }


def make_user_work(repo: Path) -> list[str]:
    """Staged, partly staged, unstaged, deleted and untracked work outside apps/: what a user
    has lying around in a clone. Returns the paths."""
    commit_file(repo, "notes/todo.md", "one\n", "notes", push=True)
    commit_file(repo, "notes/old.md", "old\n", "old notes", push=True)
    (repo / "notes/todo.md").write_text("one\ntwo (staged)\n")
    git(repo, "add", "notes/todo.md")
    (repo / "notes/todo.md").write_text("one\ntwo (staged)\nthree (not staged)\n")
    (repo / "notes/new.md").write_text("new and staged\n")
    git(repo, "add", "notes/new.md")
    (repo / "notes/old.md").unlink()
    (repo / "notes/scratch.txt").write_text("untracked\n")
    return ["notes/todo.md", "notes/new.md", "notes/old.md", "notes/scratch.txt"]
