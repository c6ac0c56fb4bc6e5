"""The publish pipeline: notebook -> converted code -> rendered overlay -> built -> committed.

``prepare()`` does everything that does not touch the repository (it is also the dry run and
what `n2a preview` starts from); ``publish()`` writes the app's files and commits them.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from n2a_gitops import names
from n2a_gitops.config import Settings, env_flag, find_repo, load_settings
from n2a_gitops.deps.lock import LOCK_FILE
from n2a_gitops.errors import N2AError, PolicyError, UsageError
from n2a_gitops.layout import BASE_DIR, app_dir, app_paths, application_file
from n2a_gitops.model import CONTAINER_PORT, PublishResult
from n2a_gitops.output import Output

# A ConfigMap holds at most 1 MiB of data; keep headroom for keys and metadata.
CONFIGMAP_BUDGET = 900 * 1024
MAX_FILE = 1024 * 1024 - 4096
RESERVED_ENV = {"PATH", "HOME", "VIRTUAL_ENV", "PORT", "PYTHONUNBUFFERED"}
NOTIFY_TRIGGERS = ("on-deployed", "on-health-degraded", "on-sync-failed")


@dataclass
class Prepared:
    settings: Settings
    repo_root: Path | None
    app: str
    app_dir: str  # "apps/<app>"
    files: dict[str, bytes]  # repo-relative path -> content, everything publish writes
    manifests: list[dict]  # `kustomize build` output
    result: PublishResult
    # {canonical distribution name: version} installed in the notebook's kernel (or n2a's own
    # environment, see result.environment): what ran in the notebook, for the lock's preferences.
    preferences: dict[str, str] = field(default_factory=dict)


def _owner(owner: str | None, repo_root: Path | None) -> str:
    from n2a_gitops.gitrepo.repo import user_name

    owner = owner or os.environ.get("JUPYTERHUB_USER") or user_name(repo_root) or user_name()
    if not owner:
        raise UsageError(
            "no owner for the app: --owner not given, JUPYTERHUB_USER not set, no git user.name",
            "pass --owner YOUR_USERNAME",
        )
    return owner


def _env(pairs) -> dict[str, str]:
    """--env values as typed (the caller escapes them for the kubelet, see envvars.escape)."""
    env = {}
    for item in pairs or ():
        key, sep, value = item.partition("=") if isinstance(item, str) else (item[0], "=", item[1])
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UsageError(
                f"--env {item!r} is not KEY=VALUE with a valid variable name", "e.g. --env MODEL_NAME=small"
            )
        if key in RESERVED_ENV:
            raise UsageError(
                f"--env {key} is set by n2a itself", f"use another name than {', '.join(sorted(RESERVED_ENV))}"
            )
        env[key] = value
    return env


def _configmaps(app_files: dict[str, bytes]) -> list[dict]:
    """Spread the code files over ConfigMaps of at most CONFIGMAP_BUDGET bytes each."""
    too_big = {p: len(b) for p, b in app_files.items() if len(b) > MAX_FILE}
    if too_big:
        listing = ", ".join(f"{p} ({n / 1024 / 1024:.1f} MiB)" for p, n in sorted(too_big.items()))
        raise PolicyError(
            f"files too large for a ConfigMap (1 MiB each at most): {listing}",
            "keep large data out of the app (object storage, a dataset URL) or shrink the file",
        )
    maps: list[dict] = []
    used_keys: set[str] = set()
    for path in sorted(app_files, key=lambda p: (-len(app_files[p]), p)):
        key = re.sub(r"[^-._a-zA-Z0-9]", "_", path.replace("/", "__"))
        while key in used_keys:
            key = "_" + key
        used_keys.add(key)
        size = len(app_files[path])
        target = next((m for m in maps if m["bytes"] + size <= CONFIGMAP_BUDGET), None)
        if target is None:
            target = {"name": "code" if not maps else f"code-{len(maps)}", "bytes": 0, "files": []}
            maps.append(target)
        target["bytes"] += size
        target["files"].append({"key": key, "path": path, "source": f"src/{path}"})
    for m in maps:
        m["files"].sort(key=lambda f: f["path"])
    return maps


def _probes(launch) -> dict:
    if launch.probe.kind == "http":
        handler = {"httpGet": {"path": launch.probe.path or "/", "port": "http"}}
    else:
        handler = {"tcpSocket": {"port": "http"}}
    return {
        "startup": {
            **handler,
            "periodSeconds": 5,
            "timeoutSeconds": 5,
            "failureThreshold": max(6, math.ceil(launch.startup_seconds / 5)),
        },
        "readiness": {**handler, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
        "liveness": {**handler, "periodSeconds": 20, "timeoutSeconds": 10, "failureThreshold": 6},
    }


def _warmup_wanted(warmup: bool | None, path: Path, limits=None) -> tuple[bool, str]:
    """(run the warm-up?, why): --no-warmup, else the notebook's `metadata.n2a.warmup`, else on."""
    from n2a_gitops.notebook.convert import read_notebook

    if warmup is not None:
        return warmup, "--no-warmup" if not warmup else "asked for"
    value = (read_notebook(path, limits).metadata.get("n2a") or {}).get("warmup", True)
    if not isinstance(value, bool):
        raise UsageError(
            f"the notebook's metadata n2a.warmup is {value!r}, not true or false",
            'set "n2a": {"warmup": false} in the notebook\'s metadata, or remove it',
        )
    return value, "metadata n2a.warmup: false" if not value else "default"


