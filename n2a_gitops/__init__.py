"""n2a: publish Jupyter notebooks as apps on Kubernetes, the GitOps way.

The public Python API is ``publish()`` (and ``plan()``, its dry run). Nothing heavy is imported
at package import time so that the CLI starts fast.
"""

__version__ = "0.1.0"


def publish(notebook, *, kernel=None, out=None, **options):
    """Publish NOTEBOOK into the GitOps repo; returns a ``model.PublishResult``.

    The options are those of `n2a publish`, as keywords (``request.PublishRequest``'s fields: see
    ``inspect.signature(n2a_gitops.publish)``): repo, name, owner, requirements, framework,
    environment, env (a dict, or "KEY=VALUE" strings), include (paths), access, secret_env
    ("NAME=SECRET/KEY" strings), cpu, memory, gpu, replicas, warmup, no_lock, refresh_lock,
    check, push, push_timeout, dry_run. Re-publishing an app keeps its access, secrets and
    resources unless they are given. ``kernel``: the notebook's running kernel
    (``n2a_gitops.kernel.interpreter.ConnectedKernel`` or ``ThisKernel``), whose interpreter the
    imports are resolved in and whose loaded modules are added; without it, the notebook's
    kernelspec. ``out``: an ``output.Output`` for progress (default: quiet).
    """
    from n2a_gitops.pipeline import publish as _publish
    from n2a_gitops.request import PublishRequest

    return _publish(PublishRequest.create(notebook, **options), kernel=kernel, out=out)


def _signature():
    """publish()'s keywords, from the request's fields: help() and editors list every option."""
    import inspect

    from n2a_gitops.request import PublishRequest

    params = [inspect.Parameter("notebook", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for name in (*PublishRequest.options(), "kernel", "out"):
        default = getattr(PublishRequest, name, None) if name in PublishRequest.options() else None
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))
    return inspect.Signature(params)


# inspect.signature() reads __signature__; mypy does not model that attribute on functions.
publish.__signature__ = _signature()  # type: ignore[attr-defined]


def plan(notebook, **options):
    """Render, build and validate without touching the repository (``publish(dry_run=True)``)."""
    return publish(notebook, dry_run=True, **options)


def deploy(name, notebook_file, requirements_file=None, command=None, **options):
    """Compatibility with the notebook2app proof of concept's ``deploy()`` call.

    It used to apply manifests with a service account; now it commits to the GitOps repo.
    ``command`` is ignored: the framework's runtime decides how to serve.
    """
    return publish(notebook_file, name=name, requirements=requirements_file, **options)


__all__ = ["publish", "plan", "deploy", "__version__"]


# Jupyter integration entry points. They live in n2a_gitops.jupyter; these thin hooks are what
# `%load_ext n2a_gitops`, jupyter_server and JupyterLab look up on the top-level package.
def load_ipython_extension(ipython):
    from n2a_gitops.jupyter.magic import load_ipython_extension as _load

    _load(ipython)


def _jupyter_server_extension_points():
    return [{"module": "n2a_gitops.jupyter.server"}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "n2a-gitops"}]
