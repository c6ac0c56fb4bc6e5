"""The publish API as the Jupyter parts call it.

``n2a_gitops.publish`` is the public function, but once the submodule ``n2a_gitops.publish`` is
imported (it is on the first call) Python rebinds that package attribute to the module. Calling
the function from its module is the same API without that trap.
"""

from __future__ import annotations


def publish(notebook: str, **options):
    from ..publish import publish as _publish

    return _publish(notebook, **options)


def plan(notebook: str, **options):
    options.pop("push", None)
    return publish(notebook, dry_run=True, **options)
