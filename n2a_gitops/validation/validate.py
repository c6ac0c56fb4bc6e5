"""`n2a validate`: offline, what Argo CD and the API server would say about the GitOps repo.

For every app (or those touched since a revision): the child Application is pinned to the apps
AppProject, namespace and folder; `kustomize build` passes; every manifest is strictly valid for
the Kubernetes version of n2a.yaml and every Argo CD resource against its CRD; the AppProject
allows every kind; pods meet Pod Security "restricted"; ConfigMaps stay within 1 MiB; hosts and
names are unique and each folder belongs to the owner its resources name; pods stay within the
resource maxima of n2a.yaml and read only the Secrets (and store keys) its rule allows.

``publish`` runs ``check_app`` on one freshly built app before committing; the GitOps repo's CI
runs ``validate_repo`` (the server-side gate: users can push anything to git).
"""

from __future__ import annotations

import re
from pathlib import Path

from n2a_gitops.errors import NotFoundError
from n2a_gitops.layout import app_dir, application_file
from n2a_gitops.validation import scope
from n2a_gitops.validation.checks import access, bootstrap, overlay, resources, routing, scaling, secrets
from n2a_gitops.validation.checks import application as app_checks
from n2a_gitops.validation.checks.problem import Problem, resource_id
from n2a_gitops.validation.repofiles import (
    CRD_SKIPPED,
    EXTERNAL_SECRET_CRD_SKIPPED,
    argocd_schema,
    check_bootstrap,
    crds_folder,
    crds_with,
    gateway_crds,
    load_argocd,
    repo_project,
)

__all__ = ["Problem", "check_app", "validate_repo", "crds_folder", "repo_project"]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_app(
    settings,
    app: str,
    manifests: list[dict],
    application: dict | None,
    crds_dir: Path | None,
    *,
    project: dict | None = None,
    notes: list[str] | None = None,
) -> list[Problem]:
    """Every rule for one app, given its built manifests and its child Application (if any)."""
    from n2a_gitops.names import MAX_APP_ID
    from n2a_gitops.validation.checks.project import default_project
    from n2a_gitops.validation.checks.schemas import bundled_version

    folder = app_dir(app)
    app_file = application_file(app)
    problems: list[Problem] = []
    if not DNS1123_LABEL.match(app) or len(app) > MAX_APP_ID:
        problems.append(
            Problem(
                folder,
                "",
                "app-name",
                f"app id {app!r} is not a DNS-1123 label of at most {MAX_APP_ID} characters",
                "publish again with `n2a publish` (it normalises the name)",
            )
        )
    version, note = bundled_version(settings.kubernetesVersion)
    if note and notes is not None and note not in notes:
        notes.append(note)
    project = project or default_project(settings)
    problems += overlay.check_manifests(settings, app, manifests, project, version, folder)
    if any(isinstance(d, dict) and routing.is_gateway_api(d) for d in manifests):
        problems += routing.check_routes(settings, app, manifests, gateway_crds(crds_dir, notes), folder)
    problems += access.check_access(settings, app, manifests, folder)
    problems += resources.check_resources(settings, manifests, folder)
    problems += scaling.check_scaling(settings, app, manifests, crds_dir, folder, notes)
    external = any(isinstance(d, dict) and secrets.is_external_secret(d) for d in manifests)
    problems += secrets.check_secrets(
        settings,
        app,
        overlay.owner_of(manifests) or "",
        manifests,
        folder,
        crds_with(crds_dir, secrets.GROUP, secrets.KIND, EXTERNAL_SECRET_CRD_SKIPPED, notes) if external else None,
    )

    if settings.applicationSet:
        if application is not None:
            problems.append(
                Problem(
                    app_file,
                    resource_id(application),
                    "application-unexpected",
                    "n2a.yaml says an ApplicationSet generates the apps; this child Application is never synced",
                    f"delete {app_file}",
                )
            )
        return problems
    problems += app_checks.check_application(settings, app, application, app_file)
    if isinstance(application, dict):
        problems += argocd_schema(application, app_file, crds_dir)
        problems += _application_owner(application, overlay.owner_of(manifests), app_file)
    return problems


