"""The server extension's handler base: JSON replies, the Jupyter root, work off the event loop,
and the one lock that keeps publishes and My apps' changes (rollback, delete) one at a time.
handlers.py (plan, publish) and apps_api.py (My apps) both build on it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyter_server.base.handlers import APIHandler

from n2a_gitops.jupyter.locate import locate_repo
from n2a_gitops.jupyter.options import JSONReplies

# nbconvert, kustomize and git run in a worker thread so the server keeps answering; one at a
# time per server. The clone's own lock (gitrepo/lock.py) also keeps out the magic in a kernel and
# any other process publishing from the same clone.
publish_lock = asyncio.Lock()


class N2AHandler(JSONReplies, APIHandler):
    auth_resource = "n2a"

    @property
    def root(self) -> Path:
        return Path(self.settings["server_root_dir"]).expanduser().resolve()

    async def in_thread(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def locate(self, explicit: Path | None, notebook: Path | None):
        return locate_repo(explicit, notebook, self.root)
