"""What the apps AppProject lets an app's overlay create: the kinds Argo CD would refuse to sync."""

from __future__ import annotations

from fnmatch import fnmatchcase

# Kinds that live outside any namespace (the common ones; an unknown kind counts as namespaced,
# so it still has to be on the namespaced whitelist).
CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "FlowSchema",
    "PriorityLevelConfiguration",
}


def group_of(doc: dict) -> str:
    api = str(doc.get("apiVersion", ""))
    return api.split("/", 1)[0] if "/" in api else ""


def _matches(entries, group: str, kind: str) -> bool:
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        if fnmatchcase(group, str(entry.get("group", ""))) and fnmatchcase(kind, str(entry.get("kind", ""))):
            return True
    return False


def kind_refusal(project: dict, doc: dict) -> str | None:
    """Why the AppProject would refuse ``doc``'s kind, or None when it is allowed."""
    spec = project.get("spec") or {}
    group, kind = group_of(doc), str(doc.get("kind", ""))
    shown = f"{group or 'core'}/{kind}"
    name = (project.get("metadata") or {}).get("name", "?")
    if kind in CLUSTER_SCOPED:
        if not _matches(spec.get("clusterResourceWhitelist"), group, kind) or _matches(
            spec.get("clusterResourceBlacklist"), group, kind
        ):
            return f"cluster-scoped kind {shown} is not allowed by AppProject {name} (its clusterResourceWhitelist is empty)"
        return None
    if "namespaceResourceWhitelist" in spec and not _matches(spec.get("namespaceResourceWhitelist"), group, kind):
        return f"kind {shown} is not on the namespaceResourceWhitelist of AppProject {name}"
    if _matches(spec.get("namespaceResourceBlacklist"), group, kind):
        return f"kind {shown} is on the namespaceResourceBlacklist of AppProject {name}"
    return None


def default_project(settings) -> dict:
    """The apps AppProject as `n2a init` writes it: the reference when the repo's is not at hand."""
    from n2a_gitops import yamlio
    from n2a_gitops.render import render

    return yamlio.load(render("repo/argocd/project-apps.yaml.j2", settings=settings))