def validate_repo(
    root,
    settings,
    apps: list[str] | None = None,
    changed_since: str | None = None,
    crds_dir: Path | None = None,
    notes: list[str] | None = None,
    *,
    batch: bool = True,
    actor: str | None = None,
) -> list[Problem]:
    """Problems of the whole repo (or of ``apps``, or of what a change since ``changed_since``
    touches). ``actor``: who made the change (ownership is checked with ``changed_since``).

    ``batch=False`` builds each app in a kustomize process of its own (as Argo CD does); the
    problems are the same either way, batching is only faster."""
    from n2a_gitops.validation import ownership
    from n2a_gitops.validation.gate import admin

    root = Path(root)
    notes = notes if notes is not None else []
    problems: list[Problem] = []
    everything = not apps
    if changed_since:
        changed = scope.changed(root, changed_since)
        rules = admin.rules_at(root, changed_since) or settings
        if actor:
            problems += ownership.check_changes(root, changed_since, changed, actor, rules)
        if not (actor and ownership.is_admin(actor, rules)):
            # A commit cannot loosen the rules it is judged by: n2a.yaml (and so the base) at REV.
            if rules.to_dict() != settings.to_dict():
                notes.append(f"judged by n2a.yaml as of {changed_since} (only an admin's commit may change it)")
            settings = rules
        selected, everything = scope.select(root, changed)
        notes.append(
            f"changed since {changed_since}: {len(selected)} app(s)"
            + (", the bootstrap and the shared base" if everything else "")
        )
    elif apps:
        known = set(scope.select(root, ["n2a.yaml"])[0])
        missing = [a for a in apps if a not in known]
        if missing:
            raise NotFoundError(
                f"no app {', '.join(missing)} in {root}",
                f"pick from: {', '.join(sorted(known))}" if known else "publish an app first",
            )
        selected = list(apps)
    else:
        selected = scope.select(root, ["n2a.yaml"])[0]
    if changed_since and not actor:
        notes.append(ownership.NOT_CHECKED)

    schemas = _schemas_in_background(settings)
    crds = crds_folder(root, settings, crds_dir)
    if crds is None:
        notes.append(CRD_SKIPPED)
    if settings.accessAllowed != ["public"]:
        from n2a_gitops.validation.checks.proxyconfig import image_note

        note = image_note(settings.oauth2ProxyImage)
        if note:
            notes.append(note)
    argocd_docs, loaded = load_argocd(root)
    problems += loaded
    found = bootstrap.find_project(argocd_docs, settings.project)
    project = found[1] if found else None
    if everything:
        problems += check_bootstrap(root, settings, argocd_docs, crds, found, notes)
        problems += admin.check_admin_files(root, settings)
    problems += _check_apps(
        root, settings, selected, crds, project, notes, conflicts=not apps, batch=batch, schemas=schemas
    )
    from n2a_gitops.validation.checks import blobs as blob_check  # each blob named by its hash, each reference there

    problems += blob_check.problems(root, None if everything else selected)
    return most_specific(problems)


def _malformed(folder: str, exc: Exception) -> Problem:
    return Problem(
        folder,
        "",
        "malformed",
        f"a field of the app's manifests has the wrong type or shape ({type(exc).__name__}: {exc})",
        "re-publish the app with `n2a publish`; `kubectl kustomize " + folder + "` shows the manifests",
    )


def most_specific(problems: list[Problem]) -> list[Problem]:
    """Where a specific rule already refuses an app (or an admin file), its generic allowlist
    problems ("not what n2a renders") are left out: the one that says what is wrong is named.
    The app stays refused either way; what is left shows up once the specific one is fixed."""
    from n2a_gitops.layout import app_of
    from n2a_gitops.validation.gate import GATE_RULES

    def key(p: Problem) -> str:
        return app_of(p.file) or app_of(p.file + "/x") or p.file

    explained = {key(p) for p in problems if p.rule not in GATE_RULES and p.rule not in ("app-owner", "admin-path")}
    return [p for p in problems if p.rule not in GATE_RULES or key(p) not in explained]


def _schemas_in_background(settings):
    """Import the schema library (0.1 s of CPU) while git and kustomize run in their processes:
    a check of one changed app would otherwise wait for each in turn."""
    import threading

    from n2a_gitops.validation.checks.schemas import bundled_version

    def load():
        try:
            bundled_version(settings.kubernetesVersion)
        except Exception:  # the check itself will meet the same trouble and report it
            pass

    thread = threading.Thread(target=load, name="n2a-schemas", daemon=True)
    thread.start()
    return thread


def _check_apps(root, settings, selected, crds, project, notes, conflicts: bool, batch: bool, schemas) -> list[Problem]:
    from n2a_gitops import kustomize
    from n2a_gitops.validation import batchbuild
    from n2a_gitops.validation.gate import sources

    if selected:
        kustomize.find_kustomize()  # no binary: one clear error, not one problem per app
    # Nothing remote is ever fetched: an app (or a base) that names a URL or Helm is not built.
    refused = {app: sources.check_sources(root, app) for app in selected}
    blocking = {app: [p for p in found if p.rule in sources.BLOCKING] for app, found in refused.items()}
    if selected and not sources.base_is_local(root):
        refused = {
            app: [
                Problem(
                    app_dir(app),
                    "",
                    "remote-source",
                    "the shared base names a remote source",
                    "restore apps/_base (what `n2a init` renders)",
                )
            ]
            for app in selected
        }
        blocking = refused
    buildable = [app for app in selected if not blocking[app]]
    # Many apps per kustomize process, on every core (batchbuild.py): the same manifests and
    # errors per app as one build each, at a fraction of the cost on a repo of many apps.
    built = batchbuild.build_all(root, buildable, batch=batch)
    schemas.join()
    problems = [p for app in selected for p in refused[app]]
    return problems + _check_built(root, settings, built, crds, project, notes, conflicts)


