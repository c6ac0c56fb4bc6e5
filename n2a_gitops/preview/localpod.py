"""Run a built app on this machine the way its pod would run it (`n2a preview`).

Everything comes from the built manifests, nothing from the runtime modules: the ConfigMaps
are laid out as the pod's projected ``code`` volume would mount them, every emptyDir becomes a
temporary directory, and each ``mountPath`` is mapped to its local directory (command, args,
env values and workingDir that start with a mountPath are rewritten). The init containers run
their own script with their own env. The volume the init script keeps its environments in
(``N2A_ENVS``: one venv per lock, a shared volume in the cluster) is n2a's cache folder
``envs/``, and ``UV_CACHE_DIR`` n2a's uv cache: a second preview of an unchanged app is a venv
hit, exactly as a pod with the shared volume would see it. Then the main container's command
runs with the container port replaced by the local port, and the rendered readiness probe
decides when the app is up.

Env values, command and args go through the kubelet's dependent-variable expansion
(envvars.py), so the process sees what the pod's would. A variable the pod reads from a Secret
takes its value from this machine's environment under the same name; such values are passed
to the process only: never printed (the command is shown with them as $(NAME)), never written.

Modules: volumes.py lays out the pod's volumes, containers.py builds each container's env and
command and runs the init containers, serving.py starts the app and waits for its probe. This
module keeps the names the command, the checks, the tests and the benchmarks import.
"""

from __future__ import annotations

from n2a_gitops.config import cache_root
from n2a_gitops.preview.containers import CannotPreview, Install, PreviewError, _run_init, install
from n2a_gitops.preview.serving import _app_container, free_port, run, serve, sidecar_notes
from n2a_gitops.preview.volumes import LocalPod, _configmaps, _materialise, _one, missing_secrets

__all__ = [
    "CannotPreview",
    "Install",
    "LocalPod",
    "PreviewError",
    "_app_container",
    "_configmaps",
    "_materialise",
    "_one",
    "_run_init",
    "cache_root",
    "free_port",
    "install",
    "missing_secrets",
    "run",
    "serve",
    "sidecar_notes",
]
