"""Framework runtimes: one module per framework behind a common interface.

A runtime answers two questions:

* ``detect(code, tree)``: does this converted notebook use me? Returns a ``Detection`` with the
  evidence (imports, the app object and its name, launch calls), or None.
* ``launch(detection, port)``: how does a container serve it? Returns a ``LaunchSpec``
  (command, packages to serve, env, probe, startup allowance, launcher files).

``REGISTRY`` is ordered; ``choose()`` decides, and stops with the exact ``--framework`` flag
to pass when two runtimes match. Adding a framework = one module here + one line in REGISTRY.
"""

from __future__ import annotations

import ast
from typing import Protocol

from ..model import Detection, LaunchSpec


class Runtime(Protocol):
    name: str  # the --framework value
    title: str  # human name, e.g. "Gradio"

    def detect(self, code: str, tree: ast.Module) -> Detection | None: ...

    def launch(self, detection: Detection, port: int) -> LaunchSpec: ...
