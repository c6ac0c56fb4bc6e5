"""The render stage: the template context, then the app's overlay, its src/ and the notebook as
committed, and the child Application (unless n2a.yaml uses an ApplicationSet)."""

from __future__ import annotations

import math

from n2a_gitops.layout import BASE_DIR, application_file
from n2a_gitops.render import NOTIFY_TRIGGERS
from n2a_gitops.stages import Draft


def render(d: Draft) -> None:
    from n2a_gitops import render as templates

    settings, folder = d.settings, d.folder
    ctx = context(d)
    d.files = {f"{folder}/{k}": v.encode() for k, v in templates.render_app(ctx).items()}
    d.files.update({f"{folder}/src/{p}": c for p, c in d.app_files.items()})
    d.files.update(d.blobs.files(folder))
    d.files[f"{folder}/notebook.ipynb"] = d.source_notebook
    if not settings.applicationSet:
        d.application_path = application_file(d.app)
        d.files[d.application_path] = templates.render_application(ctx).encode()


def context(d: Draft) -> dict:
    from n2a_gitops.pod import access as access_mod
    from n2a_gitops.pod import envvars, scaling

    settings, app, folder, launch = d.settings, d.app, d.folder, d.launch
    d.host = host = f"{app}.{settings.appsDomain}"
    d.url = f"https://{host}/"
    notebook_rel = f"{folder}/notebook.ipynb"
    return {
        "app": app,
        "name": d.ident.name,
        "owner": d.ident.owner,
        "framework": d.runtime.name,
        "notebook": d.request.notebook.name,
        "settings": settings,
        "launch": launch,
        # The kubelet expands $(NAME) in env values: escaped, every value arrives as typed.
        "env": {k: envvars.escape(v) for k, v in {**launch.env, **d.env}.items()},
        "secret_env": d.secret_refs,
        "store_refs": [r for r in d.secret_refs if r.remote],
        "resources": d.resources.resources,
        "replicas": d.resources.replicas,
        "node_selector": d.resources.node_selector,
        "tolerations": d.resources.tolerations,
        "probes": probes(launch),
        "configmaps": d.configmaps,
        "blobs": d.blobs.context(),
        "host": host,
        "url": d.url,
        "tls_secret": settings.tlsSecret if not settings.tlsIssuer else f"{app}-tls",
        "path": folder,
        "base_path": BASE_DIR,
        "notebook_url": f"{settings.webURL.rstrip('/')}/blob/{settings.targetRevision}/{notebook_rel}"
        if settings.webURL
        else "",
        "notify_triggers": NOTIFY_TRIGGERS if settings.notify else (),
        "access": d.access,
        "proxy": access_mod.proxy_context(d.access, host, launch.port),
        "conda": {"command": d.conda_env.command()} if d.conda_env else None,
        "scaling": scaling.context(d.settings, d.app, d.scaling, d.resources.replicas),
    }


def probes(launch) -> dict:
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
