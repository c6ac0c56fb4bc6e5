"""The repo's Argo CD files and the CRDs: the bootstrap in argocd/ (loaded once, checked when
every app is, or an admin path changed), the CRD folder, and the notes when CRDs are missing."""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.errors import UsageError
from n2a_gitops.validation.checks import application as app_checks
from n2a_gitops.validation.checks import bootstrap, routing
from n2a_gitops.validation.checks.problem import Problem, resource_id

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


def gateway_crds(crds: Path | None, notes: list[str] | None) -> Path | None:
    """The CRD folder for Gateway API kinds; None (and a note) when it holds none of them."""
    if crds is not None:
        from n2a_gitops.validation.crdschema import has_kind

        if has_kind(crds, routing.GROUP, "HTTPRoute"):
            return crds
    if notes is not None and GATEWAY_CRD_SKIPPED not in notes:
        notes.append(GATEWAY_CRD_SKIPPED)
    return None


def crds_with(crds: Path | None, group: str, kind: str, skipped: str, notes: list[str] | None) -> Path | None:
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
    found = bootstrap.find_project(load_argocd(Path(root))[0], settings.project)
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


def argocd_schema(doc: dict, file: str, crds: Path | None) -> list[Problem]:
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


def load_argocd(root: Path) -> tuple[dict[str, list[dict]], list[Problem]]:
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


def check_bootstrap(root, settings, docs, crds, found, notes) -> list[Problem]:
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
        problems += routing.check_gateway(settings, docs, gateway_crds(crds, notes), notes)
    problems += bootstrap.check_limits(settings, docs)
    version, _note = bundled_version(settings.kubernetesVersion)
    for file, items in docs.items():
        for doc in items:
            if routing.is_gateway_api(doc):
                continue  # checked above, against the Gateway API CRDs
            if str(doc.get("apiVersion", "")).startswith("argoproj.io/"):
                if crds is not None:
                    problems += argocd_schema(doc, file, crds)
                elif doc.get("kind") == "Application":
                    problems += app_checks.own_field_checks(doc, file)
            else:
                problems += [
                    Problem(file, resource_id(doc), "kubernetes-schema", e, "fix the field")
                    for e in kubernetes_errors(doc, version)
                ]
    return problems
