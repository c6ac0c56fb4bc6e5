"""Plain data shared by every step of the pipeline. No I/O here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from n2a_gitops.notebook.cellmap import CellMap

# The container port every runtime serves on inside the pod (and in `n2a preview`).
CONTAINER_PORT = 8080


@dataclass
class Probe:
    """How Kubernetes (and `n2a preview`) decides the app is up.

    kind "http" GETs ``path`` and wants a 2xx/3xx; kind "tcp" only connects.
    """

    kind: str  # "http" | "tcp"
    path: str | None = None


@dataclass
class Detection:
    """What a runtime found in the converted code, and why it thinks it matches."""

    framework: str
    evidence: list[str]  # human sentences, e.g. "imports gradio (line 3)"
    app_object: str | None = None  # name of the app object, e.g. "demo", "server"
    strong: bool = True  # False: a weak guess (e.g. only an import), used only when alone


@dataclass
class LaunchSpec:
    """How the container serves the app: everything the Deployment needs from a runtime."""

    framework: str
    command: list[str]  # argv, run in the working directory that holds the app's files
    packages: list[str]  # what must be installed to serve (added to the user's requirements)
    port: int = CONTAINER_PORT
    probe: Probe = field(default_factory=lambda: Probe("tcp"))
    env: dict[str, str] = field(default_factory=dict)
    startup_seconds: int = 60  # how long the app may take before liveness counts
    files: dict[str, str] = field(default_factory=dict)  # extra files, e.g. a launcher module
    entry: str = "app.py"  # the file holding the user's code ("app.ipynb" for voila)
    # Frameworks that run the code only per browser session (voila, panel, bokeh, streamlit)
    # would look healthy with broken code: their warm-up runs it once at start. `warmup` is an
    # argv put in front of `command`: it runs the code, exits non-zero with the traceback if it
    # raises, else execs `command`. `warmup_files` are launchers only the warm-up needs.
    warmup: list[str] = field(default_factory=list)
    warmup_files: dict[str, str] = field(default_factory=dict)

    def served(self, warmup: bool = True) -> LaunchSpec:
        """What the Deployment runs: the warm-up (when wanted and there is one) in front of the command."""
        if not (warmup and self.warmup):
            return replace(self, warmup=[], warmup_files={})
        return replace(
            self,
            command=[*self.warmup, *self.command],
            files={**self.files, **self.warmup_files},
            warmup=[],
            warmup_files={},
        )


@dataclass
class ConvertedNotebook:
    """A notebook turned into a script that runs outside IPython."""

    source: str  # app.py: the converted code, plus one import line when it needs the IPython stand-in
    notebook_json: str  # the notebook with skipped cells removed (voila serves this)
    pip_requirements: list[str]  # from %pip / !pip / %conda install lines
    shell_escapes: list[str]  # every `!cmd` / `%%bash` found, for warnings and policy
    warnings: list[str]
    code_cells: int  # how many code cells were kept
    requirement_sources: list[str] = field(default_factory=list)  # where each pip requirement came from
    cellmap: CellMap = field(default_factory=CellMap)  # app.py line -> (code cell, line in cell)
    # Shipped beside app.py: the IPython stand-in (n2a_ipython.py) when needed, the cell maps
    # (n2a_cellmap.json), and what %run brings in (helpers.ipynb.py, utils.py).
    files: dict[str, str] = field(default_factory=dict)
    served_files: dict[str, str] = field(default_factory=dict)  # beside app.ipynb, when voila serves it
    code_sources: dict[str, str] = field(default_factory=dict)  # %run file -> Python whose imports count too
    brought_in: list[dict] = field(default_factory=list)  # [{"path": "helpers.ipynb", "by": "code cell 1"}]


@dataclass
class Requirement:
    """One line of apps/<app>/requirements.txt and where it came from."""

    spec: str  # e.g. "gradio==5.9.1"
    source: str  # "requirements.txt line 3", "%pip install in cell 2", "import pandas (code cell 1, line 2): ..."
    # Where n2a found it: "file", "notebook" (an install magic), "kernel" (installed in the notebook's
    # kernel), "table" (n2a's table of import names), "index" (on the package index, not installed in
    # the kernel), "run-time" (loaded by the running kernel), "framework".
    origin: str = ""


@dataclass
class PublishResult:
    """What `n2a publish --json` prints and `n2a_gitops.publish()` returns."""

    app: str
    framework: str
    path: str  # repo-relative folder, no trailing slash: "apps/<app>"
    commit: str | None  # full SHA of the new commit, None when nothing was committed
    url: str
    requirements: list[str]
    warnings: list[str]
    pushed: bool
    # Extra detail for humans, the plan view and the JupyterLab dialog.
    name: str = ""
    owner: str = ""
    evidence: list[str] = field(default_factory=list)
    requirement_sources: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)  # [{"path": ..., "bytes": ...}]
    # Files the code reads beside the notebook (notebook/reads.py): [{"path", "cell", "status", "bytes",
    # "how"}], status shipped | included | missing | outside | folder | too-large | available.
    data_files: list[dict] = field(default_factory=list)
    application: str | None = None  # repo-relative path of the child Application, if any
    dry_run: bool = False
    changed: bool = True
    notes: list[str] = field(default_factory=list)
    revision: str | None = None  # the remote branch's head after --push: the commit Argo CD syncs
    push_attempts: int = 0  # pushes tried with --push (more than 1: other publishers won races first)
    access: str = "public"  # who may open the app: public, authenticated, private, users:..., groups:...
    access_detail: str = ""  # the same for humans, e.g. "only jane@example.com"
    brought_in: list[dict] = field(default_factory=list)  # files %run brings in: {"path", "by"}
    resources: dict = field(default_factory=dict)  # {"replicas", "requests", "limits"} of the app container
    secret_env: list[dict] = field(
        default_factory=list
    )  # [{"env", "secret", "key"[, "remote", "property"]}]: names, never values
    # Which Python the imports were resolved in: {"source": "running-kernel" | "kernelspec" | "n2a",
    # "kernelspec", "python", "python_version", "description"}.
    environment: dict = field(default_factory=dict)
    # The run-time step (modules a running kernel loaded): {"checked", "detail", "modules"}.
    run_time: dict = field(default_factory=dict)
    # {"path", "kept", "packages", "python", "platform"}; None when published with --no-lock
    lock: dict | None = None
    warmup: bool = False  # the pod runs the code once before it serves (voila, panel, bokeh, streamlit)
    check: dict | None = None  # with --check: how the check run went ({"passed", "seconds", "status"})
    # Re-publishing: the app's values before this publish, read from its overlay ({"path", "access",
    # "resources", "secret_env", "kept"}; "kept" names those the request left out and so kept).
    # None for a new app.
    current: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)
