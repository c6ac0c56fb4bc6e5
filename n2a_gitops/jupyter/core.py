"""The core as the Jupyter parts call it: the public Python API, nothing else.

``plan`` drops ``push`` (a dry run never pushes) so one set of options serves both calls.
"""

from __future__ import annotations


def publish(notebook: str, **options):
    import n2a_gitops

    return n2a_gitops.publish(notebook, **options)


def plan(notebook: str, **options):
    import n2a_gitops

    options.pop("push", None)
    return n2a_gitops.plan(notebook, **options)
