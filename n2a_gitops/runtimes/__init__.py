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

from n2a_gitops.errors import PolicyError, UsageError
from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec


class Runtime(Protocol):
    name: str  # the --framework value
    title: str  # human name, e.g. "Gradio"

    def detect(self, code: str, tree: ast.Module) -> Detection | None: ...

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec: ...


from n2a_gitops.runtimes import source  # noqa: E402  (after Runtime: the runtime modules only need base)
from n2a_gitops.runtimes.bokeh import Bokeh  # noqa: E402
from n2a_gitops.runtimes.dash import Dash  # noqa: E402
from n2a_gitops.runtimes.fastapi import FastAPI  # noqa: E402
from n2a_gitops.runtimes.flask import Flask  # noqa: E402
from n2a_gitops.runtimes.gradio import Gradio  # noqa: E402
from n2a_gitops.runtimes.panel import Panel  # noqa: E402
from n2a_gitops.runtimes.python import Python  # noqa: E402
from n2a_gitops.runtimes.shiny import Shiny  # noqa: E402
from n2a_gitops.runtimes.solara import Solara  # noqa: E402
from n2a_gitops.runtimes.streamlit import Streamlit  # noqa: E402
from n2a_gitops.runtimes.voila import Voila  # noqa: E402

# The order in which frameworks are listed and examined. Voila comes last but one: it is
# never detected by itself, only the fallback for notebooks without a server of their own.
REGISTRY = [Gradio(), Streamlit(), Dash(), Panel(), Bokeh(), Shiny(), Solara(), Flask(), FastAPI(), Voila(), Python()]
FALLBACK = "voila"


def names() -> list[str]:
    return [rt.name for rt in REGISTRY]


def get(name: str):
    for rt in REGISTRY:
        if rt.name == name:
            return rt
    raise UsageError(
        f"unknown framework {name!r}",
        f"pass --framework with one of: {', '.join(names())}",
    )


def _check_allowed(rt, allowed: list[str]) -> None:
    if rt.name not in allowed:
        raise PolicyError(
            f"framework {rt.name!r} is not allowed by this GitOps repo's n2a.yaml "
            f"(allowed: {', '.join(allowed) or 'none'})",
            f"use one of the allowed frameworks, or ask the platform admin to add {rt.name!r} "
            "to `frameworks` in n2a.yaml",
        )


def _cell_locator(code: str, cells=None):
    """Evidence says "line N" of app.py: name the notebook's cell too (CELLS: the map conversion
    made; else read from the script's markers)."""
    import re

    from n2a_gitops.notebook.cellmap import CellMap

    cells = cells or CellMap.from_script(code)

    def where(match):
        line = int(match.group(1))
        found = cells.locate(line)
        return f"({cells.label(*found)}, app.py line {line}" if found else match.group(0)

    def locate(detection: Detection) -> Detection:
        detection.evidence = [re.sub(r"\(line (\d+)", where, e) for e in detection.evidence]
        return detection

    return locate


def choose(code: str, framework: str | None = None, allowed: list[str] | None = None, cellmap=None):
    """Pick the runtime for CODE (the converted script; CELLMAP: where its lines came from).
    Returns (runtime, detection)."""
    rt, detection = _choose(code, framework, allowed)
    return rt, _cell_locator(code, cellmap)(detection)


def _choose(code, framework, allowed):
    allowed = list(allowed) if allowed is not None else names()
    facts = source.read(code)
    if framework:
        rt = get(framework)
        _check_allowed(rt, allowed)
        found = rt.examine(facts)
        if isinstance(found, Detection):
            found.evidence.insert(0, f"chosen with --framework {rt.name}")
            return rt, found
        return rt, Detection(rt.name, [f"chosen with --framework {rt.name}", f"not detected: {found}"], strong=False)

    results = {rt.name: rt.examine(facts) for rt in REGISTRY if rt.name != FALLBACK}
    matches = [d for d in results.values() if isinstance(d, Detection)]
    pool = [d for d in matches if d.strong] or matches
    # A framework built on another wins over it (Panel over Bokeh, Dash over Flask).
    found = {d.framework for d in pool}
    pool = [d for d in pool if not any(d.framework in get(o).subsumes for o in found - {d.framework})]

    if len(pool) > 1:
        flags = " or ".join(f"--framework {d.framework}" for d in pool)
        why = "; ".join(f"{d.framework}: {', '.join(d.evidence)}" for d in pool)
        raise UsageError(
            f"this notebook matches several frameworks ({', '.join(d.framework for d in pool)}): {why}",
            f"say which one serves the app: pass {flags}",
        )
    if pool:
        rt = get(pool[0].framework)
        _check_allowed(rt, allowed)
        return rt, pool[0]

    reasons = [f"{name}: {why}" for name, why in results.items()]
    unrecognised = get("python").serves_unrecognised(facts)
    if not unrecognised:
        voila = get(FALLBACK)
        _check_allowed(voila, allowed)
        return voila, voila.fallback([])
    raise UsageError(
        "could not tell which framework serves this notebook: it seems to serve on its own ("
        + ", ".join(unrecognised)
        + ") but no runtime recognises how. Considered: "
        + "; ".join(reasons),
        "serve it with one of the supported frameworks, or make it listen on 0.0.0.0:$PORT "
        "(e.g. http.server) and pass --framework python; supported: " + ", ".join(names()),
    )


__all__ = ["REGISTRY", "Runtime", "choose", "get", "names"]
