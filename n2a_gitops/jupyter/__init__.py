"""JupyterLab integration: the server extension (handlers.py, server.py), the `%n2a` IPython
magic (magic.py) and an optional JupyterHub publish service (hub_service.py).

Everything here calls the core through the public Python API (``n2a_gitops.publish`` and
``n2a_gitops.plan``), so a publish from JupyterLab is exactly a publish from the CLI.
"""