def _source_notebook(path: Path, limits=None) -> bytes:
    """The notebook as committed beside the app: outputs cleared (they can be large or sensitive)."""
    import nbformat

    from n2a_gitops.notebook.convert import read_notebook

    nb = read_notebook(path, limits)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(nb).encode()


def _refuse_secrets(texts: dict[str, bytes], settings: Settings, app: str, owner: str) -> None:
    """Everything publish commits is scanned: a secret in git is a secret leaked. When the secret
    is assigned to a variable, the message names the --secret-env option that replaces it."""
    from n2a_gitops.notebook import secrets_scan
    from n2a_gitops.pod import secretrefs

    for where, content in texts.items():
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary data files
        findings = secrets_scan.scan(text)
        if findings:
            lines = "; ".join(
                f"line {f.line}: {f.kind}" + (f" in {f.variable}" if f.variable else "") for f in findings[:5]
            )
            variables = list(dict.fromkeys(f.variable for f in findings if f.variable))
            if variables:
                names = [secretrefs.env_name(v) for v in variables]
                options = " ".join(f"--secret-env {n}=" for n in names)
                reads = ", ".join(f"os.environ[{n!r}]" for n in names)
                raise PolicyError(
                    f"{where} seems to contain secrets ({lines}); publishing would commit them to git. "
                    f"Use {options} instead",
                    f"remove the value and read it with {reads}; publish with "
                    + "; ".join(secretrefs.suggestion(settings, app, owner, v) for v in variables)
                    + ". `n2a preview` takes the value from your own environment (export it there)",
                )
            raise PolicyError(
                f"{where} seems to contain secrets ({lines}); publishing would commit them to git",
                "read them from the environment (os.environ[...]) and publish with --secret-env NAME=... "
                "(see `n2a publish --help`); then remove them from the notebook",
            )


def _refuse_secret_env_values(env: dict[str, str]) -> None:
    """An --env value is committed to git: one that looks like a credential is refused, and the
    message says to pass it by reference instead (the value itself is never echoed)."""
    from n2a_gitops.pod.secretrefs import looks_like_a_value

    leaked = [key for key, value in env.items() if looks_like_a_value(key, value)]
    if leaked:
        raise PolicyError(
            f"--env {', '.join(leaked)} seems to hold a secret value; publishing would commit it to git. "
            f"Use {' '.join(f'--secret-env {k}=' for k in leaked)} instead",
            "put the value in a Kubernetes Secret (or the secret store in n2a.yaml) and publish with "
            + " ".join(f"--secret-env {k}=SECRET/KEY" for k in leaked)
            + "; n2a preview reads it from your environment",
        )


