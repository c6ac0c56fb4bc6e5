"""Which Python runs the notebook's code, and what a running kernel has loaded.

The app must get what the notebook used, and the notebook used its kernel's environment, which
is often not n2a's. In order:

1. a running kernel that executed the notebook (the JupyterLab button finds the notebook's
   session; the ``%n2a`` magic runs inside it): its own ``sys.executable``;
2. the notebook's kernelspec (``metadata.kernelspec.name``) through jupyter_client: its argv[0];
3. n2a's own interpreter, and the output says why.

A running kernel is also asked which top-level modules it has loaded (``sys.modules``): minus
what a fresh kernel of the same interpreter loads by itself (measured once per interpreter and
cached with its environment) and minus the kernel's own machinery, the rest was imported at run
time by the notebook's libraries, possibly without any of them declaring it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from n2a_gitops.errors import N2AError

if TYPE_CHECKING:
    from jupyter_client.connect import KernelConnectionInfo

ASK_TIMEOUT = 15  # seconds a running kernel may take to answer (it may be finishing a cell)
FRESH_TIMEOUT = 60  # seconds to start a fresh kernel for the baseline
# Evaluated in the kernel as a user expression: nothing runs as a cell, nothing enters history.
_EXPRESSION = (
    "__import__('json').dumps({'python': __import__('sys').executable, "
    "'modules': sorted(set(m.partition('.')[0] for m in list(__import__('sys').modules)))})"
)
# The kernel's own machinery: modules of these distributions and their dependencies are loaded
# by the kernel and its front end (completion loads jedi, %matplotlib loads matplotlib_inline),
# by `%load_ext n2a_gitops` (n2a's own dependencies: nbconvert, bs4, soupsieve ...) or by
# Jupyter tooling imported into the kernel. Never the app's, whatever the notebook loaded.
KERNEL_DISTRIBUTIONS = (
    "ipykernel",
    "ipython",
    "n2a-gitops",
    "jupyter-client",
    "jupyter-core",
    "jupyter-server",
    "jupyterlab",
    "notebook",
    "nbconvert",
    "nbclient",
    "nbformat",
)


class KernelUnavailable(N2AError):
    """A running kernel could not be asked (busy, gone, not Python)."""


@dataclass
class KernelState:
    """What a running kernel said about itself."""

    python: str  # its sys.executable
    modules: frozenset[str]  # top-level names in its sys.modules
    label: str  # for messages: "the notebook's running kernel (python3)"
    ignore: frozenset[str] = frozenset()  # modules n2a itself put there (the magic runs in the kernel)
    spec: str | None = None  # its kernelspec's name, when known (its env shapes a fresh kernel too)


class ConnectedKernel:
    """A kernel reached through its connection info (the server extension: the notebook's session)."""

    def __init__(self, connection_info: KernelConnectionInfo, name: str | None = None, label: str | None = None):
        self.connection_info = connection_info
        self.name = name
        self.label = label or f"the notebook's running kernel ({name or 'unnamed'})"

    def state(self) -> KernelState:
        try:
            data = ask(self.connection_info, ASK_TIMEOUT)
        except KernelUnavailable:
            raise
        except Exception as exc:  # zmq or jupyter_client trouble: the kernel is gone or unreachable
            raise KernelUnavailable(
                f"the kernel could not be reached ({type(exc).__name__}: {exc})",
                "restart the notebook's kernel, run the notebook, and publish again",
            ) from None
        return KernelState(data["python"], frozenset(data["modules"]), self.label, spec=self.name)


class ThisKernel:
    """The kernel n2a runs in (the ``%n2a`` magic): no messages needed."""

    label = "the notebook's running kernel (this one, where %n2a runs)"

    def __init__(self, modules, ignore=()):
        self.modules = frozenset(m.partition(".")[0] for m in modules)
        self.ignore = frozenset(m.partition(".")[0] for m in ignore)

    def state(self) -> KernelState:
        return KernelState(sys.executable, self.modules, self.label, self.ignore)


def ask(connection_info: KernelConnectionInfo, timeout: float) -> dict:
    """{"python", "modules"} from the kernel at CONNECTION_INFO, through a user expression."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(connection_info)
    client.start_channels(iopub=False, stdin=False, hb=False, control=False)
    try:
        msg_id = client.execute(
            "", silent=True, store_history=False, allow_stdin=False, user_expressions={"n2a": _EXPRESSION}
        )
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelUnavailable(
                    f"the kernel did not answer within {timeout:.0f} s (busy running a cell?)",
                    "wait for the notebook to finish running, then publish again",
                )
            try:
                reply = client.get_shell_msg(timeout=left)
            except Exception:  # queue.Empty: the deadline check above reports it
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
    finally:
        client.stop_channels()
    return _answer(reply["content"])


def _answer(content: dict) -> dict:
    import ast

    value = (content.get("user_expressions") or {}).get("n2a") or {}
    if content.get("status") != "ok" or value.get("status") != "ok":
        why = value.get("evalue") or content.get("evalue") or "no answer"
        raise KernelUnavailable(
            f"the kernel could not say what it loaded ({why})",
            "restart the kernel, run the notebook, and publish again",
        )
    try:
        data = json.loads(ast.literal_eval(value["data"]["text/plain"]))
        return {"python": str(data["python"]), "modules": [str(m) for m in data["modules"]]}
    except (KeyError, ValueError, SyntaxError, TypeError) as exc:
        raise KernelUnavailable(
            f"the kernel's answer could not be read ({exc})",
            "check that the notebook's kernel is a Python (ipykernel) kernel",
        ) from None


def fresh_modules(python: str, env: dict[str, str] | None = None, timeout: float = FRESH_TIMEOUT) -> list[str]:
    """The top-level modules a fresh ipykernel of PYTHON has loaded once it is ready."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    spec = KernelSpec(
        argv=[python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="n2a baseline",
        language="python",
        env=dict(env or {}),
    )

    class OneSpec(KernelSpecManager):
        def get_kernel_spec(self, kernel_name, *args, **kwargs):
            return spec

    with tempfile.TemporaryDirectory(prefix="n2a-baseline-") as tmp:
        manager = KernelManager(
            kernel_name="n2a-baseline", kernel_spec_manager=OneSpec(), connection_file=os.path.join(tmp, "kernel.json")
        )
        try:
            # Its output (ipykernel's start-up warnings) is nobody's business: not the server log's.
            manager.start_kernel(
                cwd=tmp,
                env={k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except Exception as exc:
            raise KernelUnavailable(
                f"could not start a fresh kernel of {python}: {exc}",
                "check that ipykernel is installed in the kernel's environment",
            ) from None
        try:
            client = manager.client()
            client.start_channels()
            try:
                client.wait_for_ready(timeout=timeout)
            except RuntimeError as exc:
                raise KernelUnavailable(
                    f"a fresh kernel of {python} did not start: {exc}",
                    "check that ipykernel is installed in the kernel's environment",
                ) from None
            finally:
                client.stop_channels()
            return ask(manager.get_connection_info(), timeout)["modules"]
        finally:
            manager.shutdown_kernel(now=True)


_baseline_lock = threading.Lock()


def baseline(environment, env: dict[str, str] | None = None) -> frozenset[str]:
    """What a fresh kernel of this environment's interpreter loads: cached with its environment."""
    from n2a_gitops.kernel import installed as environments

    python = environment.python
    with _baseline_lock:  # one fresh kernel at a time per process
        cached = environments.load_cached(python, env)
        if cached and "baseline" in cached[1]:
            return frozenset(cached[1]["baseline"])
        try:
            modules = fresh_modules(python, env)
        except KernelUnavailable:
            raise
        except Exception as exc:  # jupyter_client or zmq trouble: report it, publish goes on
            raise KernelUnavailable(
                f"a fresh kernel of {python} failed: {type(exc).__name__}: {exc}",
                "check that ipykernel is installed in the kernel's environment",
            ) from None
        environments.save(python, environment, env, {"baseline": sorted(modules)})
    return frozenset(modules)


def loaded_at_run_time(state: KernelState, environment, fresh: frozenset[str]) -> list[str]:
    """Top-level modules the notebook's libraries loaded at run time, not the kernel's own."""
    machinery = environment.closure(KERNEL_DISTRIBUTIONS)
    from packaging.utils import canonicalize_name

    out = []
    for module in sorted(state.modules - fresh - state.ignore):
        if module in environment.stdlib or module.startswith("__") or module == "__main__":
            continue
        owners = [canonicalize_name(d) for d in environment.packages.get(module, [])]
        if not owners or all(o in machinery for o in owners):
            continue  # a local file, or part of the kernel itself
        out.append(module)
    return out


# -- the notebook's kernelspec -----------------------------------------------------------------


@dataclass
class Interpreter:
    """The Python to resolve the notebook's imports in, and why that one."""

    python: str
    source: str  # "running-kernel" | "kernelspec" | "n2a"
    label: str  # "kernelspec 'python3'"
    env: dict[str, str] = field(default_factory=dict)  # the kernelspec's env
    kernelspec: str | None = None
    fallback: str | None = None  # why n2a's own environment was used
    fallback_is_warning: bool = False


def kernelspec_name(notebook: Path) -> str | None:
    """metadata.kernelspec.name, read without nbformat (this runs beside the conversion)."""
    try:
        data = json.loads(Path(notebook).read_text(encoding="utf-8"))
        name = data["metadata"]["kernelspec"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) and name else None


def own(reason: str, warn: bool = False, name: str | None = None) -> Interpreter:
    return Interpreter(
        sys.executable, "n2a", "n2a's own environment", kernelspec=name, fallback=reason, fallback_is_warning=warn
    )


def from_kernelspec(name: str | None) -> Interpreter:
    """The interpreter of kernelspec NAME (as jupyter_client would start it), else n2a's own."""
    if not name:
        return own("the notebook names no kernelspec")
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    # The spec is read from its folder, not through get_kernel_spec() or ensure_native_kernel:
    # for 'python3' both import ipykernel, in the thread that runs beside the conversion, which
    # imports IPython itself (notebook_env.py says why two threads must not import one package).
    folder = KernelSpecManager(ensure_native_kernel=False).find_kernel_specs().get(name.lower())
    if folder is None:
        if name == "python3":  # jupyter_client's native kernel: the Python that starts it
            return Interpreter(sys.executable, "kernelspec", "kernelspec 'python3' (n2a's own Python)", kernelspec=name)
        return own(f"kernelspec '{name}' is not installed here (jupyter kernelspec list)", warn=True, name=name)
    spec = KernelSpec.from_resource_dir(folder)
    if (spec.language or "").lower() != "python":
        return own(f"kernelspec '{name}' runs {spec.language or 'another language'}, not Python", warn=True, name=name)
    python = _python_of(spec.argv)
    if python is None:
        shown = " ".join(spec.argv[:3])
        return own(
            f"kernelspec '{name}' does not start a Python interpreter n2a can ask ({shown} …)", warn=True, name=name
        )
    return Interpreter(python, "kernelspec", f"kernelspec '{name}'", env=dict(spec.env or {}), kernelspec=name)


def _python_of(argv: list[str]) -> str | None:
    """argv[0] when it is a Python interpreter; "python" means the Python that starts the kernel."""
    if not argv:
        return None
    first = argv[0]
    if first in {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}:
        return sys.executable  # what jupyter_client's KernelManager.format_kernel_cmd does
    if not re.fullmatch(r"python[\d.]*(\.exe)?|pythonw(\.exe)?", os.path.basename(first)):
        return None
    if not os.path.isabs(first):
        import shutil

        first = shutil.which(first) or ""
    return first if first and os.access(first, os.X_OK) else None
