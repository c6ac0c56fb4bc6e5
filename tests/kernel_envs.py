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
from local_index import LocalIndex

UV = str(Path(sys.executable).with_name("uv"))


def uv(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [UV, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


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
        pytest.skip(
            f"ipykernel could not be installed into a test kernel environment (not in uv's cache and "
            f"the real package index is unreachable): {done.stderr.strip()[-300:]}"
        )


def register(jupyter_path: Path, name: str, python: Path, env: dict | None = None) -> Path:
    """A kernelspec NAME starting PYTHON, under JUPYTER_PATH/kernels (set JUPYTER_PATH to use it)."""
    folder = jupyter_path / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name,
        "language": "python",
        "env": env or {},
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    return folder


def with_kernelspec(notebook: Path, name: str) -> Path:
    """Set the notebook's metadata.kernelspec.name, as JupyterLab does when a kernel is chosen."""
    data = json.loads(notebook.read_text())
    data["metadata"]["kernelspec"] = {"name": name, "display_name": name, "language": "python"}
    notebook.write_text(json.dumps(data))
    return notebook


# -- a kernel for the run-time step: scikit-learn loads pandas without declaring it ------------

FAKE_SKLEARN = """\
import sys, types

def load_iris(as_frame=False):
    if as_frame:
        import pandas  # what scikit-learn does, without declaring pandas
        return pandas.DataFrame(sepal=[5.1])
    return {"data": [[5.1]]}

datasets = types.ModuleType("sklearn.datasets")
datasets.load_iris = load_iris
sys.modules["sklearn.datasets"] = datasets
"""
FAKE_PANDAS = "class DataFrame(dict):\n    pass\n\n__version__ = '2.2.3'\n"
IRIS_CELLS = [
    "from sklearn.datasets import load_iris\nframe = load_iris(as_frame=True)\nframe",
    "import streamlit as st\nst.dataframe(frame)",
]


def ml_index(folder) -> LocalIndex:
    idx = LocalIndex(folder)
    idx.add("scikit-learn", "1.5.2", modules=["sklearn"], code=FAKE_SKLEARN)
    idx.add("pandas", "2.2.3", modules=["pandas"], code=FAKE_PANDAS)
    return idx


def ml_kernel_env(base: Path) -> dict:
    """A kernelspec `ml-kernel` in BASE/jupyter (set JUPYTER_PATH): a venv with ipykernel, the fake
    scikit-learn and pandas 2.2.3. Returns {"python", "jupyter", "base"}."""
    idx = ml_index(base / "index")
    with idx.serve() as url:
        python = make_venv(base / "venv", url, ["scikit-learn", "pandas==2.2.3"])
    add_ipykernel(python)
    register(base / "jupyter", "ml-kernel", python)
    return {"python": str(python), "jupyter": base / "jupyter", "base": base}
