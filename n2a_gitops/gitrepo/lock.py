"""One writer at a time per GitOps clone, across processes (CLI, magic, server extension, hub).

An ``fcntl.flock`` on a file in the git directory. The kernel drops the lock when its holder
dies, even by SIGKILL, so a lock is never stale: the file left behind only names the last holder
(for the "waiting for ..." message). Separate opens conflict even inside one process, so threads
of one server are serialised too.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

from n2a_gitops.errors import BusyError

LOCK_FILE = "n2a.lock"


class RepoLock:
    def __init__(self, git_dir: Path, timeout: float, out=None, what: str = "publish"):
        self.path = Path(git_dir) / LOCK_FILE
        self.timeout = timeout
        self.out = out
        self.what = what
        self._fd: int | None = None

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def __enter__(self) -> RepoLock:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
            holder = self.holder()
            if time.monotonic() >= deadline:
                os.close(fd)
                who = f"pid {holder.get('pid', '?')}, {holder.get('what', 'publish')} since {holder.get('since', '?')}"
                raise BusyError(
                    f"another n2a run holds this clone ({who}) and did not finish within {self.timeout:g} s",
                    "wait for it to finish, then run the command again (or raise --push-timeout / N2A_PUSH_TIMEOUT)",
                )
            if not told and self.out:
                self.out.step(f"waiting for another n2a run in this clone (pid {holder.get('pid', '?')})")
                told = True
            time.sleep(random.uniform(0.02, 0.1))
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps({"pid": os.getpid(), "what": self.what, "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}).encode(),
            0,
        )
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        import fcntl

        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
