"""Jupyter server extension entry point (named by ``n2a_gitops._jupyter_server_extension_points``)."""

from __future__ import annotations


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join

    from n2a_gitops.jupyter.handlers import ROUTES

    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [(url_path_join(base_url, "n2a", route), handler) for route, handler in ROUTES])
    serverapp.log.info("n2a: publish API at %s", url_path_join(base_url, "n2a/"))
    # The first publish should not pay for imports and templates: prepare them in the
    # background once the server is serving (never on its start-up path).
    from n2a_gitops.jupyter.warmup import start_when_serving

    start_when_serving(serverapp)


# Older jupyter_server / notebook versions look for this name.
load_jupyter_server_extension = _load_jupyter_server_extension
