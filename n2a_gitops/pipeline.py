"""The publish pipeline: notebook -> converted code -> rendered overlay -> built -> committed.

``prepare()`` takes a ``PublishRequest`` and runs the named STAGES (n2a_gitops/stages/), none of
which touches the repository: it is also the dry run and what `n2a preview` starts from.
``publish()`` writes the app's files and commits them (and pushes when asked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from n2a_gitops.config import Settings
from n2a_gitops.layout import app_paths
from n2a_gitops.model import PublishResult
from n2a_gitops.output import Output
from n2a_gitops.request import PublishRequest
from n2a_gitops.stages import Draft, build, convert, files, inputs, overlay, requirements

# Kept importable from here (tests, benchmarks): the stage helpers they used to reach.
from n2a_gitops.stages.files import configmaps as _configmaps  # noqa: F401
from n2a_gitops.stages.overlay import probes as _probes  # noqa: F401

# In order. A check that must stop a publish before any work (the owner of an existing app,
# say) is a stage of its own right after "inputs"; one that needs the built app goes after "build".
STAGES = (
    ("inputs", inputs.resolve),
    ("convert", convert.convert),
    ("requirements", requirements.requirements),
    ("files", files.files),
    ("render", overlay.render),
    ("build", build.build_and_check),
)


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
    request: PublishRequest | None = None


def prepare(
    request,
    *,
    out: Output | None = None,
    need_repo: bool = True,
    kernel=None,
    preferences=None,
    **options,
) -> Prepared:
    """Everything but the commit. REQUEST: a PublishRequest (or a notebook path plus its options
    as keywords, built into one). KERNEL: the notebook's running kernel when there is one
    (``ConnectedKernel`` from JupyterLab, ``ThisKernel`` from the magic). NEED_REPO: False lets a
    notebook be prepared outside any GitOps clone (n2a's default settings). PREFERENCES:
    {distribution: version} to keep when resolving the lock (default: the kernel's versions).
    """
    request = PublishRequest.of(request, **options)
    d = Draft(request, out or Output(quiet=True), kernel=kernel, need_repo=need_repo, preferences=preferences)
    for _name, stage in STAGES:
        stage(d)
    return Prepared(
        d.settings,
        d.root,
        d.app,
        d.folder,
        d.files,
        d.manifests,
        _result(d),
        d.kernel_env.environment.versions(),
        request,
    )


def _result(d: Draft) -> PublishResult:
    from n2a_gitops.pod import access as access_mod

    sizes = [{"path": p, "bytes": len(c)} for p, c in sorted(d.files.items())]
    converted, kernel_env = d.converted, d.kernel_env
    result = PublishResult(
        app=d.app,
        framework=d.runtime.name,
        path=d.folder,
        commit=None,
        url=d.url,
        requirements=[r.spec for r in d.requirement_list],
        warnings=d.warnings,
        pushed=False,
        name=d.ident.name,
        owner=d.ident.owner,
        evidence=list(d.detection.evidence),
        requirement_sources=[{"spec": r.spec, "source": r.source, "origin": r.origin} for r in d.requirement_list],
        files=sizes,
        data_files=d.read.entries,
        application=d.application_path,
        notes=[*d.ident.notes, *d.notes],
        access=d.access.spec,
        access_detail=access_mod.describe(d.access),
        brought_in=[dict(b) for b in converted.brought_in],
        resources=d.resources.summary(),
        secret_env=[r.to_dict() for r in d.secret_refs],
        environment=kernel_env.describe(),
        run_time=dict(kernel_env.run_time),
        lock=d.lock[1] if d.lock else None,
        warmup=bool(d.warm and d.declared.warmup),
        current=_current(d.current),
    )
    if d.settings.scaleToZero:
        result.notes.append(
            f"scale to zero: after {d.scaling.idle} without visitors the app stops; the next visit wakes it"
            if d.scaling.enabled
            else "always on: the app keeps its pod while nobody visits (--always-on)"
        )
    if d.declared.warmup:
        result.notes.append(
            "start-up: the pod runs the code once before it serves, so broken code never looks healthy"
            if d.warm
            else f"start-up: no warm-up ({d.why_warm}): the code runs only when someone opens the app"
        )
    return result


def _current(now: dict | None) -> dict | None:
    """The app's values before this publish, for the plan (the dialog shows a change as a change)."""
    if now is None:
        return None
    return {k: now[k] for k in ("path", "access", "resources", "secret_env", "kept")}


def publish(request, *, out: Output | None = None, kernel=None, **options) -> PublishResult:
    """Prepare REQUEST (a PublishRequest, or a notebook and its options), then unless it is a dry
    run: check it when asked, commit, and push when asked."""
    from n2a_gitops.config import push_timeout as resolve_timeout
    from n2a_gitops.gitrepo.repo import GitOpsRepo

    out = out or Output(quiet=True)
    request = PublishRequest.of(request, **options)
    prepared = prepare(request, out=out, kernel=kernel)
    result = prepared.result
    if request.check:  # before anything touches the repo: a failed check commits nothing
        from n2a_gitops.preview import check as checking

        prepared = checking.run_learning(prepared, lambda: prepare(request, out=out, kernel=kernel), out)
        result = prepared.result
    if request.dry_run:
        result.dry_run = True
        return result

    assert prepared.repo_root is not None  # prepared with need_repo=True: find_repo found the clone
    repo = GitOpsRepo(prepared.repo_root)
    budget = resolve_timeout(prepared.settings, request.push_timeout)
    # The app's own paths, and the blobs its data needs (content-addressed: shared, never rewritten).
    paths = app_paths(prepared.settings, prepared.app) + [p for p in prepared.files if p.startswith("blobs/")]
    # One lock from writing to pushing: another tab, the magic or a second process waits its turn.
    with repo.locked(budget, out):
        result.warnings += repo.recovered
        out.step(f"writing {prepared.app_dir} and committing")
        message = f"publish {prepared.app} from {request.notebook.name}"
        # The owner's check: refuses to take over another's app, and adds CODEOWNERS to what is written.
        from n2a_gitops.validation.ownership import claim

        paths, written = claim(prepared, paths, request.owner)
        result.commit = repo.replace_paths(paths, written, message)
        result.changed = result.commit is not None
        if request.push:
            _push(repo, out, budget, prepared.app, result)
    return result


def _push(repo, out: Output, budget, app: str, result: PublishResult) -> None:
    outcome = repo.push(out, budget, app=app)
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
