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

from n2a_gitops.errors import NotFoundError, UsageError
from n2a_gitops.layout import APPS_DIR, BASE_DIR, CHILD_APPS_DIR, app_dir, application_file
from n2a_gitops.validation.checks import access, bootstrap, overlay, resources, routing, scaling, secrets
from n2a_gitops.validation.checks import application as app_checks
from n2a_gitops.validation.checks.problem import Problem, resource_id

__all__ = ["Problem", "check_app", "validate_repo", "crds_folder"]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CRD_SKIPPED = (
    "CRDs not given (crdsDir in n2a.yaml or --crds DIR): checked only the Argo CD "
    "fields n2a writes (and the ExternalSecret fields n2a allows); the full CRD check was skipped"
)
GATEWAY_CRD_SKIPPED = (
    "Gateway API CRDs not found (add them to the folder of crdsDir in n2a.yaml or --crds DIR): "
    "checked only the HTTPRoute and Gateway fields n2a writes; the full CRD check was skipped"
)
EXTERNAL_SECRET_CRD_SKIPPED = (
    "the ExternalSecret CRD was not found (add it to the folder of crdsDir in n2a.yaml or "
    "--crds DIR: kubectl get crd externalsecrets.external-secrets.io -o yaml): checked only "
    "the ExternalSecret fields n2a allows; the full CRD check was skipped"
)


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
        problems += routing.check_routes(settings, app, manifests, _gateway_crds(crds_dir, notes), folder)
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
        _crds_with(crds_dir, secrets.GROUP, secrets.KIND, EXTERNAL_SECRET_CRD_SKIPPED, notes) if external else None,
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
        problems += _argocd_schema(application, app_file, crds_dir)
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
) -> list[Problem]:
    """Problems of the whole repo (or of ``apps``, or of the apps touched since ``changed_since``).

    ``batch=False`` builds each app in a kustomize process of its own (as Argo CD does); the
    problems are the same either way, batching is only faster."""
    from n2a_gitops.lifecycle import app_names

    root = Path(root)
    notes = notes if notes is not None else []
    schemas = _schemas_in_background(settings)
    crds = crds_folder(root, settings, crds_dir)
    if crds is None:
        notes.append(CRD_SKIPPED)
    if settings.accessAllowed != ["public"]:
        from n2a_gitops.validation.checks.proxyconfig import image_note

        note = image_note(settings.oauth2ProxyImage)
        if note:
            notes.append(note)
    argocd_docs, problems = _load_argocd(root)

    found = bootstrap.find_project(argocd_docs, settings.project)
    project = found[1] if found else None
    check_bootstrap = not apps
    if changed_since:
        changed = _changed(root, changed_since)
        touched = _touched_apps(changed)
        selected = sorted(touched & _existing_apps(root, touched))
        check_bootstrap = any(_is_shared(p) for p in changed)
        if check_bootstrap:  # the base or the settings changed: every app is affected
            selected = sorted(set(app_names(root)) | set(_child_apps(root)))
        notes.append(
            f"changed since {changed_since}: {len(selected)} app(s)"
            + (", the bootstrap and the shared base" if check_bootstrap else "")
        )
    elif apps:
        known = set(app_names(root)) | set(_child_apps(root))
        missing = [a for a in apps if a not in known]
        if missing:
            raise NotFoundError(
                f"no app {', '.join(missing)} in {root}",
                f"pick from: {', '.join(sorted(known))}" if known else "publish an app first",
            )
        selected = list(apps)
    else:
        selected = sorted(set(app_names(root)) | set(_child_apps(root)))

    if check_bootstrap:
        problems += _check_bootstrap(root, settings, argocd_docs, crds, found, notes)
    problems += _check_apps(
        root, settings, selected, crds, project, notes, full=not (apps or changed_since), batch=batch, schemas=schemas
    )
    return problems


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


def _gateway_crds(crds: Path | None, notes: list[str] | None) -> Path | None:
    """The CRD folder for Gateway API kinds; None (and a note) when it holds none of them."""
    if crds is not None:
        from n2a_gitops.validation.crdschema import has_kind

        if has_kind(crds, routing.GROUP, "HTTPRoute"):
            return crds
    if notes is not None and GATEWAY_CRD_SKIPPED not in notes:
        notes.append(GATEWAY_CRD_SKIPPED)
    return None


def _crds_with(crds: Path | None, group: str, kind: str, skipped: str, notes: list[str] | None) -> Path | None:
    """The CRD folder when it defines ``kind``; None (and the note ``skipped``) otherwise."""
    if crds is not None:
        from n2a_gitops.validation.crdschema import has_kind

        if has_kind(crds, group, kind):
            return crds
    if notes is not None and skipped not in notes:
        notes.append(skipped)
    return None


def repo_project(root: Path, settings) -> dict | None:
    """The apps AppProject in the repo's argocd/, None when there is none (or it is unreadable)."""
    found = bootstrap.find_project(_load_argocd(Path(root))[0], settings.project)
    return found[1] if found else None


def crds_folder(root: Path, settings, explicit: Path | None) -> Path | None:
    chosen = explicit or (settings.crdsDir or None)
    if not chosen:
        return None
    path = Path(chosen)
    if not path.is_absolute() and not explicit:
        path = root / path
    if not path.is_dir():
        raise UsageError(
            f"the CRDs folder {path} does not exist",
            "export them: kubectl get crd applications.argoproj.io appprojects.argoproj.io "
            "applicationsets.argoproj.io -o yaml > DIR/argocd-crds.yaml (with routing gateway also "
            "httproutes.gateway.networking.k8s.io gateways.gateway.networking.k8s.io > DIR/gateway-api.yaml)",
        )
    return path


