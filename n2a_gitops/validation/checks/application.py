"""The child Application of an app (app-of-apps mode): it must be pinned to the apps AppProject,
namespace and folder, since whoever writes it could otherwise pick any project or destination."""

from __future__ import annotations

from n2a_gitops.layout import app_dir
from n2a_gitops.validation.checks.problem import Problem, resource_id

IN_CLUSTER = "https://kubernetes.default.svc"
FINALIZER = "resources-finalizer.argocd.argoproj.io"

# The Argo CD fields n2a writes and relies on, for the check without CRDs (closed sets: a typo
# such as `syncPolicyy` would otherwise be pruned silently by the API server).
KNOWN = {
    "": {"apiVersion", "kind", "metadata", "spec"},
    "metadata": {"name", "namespace", "labels", "annotations", "finalizers"},
    "spec": {"project", "source", "destination", "syncPolicy", "info", "ignoreDifferences", "revisionHistoryLimit"},
    "spec.source": {"repoURL", "path", "targetRevision", "directory"},  # directory: the root app's
    "spec.source.directory": {"include", "exclude", "recurse"},
    "spec.destination": {"server", "name", "namespace"},
    "spec.syncPolicy": {"automated", "syncOptions", "retry", "managedNamespaceMetadata"},
    "spec.syncPolicy.automated": {"prune", "selfHeal", "allowEmpty", "enabled"},
    "spec.syncPolicy.retry": {"limit", "backoff"},
    "spec.syncPolicy.retry.backoff": {"duration", "factor", "maxDuration"},
}


def check_application(settings, app: str, doc, file: str) -> list[Problem]:
    if not isinstance(doc, dict):
        return [
            Problem(
                file,
                "",
                "application-missing",
                f"no child Application for app {app}",
                f"re-publish the app (n2a publish) to write {file}",
            )
        ]
    res = resource_id(doc)
    problems: list[Problem] = []

    def bad(rule, message, fix):
        problems.append(Problem(file, res, rule, message, fix))

    meta = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    source = spec.get("source") or {}
    dest = spec.get("destination") or {}
    if doc.get("kind") != "Application" or doc.get("apiVersion") != "argoproj.io/v1alpha1":
        bad(
            "application-kind",
            f"expected an argoproj.io/v1alpha1 Application, found {doc.get('apiVersion')} {doc.get('kind')}",
            "re-publish the app to regenerate it",
        )
    if meta.get("name") != app:
        bad(
            "application-name",
            f"metadata.name is {meta.get('name')!r}, but the file and folder are for {app!r}",
            f"set metadata.name: {app}",
        )
    if meta.get("namespace") != settings.argocdNamespace:
        bad(
            "application-namespace",
            f"metadata.namespace is {meta.get('namespace')!r}, not Argo CD's {settings.argocdNamespace!r}",
            f"set metadata.namespace: {settings.argocdNamespace}",
        )
    if spec.get("project") != settings.project:
        bad(
            "application-project",
            f"spec.project is {spec.get('project')!r}; every app must be pinned to AppProject {settings.project!r}",
            f"set spec.project: {settings.project}",
        )
    if dest.get("namespace") != settings.namespace:
        bad(
            "application-destination",
            f"spec.destination.namespace is {dest.get('namespace')!r}, not the apps namespace {settings.namespace!r}",
            f"set spec.destination.namespace: {settings.namespace}",
        )
    if dest.get("server", IN_CLUSTER) != IN_CLUSTER or dest.get("name", "in-cluster") != "in-cluster":
        bad(
            "application-destination",
            f"spec.destination points at another cluster ({dest.get('server') or dest.get('name')})",
            f"set spec.destination.server: {IN_CLUSTER}",
        )
    if "sources" in spec or "sourceHydrator" in spec:
        bad(
            "application-source",
            "spec.sources / sourceHydrator are not allowed: an app has exactly its own folder as source",
            "use spec.source only",
        )
    if source.get("path") != app_dir(app):
        bad(
            "application-source",
            f"spec.source.path is {source.get('path')!r}, not the app's folder apps/{app}",
            f"set spec.source.path: apps/{app}",
        )
    if settings.repoURL and source.get("repoURL") != settings.repoURL:
        bad(
            "application-source",
            f"spec.source.repoURL is {source.get('repoURL')!r}, not this repository ({settings.repoURL})",
            f"set spec.source.repoURL: {settings.repoURL}",
        )
    overrides = sorted(k for k in ("helm", "kustomize", "plugin", "directory", "chart") if k in source)
    if overrides:
        bad(
            "application-source",
            f"spec.source carries {', '.join(overrides)} overrides; everything must be in the committed kustomization",
            f"remove spec.source.{overrides[0]}",
        )
    if FINALIZER not in (meta.get("finalizers") or []):
        bad(
            "application-finalizer",
            "the resources finalizer is missing: deleting the app would leave its pods running",
            f"add metadata.finalizers: [{FINALIZER}]",
        )
    return problems


def own_field_checks(doc: dict, file: str) -> list[Problem]:
    """Without CRDs: unknown fields among those n2a writes, and their basic types."""
    problems = []
    res = resource_id(doc)
    for path, allowed in KNOWN.items():
        node = _get(doc, path)
        if node is None:
            continue
        if not isinstance(node, dict):
            problems.append(
                Problem(
                    file,
                    res,
                    "argocd-schema",
                    f"{path or '(root)'} must be a mapping",
                    "see the Argo CD Application reference",
                )
            )
            continue
        extra = sorted(set(node) - allowed)
        if extra:
            problems.append(
                Problem(
                    file,
                    res,
                    "argocd-schema",
                    f"{path or '(root)'}: unknown field(s) {', '.join(extra)}",
                    f"remove them or use one of: {', '.join(sorted(allowed))}",
                )
            )
    for item in _get(doc, "spec.info") or []:
        if not (
            isinstance(item, dict) and set(item) <= {"name", "value"} and all(isinstance(v, str) for v in item.values())
        ):
            problems.append(
                Problem(
                    file,
                    res,
                    "argocd-schema",
                    f"spec.info entry {item!r} must be {{name, value}} strings",
                    "quote the values",
                )
            )
    options = _get(doc, "spec.syncPolicy.syncOptions")
    if options is not None and not (isinstance(options, list) and all(isinstance(o, str) for o in options)):
        problems.append(
            Problem(
                file,
                res,
                "argocd-schema",
                "spec.syncPolicy.syncOptions must be a list of strings",
                "e.g. [ServerSideApply=true]",
            )
        )
    return problems


def _get(doc, path: str):
    node = doc
    for key in filter(None, path.split(".")):
        node = node.get(key) if isinstance(node, dict) else None
    return node