def _settings_for(repo, need_repo: bool) -> tuple[Settings, Path | None]:
    if repo or need_repo:
        root = find_repo(repo)
        return load_settings(root), root
    try:
        root = find_repo(None)
        return load_settings(root), root
    except N2AError:
        return Settings(), None


def prepare(
    notebook,
    *,
    repo=None,
    name=None,
    owner=None,
    requirements=None,
    framework=None,
    env=None,
    include=(),
    access=None,
    secret_env=None,
    cpu=None,
    memory=None,
    gpu=None,
    replicas=None,
    warmup: bool | None = None,
    idle: str | None = None,
    always_on: bool = False,
    out: Output | None = None,
    need_repo: bool = True,
    kernel=None,
    environment=None,
    no_lock: bool = False,
    refresh_lock: bool = False,
    preferences: Mapping[str, str] | None = None,
) -> Prepared:
    """Everything but the commit. KERNEL: the notebook's running kernel when there is one
    (``kernels.ConnectedKernel`` from JupyterLab, ``kernels.ThisKernel`` from the magic).

    ENVIRONMENT: an environment.yml (default: one beside the notebook). NO_LOCK: ship
    requirements.txt only (also N2A_NO_LOCK=1). REFRESH_LOCK: resolve again even when the app's
    lock in the repo has the same inputs. PREFERENCES: {distribution: version} to keep when
    resolving the lock (default: the versions in the notebook kernel's environment). WARMUP:
    None follows the notebook's metadata (default on).
    """
    from n2a_gitops import render, runtimes
    from n2a_gitops.blobs import store as blob_store
    from n2a_gitops.deps import conda
    from n2a_gitops.deps import requirements as reqs
    from n2a_gitops.kernel import notebook_env
    from n2a_gitops.notebook import convert as nbconv
    from n2a_gitops.notebook import includes, reads
    from n2a_gitops.notebook import limits as nblimits
    from n2a_gitops.pod import access as access_mod
    from n2a_gitops.pod import envvars, resources, secretrefs

    out = out or Output(quiet=True)
    nb_path = Path(notebook).expanduser()
    nblimits.check_notebook_path(nb_path)  # past the file system's limits, is_file() raises
    if not nb_path.is_file():
        raise UsageError(f"notebook {notebook} does not exist", "give the path of an .ipynb file")
    settings, root = _settings_for(repo, need_repo)
    limits = nblimits.from_settings(settings)
    owner_given = _owner(owner, root)
    chosen = access_mod.resolve(settings, access, owner_given)  # a refused choice stops before any work
    user_env = _env(env)
    _refuse_secret_env_values(user_env)
    wanted = resources.app_resources(settings, cpu=cpu, memory=memory, gpu=gpu, replicas=replicas)
    from n2a_gitops.pod import scaling as scaling_mod

    scaling = scaling_mod.resolve(settings, idle, always_on)  # IDLE/ALWAYS_ON: --idle, --always-on

    # The kernel's environment is asked in the background (a subprocess, cached) while nbconvert works.
    kernel_env_job = notebook_env.start(nb_path, kernel)
    included = includes.collect(include, nb_path, limits)
    out.step(f"converting {nb_path.name} with nbconvert")
    converted = nbconv.convert(nb_path, included, limits)
    read = reads.find(converted, nb_path, included, limits, blob_store.max_file_size(settings))  # files the code reads
    blob_store.refuse_too_large(read.entries, settings)  # above maxFileSize: exit 3, before any work
    included = {**read.ship, **included}
    warnings = list(converted.warnings) + read.warnings
    if converted.shell_escapes and not settings.allowShellEscapes:
        raise PolicyError(
            f"the notebook runs shell commands, which n2a.yaml forbids: {', '.join(converted.shell_escapes[:3])}",
            "move them out of the notebook or tag their cells n2a-skip",
        )

    runtime, detection = runtimes.choose(converted.source, framework, settings.frameworks, converted.cellmap)
    warm, why_warm = _warmup_wanted(warmup, nb_path, limits)
    declared = runtime.launch(detection, CONTAINER_PORT)
    launch = declared.served(warm)
    ident = names.app_id(name or nb_path.stem, owner_given)
    app = ident.app

    from n2a_gitops.lifecycle import app_names

    secret_refs = secretrefs.parse(
        secret_env,
        settings,
        app,
        ident.owner,
        taken=set(user_env) | set(launch.env) | RESERVED_ENV,
        apps=app_names(root) if root else (),
    )
    extra = {rel: f.read_bytes() for rel, f in included.items()}
    served = launch.entry.endswith(".ipynb")  # voila: the notebook itself, and the notebooks %run brings in
    brought = {p: c.encode() for p, c in (converted.served_files if served else converted.files).items()}
    source_notebook = _source_notebook(nb_path, limits)
    _refuse_secrets(
        {"the notebook": source_notebook, "the converted code": converted.source.encode(), **extra, **brought},
        settings,
        app,
        ident.owner,
    )
    local_modules = [Path(p).stem for p in [*extra, *brought, *launch.files] if p.endswith(".py")]
    env_file = conda.find(nb_path, environment)
    conda_env = conda.read(env_file, settings) if env_file else None
    kernel_env = kernel_env_job.result()
    out.step(f"resolving imports in {kernel_env.describe()['description']}")
    requirement_list, req_warnings = reqs.resolve(
        converted,
        converted.source,
        settings,
        requirements_file=requirements,
        framework_packages=launch.packages,
        local_modules=local_modules,
        framework=runtime.name,
        environment=kernel_env.environment,
        loaded=kernel_env.loaded,
        notebook_dir=nb_path.parent,
        env_label=kernel_env.label,
        environment_pip=conda_env.pip if conda_env else None,
        provided=conda_env.names() if conda_env else (),
    )
    warnings += kernel_env.warnings + req_warnings

    folder = app_dir(app)
    entry_content = converted.notebook_json if served else converted.source
    requirements_txt = reqs.render_requirements_txt(requirement_list)
    app_files = {
        **extra,
        **brought,
        launch.entry: entry_content.encode(),
        "requirements.txt": requirements_txt.encode(),
    }
    app_files.update({p: c.encode() for p, c in launch.files.items()})
    if conda_env:
        app_files[conda.SHIPPED] = conda_env.render().encode()
    lock_info, notes = None, list(ident.notes) + read.notes
    unlocked = (
        "each pod resolves requirements.txt when it starts, so versions can change between restarts "
        "and nothing is installed only once"
    )
    if no_lock:
        warnings.append(f"published without a lock (--no-lock): {unlocked}")
    elif env_flag("N2A_NO_LOCK"):  # set for a whole environment (a CI job, a test suite): said once, as a note
        notes.append(f"published without a lock (N2A_NO_LOCK is set): {unlocked}")
    else:
        # What ran in the notebook runs in the pod: the kernel's versions are the preferences.
        prefer = kernel_env.environment.versions() if preferences is None else preferences
        lock_bytes, lock_info = _lock(requirements_txt, settings, root, folder, conda_env, prefer, refresh_lock, out)
        app_files[LOCK_FILE] = lock_bytes
    app_files, blobs = blob_store.split(app_files, set(extra), settings)  # large data: blobs, not ConfigMaps
    configmaps = _configmaps(app_files)

    host = f"{app}.{settings.appsDomain}"
    url = f"https://{host}/"
    notebook_rel = f"{folder}/notebook.ipynb"
    ctx = {
        "app": app,
        "name": ident.name,
        "owner": ident.owner,
        "framework": runtime.name,
        "notebook": nb_path.name,
        "settings": settings,
        "launch": launch,
        # The kubelet expands $(NAME) in env values: escaped, every value arrives as typed.
        "env": {k: envvars.escape(v) for k, v in {**launch.env, **user_env}.items()},
        "secret_env": secret_refs,
        "store_refs": [r for r in secret_refs if r.remote],
        "resources": wanted.resources,
        "replicas": wanted.replicas,
        "node_selector": wanted.node_selector,
        "tolerations": wanted.tolerations,
        "probes": _probes(launch),
        "configmaps": configmaps,
        "blobs": blobs.context(),
        "host": host,
        "url": url,
        "tls_secret": settings.tlsSecret if not settings.tlsIssuer else f"{app}-tls",
        "path": folder,
        "base_path": BASE_DIR,
        "notebook_url": f"{settings.webURL.rstrip('/')}/blob/{settings.targetRevision}/{notebook_rel}"
        if settings.webURL
        else "",
        "notify_triggers": NOTIFY_TRIGGERS if settings.notify else (),
        "access": chosen,
        "proxy": access_mod.proxy_context(chosen, host, launch.port),
        "conda": {"command": conda_env.command()} if conda_env else None,
        "scaling": scaling_mod.context(settings, app, scaling, wanted.replicas),
    }
    files = {f"{folder}/{k}": v.encode() for k, v in render.render_app(ctx).items()}
    files.update({f"{folder}/src/{p}": c for p, c in app_files.items()})
    files.update(blobs.files(folder))
    files[notebook_rel] = source_notebook
    application_path = None
    if not settings.applicationSet:
        application_path = application_file(app)
        files[application_path] = render.render_application(ctx).encode()

    out.step("building the overlay with kustomize")
    manifests = _build(files, folder, root, settings)
    problems = _check(settings, app, manifests, files.get(application_path) if application_path else None, root)
    if problems:
        raise PolicyError(
            "the rendered app breaks the platform's rules:\n  " + "\n  ".join(problems),
            "adjust n2a.yaml or the shared base (apps/_base), or report it",
        )

    sizes = [{"path": p, "bytes": len(c)} for p, c in sorted(files.items())]
    result = PublishResult(
        app=app,
        framework=runtime.name,
        path=folder,
        commit=None,
        url=url,
        requirements=[r.spec for r in requirement_list],
        warnings=warnings,
        pushed=False,
        name=ident.name,
        owner=ident.owner,
        evidence=list(detection.evidence),
        requirement_sources=[{"spec": r.spec, "source": r.source, "origin": r.origin} for r in requirement_list],
        files=sizes,
        data_files=read.entries,
        application=application_path,
        notes=notes,
        access=chosen.spec,
        access_detail=access_mod.describe(chosen),
        brought_in=[dict(b) for b in converted.brought_in],
        resources=wanted.summary(),
        secret_env=[r.to_dict() for r in secret_refs],
        environment=kernel_env.describe(),
        run_time=dict(kernel_env.run_time),
        lock=lock_info,
        warmup=bool(warm and declared.warmup),
    )
    if settings.scaleToZero:
        result.notes.append(
            f"scale to zero: after {scaling.idle} without visitors the app stops; the next visit wakes it"
            if scaling.enabled
            else "always on: the app keeps its pod while nobody visits (--always-on)"
        )
    if declared.warmup:
        result.notes.append(
            "start-up: the pod runs the code once before it serves, so broken code never looks healthy"
            if warm
            else f"start-up: no warm-up ({why_warm}): the code runs only when someone opens the app"
        )
    return Prepared(settings, root, app, folder, files, manifests, result, kernel_env.environment.versions())


