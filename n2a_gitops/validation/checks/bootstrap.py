"""The admin's bootstrap in argocd/: the apps AppProject, and the root app-of-apps or the
ApplicationSet, whichever n2a.yaml says is in use."""

from __future__ import annotations

from n2a_gitops.layout import APPS_DIR, BASE_DIR
from n2a_gitops.layout import CHILD_APPS_DIR as ROOT_APP_DIR  # what the root app-of-apps syncs
from n2a_gitops.validation.checks.application import IN_CLUSTER
from n2a_gitops.validation.checks.problem import Problem, resource_id

APPSET_FILE = "argocd/applicationset.yaml"


def find_project(docs: dict[str, list[dict]], name: str) -> tuple[str, dict] | None:
    for file, items in docs.items():
        for doc in items:
            if doc.get("kind") == "AppProject" and (doc.get("metadata") or {}).get("name") == name:
                return file, doc
    return None


def check_project(settings, file: str, project: dict) -> list[Problem]:
    res = resource_id(project)
    spec = project.get("spec") or {}
    problems = []
    if spec.get("clusterResourceWhitelist"):
        problems.append(
            Problem(
                file,
                res,
                "appproject-cluster-kinds",
                "clusterResourceWhitelist is not empty: apps could create cluster-scoped resources",
                "set clusterResourceWhitelist: []",
            )
        )
    for dest in spec.get("destinations") or []:
        if dest.get("namespace") != settings.namespace or dest.get("server", IN_CLUSTER) != IN_CLUSTER:
            problems.append(
                Problem(
                    file,
                    res,
                    "appproject-destination",
                    f"destination {dest} is not the apps namespace {settings.namespace!r} in this cluster",
                    f"allow only server {IN_CLUSTER}, namespace {settings.namespace}",
                )
            )
    kinds = {
        (e.get("group"), e.get("kind")) for e in spec.get("namespaceResourceWhitelist") or [] if isinstance(e, dict)
    }
    if not settings.secretStore and ("external-secrets.io", "ExternalSecret") in kinds:
        problems.append(
            Problem(
                file,
                res,
                "appproject-externalsecret",
                "the AppProject allows ExternalSecret but n2a.yaml names no secret store (secretStore)",
                "remove the ExternalSecret entry, or set secretStore in n2a.yaml",
            )
        )
    repos = spec.get("sourceRepos") or []
    if "*" in repos or (settings.repoURL and repos != [settings.repoURL]):
        problems.append(
            Problem(
                file,
                res,
                "appproject-source",
                f"sourceRepos is {repos}; apps must come from this repository only",
                f"set sourceRepos: [{settings.repoURL or '<repoURL of n2a.yaml>'}]",
            )
        )
    return problems


def check_mode(settings, docs: dict[str, list[dict]]) -> list[Problem]:
    """Root app-of-apps (default) or ApplicationSet: the one in use exists and pins what it must."""
    apps = [(f, d) for f, items in docs.items() for d in items if d.get("kind") == "Application"]
    appsets = [(f, d) for f, items in docs.items() for d in items if d.get("kind") == "ApplicationSet"]
    if settings.applicationSet:
        if not appsets:
            return [
                Problem(
                    APPSET_FILE,
                    "",
                    "applicationset-missing",
                    "n2a.yaml says applicationSet: true but argocd/ holds no ApplicationSet",
                    "run `n2a init --applicationset` in a scratch folder and copy argocd/applicationset.yaml",
                )
            ]
        return [p for f, d in appsets for p in _check_appset(settings, f, d)]
    roots = [(f, d) for f, d in apps if ((d.get("spec") or {}).get("source") or {}).get("path") == ROOT_APP_DIR]
    if not roots:
        return [
            Problem(
                "argocd/root-app.yaml",
                "",
                "root-app-missing",
                f"no root Application syncs {ROOT_APP_DIR}/, so no app would ever be deployed",
                "restore argocd/root-app.yaml (see `n2a init`)",
            )
        ]
    problems = []
    for f, d in roots:
        if (d.get("spec") or {}).get("project") == settings.project:
            problems.append(
                Problem(
                    f,
                    resource_id(d),
                    "root-app-project",
                    f"the root app is in the apps AppProject {settings.project!r}, which may not create Applications",
                    f"use the bootstrap project ({settings.project}-bootstrap)",
                )
            )
    return problems


def _check_appset(settings, file: str, doc: dict) -> list[Problem]:
    res = resource_id(doc)
    spec = doc.get("spec") or {}
    tspec = ((spec.get("template") or {}).get("spec")) or {}
    problems = []

    def bad(rule, message, fix):
        problems.append(Problem(file, res, rule, message, fix))

    if tspec.get("project") != settings.project:
        bad(
            "applicationset-project",
            f"template.spec.project is {tspec.get('project')!r}, not {settings.project!r}",
            f"set it to {settings.project}",
        )
    dest = tspec.get("destination") or {}
    if dest.get("namespace") != settings.namespace or dest.get("server", IN_CLUSTER) != IN_CLUSTER:
        bad(
            "applicationset-destination",
            f"template.spec.destination is {dest}, not namespace {settings.namespace!r} in this cluster",
            f"set server {IN_CLUSTER}, namespace {settings.namespace}",
        )
    dirs = [d for g in spec.get("generators") or [] for d in ((g or {}).get("git") or {}).get("directories") or []]
    if not any(d.get("path") == f"{APPS_DIR}/*" and not d.get("exclude") for d in dirs):
        bad(
            "applicationset-generator",
            "the git generator does not list the directories apps/*",
            "add directories: [{path: apps/*}]",
        )
    if not any(d.get("path") == BASE_DIR and d.get("exclude") for d in dirs):
        bad(
            "applicationset-generator",
            f"the shared base {BASE_DIR} is not excluded: it would become an app",
            f"add {{path: {BASE_DIR}, exclude: true}}",
        )
    return problems


def check_limits(settings, docs: dict[str, list[dict]]) -> list[Problem]:
    """The apps namespace's LimitRange must admit what n2a.yaml lets an app ask for; without
    one (repos made before n2a wrote it) nothing caps containers n2a did not render."""
    from n2a_gitops import quantity

    problems = []
    for file, items in docs.items():
        for doc in items:
            if doc.get("kind") != "LimitRange" or (doc.get("metadata") or {}).get("namespace") != settings.namespace:
                continue
            for limit in (doc.get("spec") or {}).get("limits") or []:
                if not isinstance(limit, dict) or limit.get("type") != "Container":
                    continue
                for key in ("cpu", "memory"):
                    cap = (limit.get("max") or {}).get(key)
                    try:
                        low = cap is not None and quantity.parse(cap) < quantity.parse(settings.maxResources[key])
                    except ValueError:
                        low = False  # the Kubernetes schema check names a broken quantity
                    if low:
                        problems.append(
                            Problem(
                                file,
                                resource_id(doc),
                                "limitrange-max",
                                f"max.{key} {cap} is below maxResources.{key} {settings.maxResources[key]} of n2a.yaml: "
                                "the API server would refuse pods n2a lets users publish",
                                f"set max.{key} to {settings.maxResources[key]} (as `n2a init` writes it) or lower maxResources.{key}",
                            )
                        )
    return problems
