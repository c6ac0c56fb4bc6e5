"""The stages of ``pipeline.prepare``, in order, each a small function of a ``Draft``:

``inputs.resolve``      n2a.yaml, the owner, the app's id, its current values, access, env, resources
``convert.convert``     nbconvert, the framework, the warm-up, secrets by reference, the secret scan
``requirements.requirements``  the kernel's environment, requirements.txt, conda, the lock
``files.files``         what ships in src/: code, data, the lock, spread over ConfigMaps
``overlay.render``      the overlay and the child Application, from render.py's templates
``build.build_and_check``  kustomize build in a scratch copy, then the checks CI runs

Each stage reads what the ones before it filled in and fills in its own part; none touches the
repository (publish() commits what they made).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from n2a_gitops.output import Output
from n2a_gitops.request import PublishRequest


@dataclass
class Draft:
    """The app as the stages build it up."""

    request: PublishRequest
    out: Output
    kernel: Any = None  # the notebook's running kernel, when there is one
    need_repo: bool = True
    preferences: dict | None = None  # {distribution: version} to keep when locking
    # inputs.resolve
    settings: Any = None
    root: Path | None = None
    ident: Any = None  # names.AppId
    access: Any = None  # pod.access.Access
    env: dict = field(default_factory=dict)
    resources: Any = None  # pod.resources.AppResources
    current: dict | None = None  # the app's current values, when it is published already
    secret_env: tuple | None = None  # the --secret-env items to parse (given, else kept)
    limits: Any = None  # notebook.limits.Limits: hostile-input bounds from n2a.yaml
    scaling: Any = None  # pod.scaling.Scaling: scale to zero after idle, or always on
    # convert.convert
    converted: Any = None
    runtime: Any = None
    detection: Any = None
    declared: Any = None  # the runtime's LaunchSpec
    launch: Any = None  # what the Deployment runs (with or without the warm-up)
    warm: bool = True
    why_warm: str = ""
    secret_refs: list = field(default_factory=list)
    included: dict = field(default_factory=dict)  # path in the app -> file
    read: Any = None  # notebook.reads: the files the code reads (shipped, missing), for the plan
    extra: dict = field(default_factory=dict)  # included files' content
    brought: dict = field(default_factory=dict)  # files %run brings in
    served: bool = False  # the notebook itself is served (voila)
    source_notebook: bytes = b""
    kernel_env_job: Any = None
    # requirements.requirements
    kernel_env: Any = None
    conda_env: Any = None
    requirement_list: list = field(default_factory=list)
    requirements_txt: str = ""
    lock: tuple[bytes, dict] | None = None
    # files.files
    app_files: dict = field(default_factory=dict)
    configmaps: list = field(default_factory=list)
    blobs: Any = None  # blobs.store: data too large for the ConfigMaps, shipped as content-addressed blobs
    # overlay.render
    host: str = ""
    url: str = ""
    files: dict = field(default_factory=dict)  # repo-relative path -> content
    application_path: str | None = None
    # build.build_and_check
    manifests: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def app(self) -> str:
        return self.ident.app

    @property
    def folder(self) -> str:
        from n2a_gitops.layout import app_dir

        return app_dir(self.app)
