"""What a published app has now, read from its overlay in apps/<app>/, so that re-publishing
keeps it: who may open it, the Secrets it reads, its resources. Options the request sets win;
the ones it leaves out start from these values, not from the platform's defaults (an app shared
with two people must not become open to everyone because the options were not retyped).

Read, not built (like `n2a list`): lifecycle.app_access and lifecycle.app_resources are the
readers; the secret references come from the Deployment patch and the ExternalSecret.
"""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.layout import app_dir

RESOURCE_OPTIONS = ("cpu", "memory", "gpu", "replicas")


def read(root: Path | None, settings, app: str) -> dict | None:
    """{"path", "access", "resources", "resource_options", "secret_env"} of the app as published,
    None when it is not in the repo. ``resource_options`` are the --cpu/--memory/--gpu/--replicas
    values that give its resources (only those that differ from the platform's defaults)."""
    from n2a_gitops.lifecycle import app_access, app_resources

    if root is None or not (Path(root) / app_dir(app) / "kustomization.yaml").is_file():
        return None
    resources = app_resources(root, app)
    return {
        "path": app_dir(app),
        "access": app_access(root, app) or None,
        "resources": resources,
        "resource_options": resource_options(settings, resources),
        "secret_env": secret_env(root, app),
    }


def resource_options(settings, summary: dict) -> dict:
    """The options that reproduce SUMMARY ({"replicas", "requests", "limits"}) on this platform:
    cpu and memory where the request equals the limit (what --cpu/--memory set) and differ from
    n2a.yaml's defaults, the GPU count, replicas other than one."""
    defaults = settings.resources if isinstance(settings.resources, dict) else {}
    requests, limits = summary.get("requests") or {}, summary.get("limits") or {}
    options: dict = {}
    for key in ("cpu", "memory"):
        value = limits.get(key)
        if value is not None and requests.get(key) == value:
            if (defaults.get("requests") or {}).get(key) != value or (defaults.get("limits") or {}).get(key) != value:
                options[key] = str(value)
    gpus = limits.get(settings.gpuResource)
    if gpus not in (None, "0", 0):
        options["gpu"] = str(gpus)
    if summary.get("replicas") not in (None, 1):
        options["replicas"] = str(summary["replicas"])
    return options


def secret_env(root: Path, app: str) -> list[str]:
    """The app's --secret-env items as it was published: NAME=SECRET/KEY for a Secret it reads,
    NAME=KEY[#PROPERTY] for a key of the secret store (read through its ExternalSecret)."""
    import yaml

    from n2a_gitops.pod.access import APP_CONTAINER
    from n2a_gitops.pod.secretrefs import store_secret

    folder = Path(root) / app_dir(app)

    def documents(name: str) -> list:
        try:
            return [d for d in yaml.safe_load_all((folder / name).read_text(encoding="utf-8")) if isinstance(d, dict)]
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return []

    remote = {}
    for doc in documents("externalsecret.yaml"):
        for item in (doc.get("spec") or {}).get("data") or []:
            ref = item.get("remoteRef") if isinstance(item, dict) else None
            if isinstance(ref, dict) and ref.get("key"):
                remote[item.get("secretKey")] = str(ref["key"]) + (f"#{ref['property']}" if ref.get("property") else "")
    items = []
    for doc in documents("patch-deployment.yaml"):
        if doc.get("kind") != "Deployment":
            continue
        containers = (((doc.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        for container in containers:
            if not isinstance(container, dict) or container.get("name") != APP_CONTAINER:
                continue
            for var in container.get("env") or []:
                ref = ((var.get("valueFrom") or {}).get("secretKeyRef") or {}) if isinstance(var, dict) else {}
                if not ref.get("name") or not ref.get("key"):
                    continue
                if ref["name"] == store_secret(app) and ref["key"] in remote:
                    items.append(f"{var['name']}={remote[ref['key']]}")
                else:
                    items.append(f"{var['name']}={ref['name']}/{ref['key']}")
    return items