def _check_built(root, settings, built, crds, project, notes, conflicts: bool) -> list[Problem]:
    """Check each app as its build arrives (in order), then the conflicts between the apps
    checked (every app, or those a change touches and those it could clash with)."""
    from n2a_gitops.lifecycle import app_names
    from n2a_gitops.validation.gate.compare import compare_app

    problems: list[Problem] = []
    hosts: dict[str, set[str]] = {}
    names: dict[tuple, set[str]] = {}
    known = app_names(root)  # every app of the repo, also when only some are checked
    for app, manifests, error in built:
        folder = app_dir(app)
        app_file = application_file(app)
        application, parse_problem = _read_application(root, app_file)
        if parse_problem:
            problems.append(parse_problem)
        if not (root / folder).is_dir():
            problems.append(
                Problem(
                    app_file,
                    resource_id(application or {}),
                    "application-folder",
                    f"points at {folder}, which does not exist",
                    f"delete {app_file} or restore {folder} (n2a delete {app})",
                )
            )
            continue
        if manifests is None:
            problems.append(
                Problem(
                    folder,
                    "",
                    "kustomize-build",
                    error or "no kustomization.yaml",
                    "fix the overlay (or re-publish the app); `kubectl kustomize " + folder + "` shows the same error",
                )
            )
            continue
        try:
            problems += check_app(settings, app, manifests, application, crds, project=project, notes=notes)
            problems += secrets.check_other_apps_secrets(app, manifests, known, folder)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            # A field of the wrong type (a hand edit) that a rule met before the schema check
            # named it: one problem for the app, never a traceback.
            problems.append(_malformed(folder, exc))
        problems += compare_app(settings, root, app)[0]
        for doc in manifests:
            try:
                for host in overlay.hosts_of(doc) if isinstance(doc, dict) else ():
                    hosts.setdefault(host, set()).add(app)
                meta = doc.get("metadata") if isinstance(doc, dict) else None
                meta = meta if isinstance(meta, dict) else {}
                names.setdefault((doc.get("kind"), meta.get("namespace"), meta.get("name")), set()).add(app)
            except (AttributeError, TypeError):
                continue  # a malformed resource: the app's own checks name it
    if conflicts:
        for host, owners in sorted(hosts.items()):
            if len(owners) > 1:
                for app in sorted(owners):
                    others = ", ".join(sorted(owners - {app}))
                    problems.append(
                        Problem(
                            app_dir(app),
                            "",
                            "host-conflict",
                            f"host {host} is also claimed by {others}",
                            "each app serves only its own host <app>.<appsDomain>",
                        )
                    )
        for (kind, _ns, name), owners in sorted(names.items(), key=str):
            if len(owners) > 1:
                for app in sorted(owners):
                    problems.append(
                        Problem(
                            app_dir(app),
                            f"{kind}/{name}",
                            "resource-conflict",
                            f"{kind}/{name} is also produced by {', '.join(sorted(owners - {app}))}",
                            "keep each app's namePrefix <app>-",
                        )
                    )
    return problems


def _application_owner(application: dict, owner: str | None, file: str) -> list[Problem]:
    labels = (application.get("metadata") or {}).get("labels") or {}
    info = {
        i.get("name"): i.get("value") for i in (application.get("spec") or {}).get("info") or [] if isinstance(i, dict)
    }
    claimed = {v for v in (labels.get(overlay.OWNER_LABEL), info.get("owner")) if v is not None}
    if owner and claimed and claimed != {owner}:
        return [
            Problem(
                file,
                resource_id(application),
                "ownership",
                f"the child Application names owner {', '.join(sorted(claimed))} but the app's resources say {owner!r}",
                "re-publish the app; do not edit other users' apps",
            )
        ]
    return []


def _read_application(root: Path, app_file: str) -> tuple[dict | None, Problem | None]:
    import yaml

    from n2a_gitops import yamlio

    path = root / app_file
    if not path.is_file():
        return None, None
    try:
        docs = [d for d in yamlio.load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, Problem(app_file, "", "yaml", f"not valid YAML: {exc}".replace("\n", " "), "fix or re-publish")
    if len(docs) != 1 or not isinstance(docs[0], dict):
        return None, Problem(
            app_file,
            "",
            "application-file",
            "must hold exactly one Application",
            "one file per app; re-publish the app",
        )
    return docs[0], None
