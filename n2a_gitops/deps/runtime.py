"""Requirements learned from the app's own failure: `n2a publish --check` and `n2a preview`.

Libraries import some packages only when they run (plotly express needs numpy and pandas,
mesa networkx, ``bokeh.sampledata`` the ``bokeh_sampledata`` project) and no notebook names
them. Without a kernel that ran the notebook, n2a finds them the way a person would: it starts
the app, reads its error (``ModuleNotFoundError: No module named 'numpy'``, or the library's
own "... requires numpy to be installed" / "pip install numpy"), resolves each module through
the very resolution imports use (the kernel's environment, n2a's table, the index), adds the
project, locks again and starts again: at most ``MAX_ROUNDS`` times. Each added line says
"needed at run time, found by the check run", and the user is told what to write in the
notebook to keep it without the check.

While a round re-prepares the app, ``learning()`` holds what was learned so far, and
``requirements.resolve`` adds it (``requirements()`` below): the pipeline's prepare step takes
no new argument for it.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import re
from collections.abc import Iterable, Iterator

from n2a_gitops.model import Requirement

MAX_ROUNDS = 3  # learn, lock and start again at most this many times: each round costs a lock and a start
ORIGIN = "check-run"
FOUND_BY = "needed at run time, found by the check run"

_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z_][\w.]*)'")
# A library's own words in the exception that stopped the app: "Plotly Express requires numpy to
# be installed", "Pandas installation is required if no dataframe is provided" (plotly express
# raises NotImplementedError there), "Missing optional dependency 'Jinja2'", "pip install networkx".
_ASKS = (
    re.compile(r"\brequires (?:the )?[`'\"]?([A-Za-z_][\w.-]*)[`'\"]?(?: package| library)? to be installed"),
    re.compile(r"\b([A-Za-z_][\w.-]*) installation is required"),
    re.compile(r"Missing optional dependency [`'\"]([A-Za-z_][\w.-]*)[`'\"]"),
    re.compile(r"\bpip install (?:-U |--upgrade |-q )*[`'\"]?([A-Za-z_][\w.-]*)"),
)
_EXCEPTION_LINE = re.compile(r"^\s*(?:[\w.]+\.)?\w*(?:Error|Exception): .*$", re.M)
_ASK_LINES = 6  # how far below the exception's line a library's "install X" is looked for


@dataclasses.dataclass(frozen=True)
class Learned:
    module: str  # what the app could not import (or the name the library asked for)
    evidence: str  # the app's words: "ModuleNotFoundError: No module named 'numpy'"


# (what was learned, the requirements they resolved to in the last prepare)
_current: contextvars.ContextVar[tuple[tuple[Learned, ...], list]] = contextvars.ContextVar(
    "n2a_learned", default=((), [])
)


def current() -> tuple[Learned, ...]:
    return _current.get()[0]


@contextlib.contextmanager
def learning(items: Iterable[Learned]) -> Iterator[list[Requirement]]:
    """While preparing the app again: what the check run learned is added to its requirements.
    Yields the list of requirements the learned modules resolved to (filled by the prepare)."""
    added: list[Requirement] = []
    token = _current.set((tuple(items), added))
    try:
        yield added
    finally:
        _current.reset(token)


def missing(output: str) -> list[Learned]:
    """The modules the app's output says are missing, first seen first."""
    found: dict[str, Learned] = {}
    for match in _NO_MODULE.finditer(output):
        found.setdefault(match[1].split(".")[0], Learned(match[1], match[0]))
    for line in _EXCEPTION_LINE.finditer(output):
        window = "\n".join(output[line.start() :].splitlines()[:_ASK_LINES])
        for pattern in _ASKS:
            for match in pattern.finditer(window):
                name = match[1].rstrip(".")
                if name[:1].isupper() and name[1:].islower() or name[1:].isalnum() and name[1:].islower():
                    name = name.lower()  # prose capitalises: "Pandas", "Jinja2" (import names are lower case)
                found.setdefault(name.split(".")[0], Learned(name, " ".join(match[0].split())))
    return list(found.values())


def requirements(ctx, taken: set[str], warnings: list[str]) -> list[Requirement]:
    """What the learned modules resolve to, through the imports' own resolution."""
    from n2a_gitops.deps import inference

    out = _current.get()[1]
    out.clear()  # one prepare, one answer
    for item in current():
        sub = dataclasses.replace(ctx, where=lambda _line: "the check run", named=ctx.named | taken)
        code = f"import {item.module.replace('-', '_')}"
        for req in inference.from_imports(code, sub, warnings):
            how = req.source.split(": ", 1)[-1]  # "from the index, ..." / "installed in ..."
            out.append(Requirement(req.spec, f"{FOUND_BY} ({item.evidence}); {how}", ORIGIN))
            taken = taken | {inference.canonical(req.spec.partition("==")[0])}
    return list(out)


def keep_hint(reqs) -> str:
    """What to write in the notebook so that the app has them without a check run."""
    names = [r.spec.partition("==")[0] for r in reqs]
    return (
        f"to keep {'them' if len(names) > 1 else 'it'}, add `%pip install {' '.join(names)}` to a cell of the notebook"
    )


def learned_requirements(result) -> list[Requirement]:
    """The lines of a PublishResult that a check run added."""
    return [
        Requirement(s["spec"], s["source"], s["origin"])
        for s in (result.requirement_sources or [])
        if s.get("origin") == ORIGIN
    ]


def learn(output: str, known: list[Learned]) -> list[Learned]:
    """The missing modules in OUTPUT not already learned (same top-level name)."""
    seen = {k.module.split(".")[0] for k in known}
    return [m for m in missing(output) if m.module.split(".")[0] not in seen]