# -- per app ---------------------------------------------------------------------------------


def _check_apps(root, settings, selected, crds, project, notes, full: bool, batch: bool, schemas) -> list[Problem]:
    from n2a_gitops import kustomize
    from n2a_gitops.validation import batchbuild

    if selected:
        kustomize.find_kustomize()  # no binary: one clear error, not one problem per app
    # Many apps per kustomize process, on every core (batchbuild.py): the same manifests and
    # errors per app as one build each, at a fraction of the cost on a repo of many apps.
    built = batchbuild.build_all(root, selected, batch=batch)
    schemas.join()
    return _check_built(root, settings, built, crds, project, notes, full)


def _check_built(root, settings, built, crds, project, notes, full: bool) -> list[Problem]:
    """Check each app as its build arrives (in order), then the conflicts between apps."""
    from n2a_gitops.lifecycle import app_names

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
        problems += check_app(settings, app, manifests, application, crds, project=project, notes=notes)
        problems += secrets.check_other_apps_secrets(app, manifests, known, folder)
        for doc in manifests:
            if isinstance(doc, dict):
                for host in overlay.hosts_of(doc):
                    hosts.setdefault(host, set()).add(app)
                key = (
                    doc.get("kind"),
                    (doc.get("metadata") or {}).get("namespace"),
                    (doc.get("metadata") or {}).get("name"),
                )
                names.setdefault(key, set()).add(app)
    if full:
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


def _argocd_schema(doc: dict, file: str, crds: Path | None) -> list[Problem]:
    if crds is None:
        return app_checks.own_field_checks(doc, file)
    from n2a_gitops.validation.crdschema import validate_against_crds

    res = resource_id(doc)
    return [
        Problem(
            file,
            res,
            "argocd-crd",
            line.split(": ", 1)[1] if ": " in line else line,
            "fix the field (see the Argo CD CRD); `n2a publish` writes valid ones",
        )
        for line in validate_against_crds(doc, crds)
    ]


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


# -- the bootstrap in argocd/ ----------------------------------------------------------------


def _load_argocd(root: Path) -> tuple[dict[str, list[dict]], list[Problem]]:
    import yaml

    from n2a_gitops import yamlio

    docs: dict[str, list[dict]] = {}
    problems = []
    folder = root / "argocd"
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
        rel = str(path.relative_to(root))
        try:
            items = [d for d in yamlio.load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(Problem(rel, "", "yaml", f"not valid YAML: {exc}".replace("\n", " "), "fix the syntax"))
            continue
        docs[rel] = [d for d in items if d.get("kind") != "Kustomization"]
    return docs, problems


def _check_bootstrap(root, settings, docs, crds, found, notes) -> list[Problem]:
    from n2a_gitops.validation.checks.schemas import bundled_version, kubernetes_errors

    problems = []
    if found is None:
        problems.append(
            Problem(
                "argocd/",
                "",
                "appproject-missing",
                f"no AppProject {settings.project!r} in argocd/",
                "restore argocd/project-apps.yaml (see `n2a init`)",
            )
        )
    else:
        problems += bootstrap.check_project(settings, *found)
    problems += bootstrap.check_mode(settings, docs)
    if settings.routing == "gateway" or any(routing.is_gateway_api(d) for items in docs.values() for d in items):
        problems += routing.check_gateway(settings, docs, _gateway_crds(crds, notes), notes)
    problems += bootstrap.check_limits(settings, docs)
    version, _note = bundled_version(settings.kubernetesVersion)
    for file, items in docs.items():
        for doc in items:
            if routing.is_gateway_api(doc):
                continue  # checked above, against the Gateway API CRDs
            if str(doc.get("apiVersion", "")).startswith("argoproj.io/"):
                if crds is not None:
                    problems += _argocd_schema(doc, file, crds)
                elif doc.get("kind") == "Application":
                    problems += app_checks.own_field_checks(doc, file)
            else:
                problems += [
                    Problem(file, resource_id(doc), "kubernetes-schema", e, "fix the field")
                    for e in kubernetes_errors(doc, version)
                ]
    return problems


# -- which apps ------------------------------------------------------------------------------


def _child_apps(root: Path) -> list[str]:
    folder = root / CHILD_APPS_DIR
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def _changed(root: Path, since: str) -> list[str]:
    from n2a_gitops.gitrepo.repo import changed_since

    return changed_since(root, since)


def _is_shared(path: str) -> bool:
    return (
        path == "n2a.yaml"
        or path.startswith(BASE_DIR + "/")
        or (path.startswith("argocd/") and not path.startswith(CHILD_APPS_DIR + "/"))
    )


def _touched_apps(changed: list[str]) -> set[str]:
    touched = set()
    for path in changed:
        parts = path.split("/")
        if len(parts) >= 3 and parts[0] == "apps" and parts[1] != "_base":
            touched.add(parts[1])
        elif path.startswith(CHILD_APPS_DIR + "/") and path.endswith(".yaml"):
            touched.add(Path(path).stem)
    return touched


def _existing_apps(root: Path, names: set[str]) -> set[str]:
    """Which of ``names`` app_names() or _child_apps() would list, asked of those names only:
    a change to one app should not cost a listing of thousands."""
    base = Path(BASE_DIR).name
    return {
        n
        for n in names
        if (n != base and not n.startswith(".") and (root / APPS_DIR / n).is_dir())
        or (root / CHILD_APPS_DIR / f"{n}.yaml").exists()
    }
