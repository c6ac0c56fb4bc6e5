"""The environment the notebook ran in: found while nbconvert converts it.

``start()`` runs ``find()`` in a thread as the pipeline's first step. Its slow parts are
subprocesses (the interpreter probe, a fresh kernel for the baseline), so they overlap the
conversion instead of adding to it; both are cached per interpreter, so a second publish only
stats a few folders.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from n2a_gitops.kernel import interpreter as kernels

if TYPE_CHECKING:
    from n2a_gitops.kernel.installed import Environment

SKIPPED = (
    "no running kernel has executed this notebook, so packages that its libraries import only at "
    "run time (and declare nowhere) were not looked for"
)
SKIPPED_FIX = (
    "fix: run the notebook, then publish from JupyterLab (Publish as app) or with %n2a publish, "
    "or name such packages with %pip install"
)


@dataclass
class NotebookEnv:
    interpreter: kernels.Interpreter
    environment: Environment
    loaded: list[str] = field(default_factory=list)  # modules loaded at run time (empty when not checked)
    run_time: dict = field(default_factory=dict)  # {"checked": bool, "detail": str, "modules": [...]}
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How requirement sources name it: "the kernel", or "n2a's environment" for the fallback."""
        return "n2a's environment" if self.interpreter.source == "n2a" else "the kernel"

    def describe(self) -> dict:
        """PublishResult.environment: which Python the imports were resolved in, and why."""
        i, env = self.interpreter, self.environment
        text = f"{i.label}: {env.python} (Python {env.version})"
        if i.fallback:
            text += f", because {i.fallback}"
        return {
            "source": i.source,
            "kernelspec": i.kernelspec,
            "python": env.python,
            "python_version": env.version,
            "description": text,
        }


def find(notebook: Path, running=None) -> NotebookEnv:
    """Which Python the notebook's imports resolve in, what it has, and what the kernel loaded."""
    from n2a_gitops.kernel import installed as environments

    warnings: list[str] = []
    state, why_not = None, SKIPPED
    if running is not None:
        try:
            state = running.state()
        except kernels.KernelUnavailable as exc:
            why_not = f"the notebook's running kernel could not be asked ({exc.message})"
    if state is not None:
        spec = kernels.from_kernelspec(state.spec) if state.spec else None
        spec_env = spec.env if spec and spec.python == state.python else {}  # e.g. a PYTHONPATH it sets
        interpreter = kernels.Interpreter(
            state.python, "running-kernel", state.label, env=spec_env, kernelspec=state.spec
        )
    else:
        interpreter = kernels.from_kernelspec(kernels.kernelspec_name(notebook))
    try:
        env = environments.inspect(interpreter.python, interpreter.env)
    except environments.ProbeError as exc:
        interpreter = kernels.own(
            f"{interpreter.label} could not be asked: {exc.message}", warn=True, name=interpreter.kernelspec
        )
        env = environments.inspect(sys.executable)
        state, why_not = None, exc.message
    if interpreter.fallback_is_warning:
        warnings.append(
            f"the imports were resolved in n2a's own environment ({env.python}) because "
            f"{interpreter.fallback}, so their versions may not be the notebook's; fix: install the "
            "notebook's kernel here (jupyter kernelspec list) or publish from JupyterLab"
        )
    found = NotebookEnv(interpreter, env, warnings=warnings)
    if state is None:
        found.run_time = {"checked": False, "detail": why_not, "modules": []}
        warnings.append(f"{why_not}; {SKIPPED_FIX}")
        return found
    try:
        fresh = kernels.baseline(env, interpreter.env)
    except kernels.KernelUnavailable as exc:
        detail = f"a fresh kernel to compare with could not be started ({exc.message})"
        found.run_time = {"checked": False, "detail": detail, "modules": []}
        warnings.append(f"{detail}; packages loaded only at run time were not looked for; fix: {exc.fix}")
        return found
    found.loaded = kernels.loaded_at_run_time(state, env, fresh)
    found.run_time = {
        "checked": True,
        "modules": list(found.loaded),
        "detail": f"asked {state.label} which modules it loaded: {len(found.loaded)} beyond "
        "a fresh kernel's and the kernel machinery's",
    }
    return found


class Job:
    """``find()`` in a background thread; ``result()`` waits and re-raises its error."""

    def __init__(self, notebook: Path, running=None):
        self._value: NotebookEnv | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(notebook, running), name="n2a-env", daemon=True)
        self._thread.start()

    def _run(self, notebook, running):
        try:
            self._value = find(notebook, running)
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc

    def result(self) -> NotebookEnv:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None  # _run sets one of the two before the thread ends
        return self._value


def start(notebook: Path, running=None) -> Job:
    _import_before_the_thread()
    return Job(Path(notebook), running)


def _import_before_the_thread() -> None:
    """Import here what ``find()`` imports, before its thread starts.

    The caller goes on to import nbconvert, which imports jupyter_client too. Two threads that
    import one package's circular modules at once can deadlock; Python then raises
    ``_DeadlockError`` in one of them, and a publish failed that way under load. Imported first,
    the thread finds them in ``sys.modules``. It costs little: nbconvert and the magics import
    them anyway, so only the overlap is lost. A test records what the thread imports.
    """
    import pwd  # noqa: F401  (pathlib's owner(), which jupyter_core's paths call)
    import shlex  # noqa: F401
    import shutil  # noqa: F401

    import IPython.paths  # noqa: F401  (jupyter_client's kernel folders; the magics import IPython too)
    import jupyter_client  # noqa: F401  (its __init__ brings kernelspec, manager, connect, blocking)
    import packaging.utils  # noqa: F401

    from n2a_gitops.kernel import installed  # noqa: F401
