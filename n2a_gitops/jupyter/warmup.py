"""Warm the publish path in the background once the Jupyter server runs.

A publish in a fresh server process pays, once, for imports (nbconvert, GitPython, the schema
library, n2a's own modules), for compiling n2a's templates, building nbformat's validator and
IPython's input transformers and loading the Kubernetes schemas: about half a second that the
first click on "Publish as app" would otherwise wait for. None of
it runs on the server's start-up path: the server's event loop starts the thread once it runs,
and each step is small, so the loop keeps answering (a thread yields the interpreter every few
milliseconds). A step that fails is skipped: the publish itself then does that work, as before.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("n2a")


# Seconds between the server's event loop starting and the warm-up: the server first answers
# the requests that come with its start (JupyterLab's page, the API's status); nobody can have
# reached the Publish button that soon.
DELAY = 1.0


def start_when_serving(serverapp) -> None:
    """Called while the server loads its extensions: warm up once its event loop runs.
    N2A_WARMUP=0 turns it off (the first publish then pays for it)."""
    import os

    if os.environ.get("N2A_WARMUP", "1") == "0":
        return
    loop = getattr(serverapp, "io_loop", None)
    logger = getattr(serverapp, "log", None) or log
    if loop is None:  # an old server without io_loop at load time: warm up right away
        start(logger)
        return
    loop.call_later(DELAY, start, logger)


def start(logger=log) -> threading.Thread:
    thread = threading.Thread(target=_run, args=(logger,), name="n2a-warmup", daemon=True)
    thread.start()
    return thread


def _run(logger) -> None:
    begin = time.perf_counter()
    for step in STEPS:
        try:
            step()
        except Exception as exc:  # never let warming up hurt the server
            logger.debug("n2a: warm-up step %s skipped: %s", step.__name__, exc)
    logger.info("n2a: publish path warmed up in %.2f s", time.perf_counter() - begin)


# Every module of n2a (and of its checks) but these two: one runs the CLI when imported, the
# other runs in the notebook kernel's Python. Then what they import only inside functions.
SKIP = {"n2a_gitops.__main__", "n2a_gitops.kernel.probe"}
LAZY = (
    "git",
    "nbconvert",
    "packaging.requirements",
    "ipykernel.connect",
    "ipykernel.kernelspec",
    "n2a_gitops.launchers",
)  # the package only: its modules run in the pods


def _imports() -> None:
    import importlib
    import pkgutil

    import n2a_gitops

    # Subpackages are walked too, but not the launchers: their modules run in the pods.
    names = [
        info.name
        for info in pkgutil.walk_packages(n2a_gitops.__path__, "n2a_gitops.")
        if info.name not in SKIP and not info.name.startswith("n2a_gitops.launchers.")
    ]
    for name in names + list(LAZY):  # one at a time: the server's loop gets its turns in between
        importlib.import_module(name)


def _convert() -> None:
    """A small notebook through the real conversion and detection: nbformat's validator,
    IPython's transformers and n2a's magic handling get built."""
    import tempfile
    from pathlib import Path

    import nbformat

    from n2a_gitops import runtimes
    from n2a_gitops.notebook import convert as notebook

    nb = nbformat.v4.new_notebook()
    for source in ("!pip install -q requests", "%matplotlib inline", "import os\nprint(os.getcwd())"):
        nb.cells.append(nbformat.v4.new_code_cell(source))
    with tempfile.TemporaryDirectory(prefix="n2a-warmup-") as tmp:
        path = Path(tmp) / "warmup.ipynb"
        nbformat.write(nb, str(path))
        converted = notebook.convert(path)
    runtimes.choose(converted.source)


def _templates() -> None:
    from n2a_gitops.render import _environment, templates_dir

    env = _environment()
    for template in sorted((templates_dir() / "app").glob("*.j2")):
        env.get_template(f"app/{template.name}")
    env.get_template("repo/argocd/project-apps.yaml.j2")


def _schemas() -> None:
    """The Kubernetes schemas of the kinds an app is made of, for the default version."""
    from n2a_gitops.config import Settings
    from n2a_gitops.validation.checks.schemas import _cached_validator, bundled_version

    version, _note = bundled_version(Settings().kubernetesVersion)
    for api_version, kind in (
        ("v1", "ConfigMap"),
        ("v1", "Service"),
        ("apps/v1", "Deployment"),
        ("networking.k8s.io/v1", "Ingress"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
    ):
        _cached_validator(version, api_version, kind)


def _requirements() -> None:
    from n2a_gitops.deps import inference
    from n2a_gitops.notebook import secrets_scan

    inference.table()  # import names -> distributions (data/import_names.yaml)
    secrets_scan.scan("warm = 'up'\n")


def _kernel_environment() -> None:
    """What the default kernel's Python has installed: one subprocess, kept in n2a's cache, so
    the first publish of a notebook on that kernel only checks it is still true."""
    from n2a_gitops.kernel import installed as environment
    from n2a_gitops.kernel import interpreter as kernels

    interpreter = kernels.from_kernelspec("python3")
    environment.inspect(interpreter.python, interpreter.env)


STEPS = (_imports, _convert, _templates, _schemas, _requirements, _kernel_environment)
