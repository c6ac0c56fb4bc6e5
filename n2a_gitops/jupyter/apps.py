"""The apps published in a GitOps clone, read from their child Argo CD Applications.

A small reader of ``argocd/apps/*.yaml`` so that `GET /n2a/apps` needs nothing from Argo CD:
what is committed is what the clone knows.
"""

from __future__ import annotations

from pathlib import Path

APPLICATIONS_DIR = "argocd/apps"


def _info(spec: dict) -> dict[str, str]:
    info = spec.get("info") or []
    return {str(i.get("name")): str(i.get("value")) for i in info if isinstance(i, dict)}


def list_apps(repo: Path) -> list[dict]:
    import yaml

    apps = []
    for path in sorted((repo / APPLICATIONS_DIR).glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue  # `n2a validate` reports broken files; a listing should not fail on one
        if not isinstance(doc, dict) or doc.get("kind") != "Application":
            continue
        meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
        labels = meta.get("labels") or {}
        info = _info(spec)
        apps.append(
            {
                "app": meta.get("name"),
                "path": ((spec.get("source") or {}).get("path") or "").rstrip("/"),
                "application": path.relative_to(repo).as_posix(),
                "owner": labels.get("n2a.dev/owner") or info.get("owner") or info.get("Owner"),
                "framework": labels.get("n2a.dev/framework") or info.get("framework") or info.get("Framework"),
                "info": info,
            }
        )
    return apps
