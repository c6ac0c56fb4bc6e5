"""Real kernel environments for the tests: virtual environments made with uv, packages installed
from a LocalIndex on loopback (small fake wheels), registered as kernelspecs in a temporary
JUPYTER_PATH. They stand in for a JupyterHub user's conda env or per-project venv: a Python
that is not the one n2a runs in.

A kernel that must really start also needs ipykernel. It comes from uv's own download cache
(``--offline``: filled from the real package index when this checkout's .venv was installed);
only when the cache lacks it is the real index used, and a test that cannot get it skips,
saying why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

UV = str(Path(sys.executable).with_name("uv"))


def uv(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([UV, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def make_venv(path: Path, index_url: str | None = None, packages=(), uv_cache: Path | None = None) -> Path:
    """A venv at PATH (n2a's Python version) with PACKAGES from the loopback index; its python."""
    done = uv("venv", "-q", "--python", sys.executable, str(path))
    assert done.returncode == 0, done.stderr
    python = path / "bin" / "python"
    if packages:
        # A private uv cache: fake wheels must never meet real ones of the same name in a shared cache.
        extra = {"UV_CACHE_DIR": str(uv_cache or path.parent / f".uv-cache-{path.name}")}
        done = uv("pip", "install", "-q", "--python", str(python), "--index-url", index_url, *packages, env=extra)
        assert done.returncode == 0, done.stderr
    return python


def add_ipykernel(python: Path) -> None:
    """Install ipykernel into the venv of PYTHON: from uv's cache, else from the real index."""
    done = uv("pip", "install", "-q", "--offline", "--python", str(python), "ipykernel")
    if done.returncode != 0:
        done = uv("pip", "install", "-q", "--python", str(python), "ipykernel", timeout=600)
    if done.returncode != 0:
        pytest.skip(f"ipykernel could not be installed into a test kernel environment (not in uv's cache and "
                    f"the real package index is unreachable): {done.stderr.strip()[-300:]}")


def register(jupyter_path: Path, name: str, python: Path, env: dict | None = None) -> Path:
    """A kernelspec NAME starting PYTHON, under JUPYTER_PATH/kernels (set JUPYTER_PATH to use it)."""
    folder = jupyter_path / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": name, "language": "python", "env": env or {}}
    (folder / "kernel.json").write_text(json.dumps(spec))
    return folder


def with_kernelspec(notebook: Path, name: str) -> Path:
    """Set the notebook's metadata.kernelspec.name, as JupyterLab does when a kernel is chosen."""
    data = json.loads(notebook.read_text())
    data["metadata"]["kernelspec"] = {"name": name, "display_name": name, "language": "python"}
    notebook.write_text(json.dumps(data))
    return notebook