def _lock(
    requirements_txt: str, settings, root: Path | None, folder: str, conda_env, preferences, refresh: bool, out: Output
) -> tuple[bytes, dict]:
    """The app's lock: the one in the repo while its inputs are unchanged, else resolved with uv."""
    from n2a_gitops.deps import lock as locking

    tgt = locking.target(settings, conda_env.python_version if conda_env else None)
    path = root / folder / "src" / LOCK_FILE if root else None
    existing = path.read_bytes() if path and path.is_file() else None
    if refresh or locking.inputs_of(existing) != tgt.digest(requirements_txt):
        out.step(f"locking the requirements with uv for Python {tgt.python_version} on {tgt.python_platform}")
    data, kept = locking.lock_for(requirements_txt, tgt, existing=existing, preferences=preferences, refresh=refresh)
    info = {
        "path": f"{folder}/src/{LOCK_FILE}",
        "kept": kept,
        "packages": len(locking.pins(data)),
        "python": tgt.python_version,
        "platform": tgt.python_platform,
    }
    return data, info


def _build(files: dict[str, bytes], folder: str, root: Path | None, settings: Settings) -> list[dict]:
    """Build the overlay in a scratch copy (the repo's base, or n2a's own without a repo, plus
    the new files): the repo is not touched."""
    from n2a_gitops import kustomize, render

    with tempfile.TemporaryDirectory(prefix="n2a-build-") as tmp:
        scratch = Path(tmp)
        if root and (root / BASE_DIR).is_dir():
            shutil.copytree(root / BASE_DIR, scratch / BASE_DIR)
        else:
            files = {**{f"{BASE_DIR}/{rel}": c for rel, c in render.render_base(settings).items()}, **files}
        for rel, content in files.items():
            if rel.startswith((folder + "/", BASE_DIR + "/")):
                (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
                (scratch / rel).write_bytes(content)
        return kustomize.build(scratch / folder)


def _check(settings, app, manifests, application_yaml, root) -> list[str]:
    """The validation that CI runs on the GitOps repo, applied to this one app before commit."""
    from n2a_gitops import yamlio
    from n2a_gitops.validation import validate

    application = yamlio.load(application_yaml) if application_yaml else None
    crds = validate.crds_folder(root, settings, None) if root else None
    # The repo's own AppProject, as CI will use it (e.g. it may predate a secret store in n2a.yaml).
    project = validate.repo_project(root, settings) if root else None
    return [str(p) for p in validate.check_app(settings, app, manifests, application, crds, project=project)]


def publish(
    notebook,
    *,
    push: bool = False,
    dry_run: bool = False,
    check: bool = False,
    out: Output | None = None,
    push_timeout: float | None = None,
    **options,
) -> PublishResult:
    from n2a_gitops.config import push_timeout as resolve_timeout
    from n2a_gitops.gitrepo.repo import GitOpsRepo

    out = out or Output(quiet=True)
    prepared = prepare(notebook, out=out, **options)
    result = prepared.result
    if check:  # before anything touches the repo: a failed check commits nothing
        from n2a_gitops.preview import check as checking

        result.check = checking.run(prepared.manifests, out)
    if dry_run:
        result.dry_run = True
        return result

    repo = GitOpsRepo(prepared.repo_root)
    budget = resolve_timeout(prepared.settings, push_timeout)
    paths = app_paths(prepared.settings, prepared.app) + [p for p in prepared.files if p.startswith("blobs/")]
    # One lock from writing to pushing: another tab, the magic or a second process waits its turn.
    with repo.locked(budget, out):
        result.warnings += repo.recovered
        out.step(f"writing {prepared.app_dir} and committing")
        from n2a_gitops.validation.ownership import claim  # refuses a takeover; adds CODEOWNERS

        paths, files = claim(prepared, paths, options.get("owner"))
        result.commit = repo.replace_paths(paths, files, f"publish {prepared.app} from {Path(notebook).name}")
        result.changed = result.commit is not None
        if push:
            outcome = repo.push(out, budget, app=prepared.app)
            result.commit = outcome.live(result.commit)
            result.revision = outcome.head
            result.pushed = True
            result.push_attempts = outcome.attempts
            result.warnings += outcome.warnings
            result.notes += [
                f"{r['app']}: replaced {r['by']['sha'][:12]} from {r['by']['author']} ({r['by']['date']}), "
                "an older publish of the same app that reached the remote first"
                for r in outcome.replaced
            ]
            result.warnings += [
                f"{s['app']}: your earlier commit {s['commit'][:12]} was superseded by {s['by']['sha'][:12]} "
                f"from {s['by']['author']}; kept as {s['kept_as']}"
                for s in outcome.superseded
            ]
    return result
