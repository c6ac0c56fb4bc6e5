"""What a running kernel really loaded: real ipykernel kernels started by jupyter_client in a
venv that is not n2a's, with a fake scikit-learn whose load_iris(as_frame=True) imports a fake
pandas that it does not declare (as the real one does). The wheels come from a loopback index;
ipykernel from uv's cache or the real index (tests/kernel_envs.py)."""

from __future__ import annotations

import pytest
from conftest import write_notebook
from jupyter_client.manager import KernelManager
from kernel_envs import IRIS_CELLS, ml_kernel_env, with_kernelspec

from n2a_gitops import pipeline
from n2a_gitops.kernel import interpreter as kernels
from n2a_gitops.kernel import notebook_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ml_kernel(tmp_path_factory):
    return ml_kernel_env(tmp_path_factory.mktemp("ml"))


def execute(client, code: str, timeout: float = 60) -> dict:
    reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda msg: None)
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply["content"]


@pytest.fixture
def running(ml_kernel, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(ml_kernel["jupyter"]))
    manager = KernelManager(kernel_name="ml-kernel")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def test_the_running_kernel_says_what_it_loaded_and_a_fresh_one_did_not(running, ml_kernel):
    manager, client = running
    execute(client, IRIS_CELLS[0])
    state = kernels.ConnectedKernel(manager.get_connection_info(), "ml-kernel").state()
    assert state.python == ml_kernel["python"]
    assert {"sklearn", "pandas", "ipykernel"} <= state.modules
    fresh = set(kernels.fresh_modules(ml_kernel["python"]))
    assert "ipykernel" in fresh and not {"sklearn", "pandas"} & fresh


def test_publishing_with_the_running_kernel_adds_what_it_loaded_at_run_time(running, ml_kernel, tmp_path):
    manager, client = running
    nb = with_kernelspec(write_notebook(tmp_path / "iris.ipynb", IRIS_CELLS), "ml-kernel")
    for cell in IRIS_CELLS[:1]:
        execute(client, cell)
    kernel = kernels.ConnectedKernel(manager.get_connection_info(), "ml-kernel")
    prepared = pipeline.prepare(nb, owner="jane", need_repo=False, kernel=kernel)
    result = prepared.result
    sources = {r["spec"]: (r["origin"], r["source"]) for r in result.requirement_sources}
    assert sources["scikit-learn==1.5.2"][0] == "kernel"
    assert sources["pandas==2.2.3"] == ("run-time", "loaded at run time (module pandas), installed in the kernel")
    assert result.environment["source"] == "running-kernel" and result.environment["python"] == ml_kernel["python"]
    assert result.run_time["checked"] is True and result.run_time["modules"] == ["pandas", "sklearn"]
    assert not any("run time" in w for w in result.warnings)
    # What the lock takes as preferences: the kernel's full map of versions.
    assert prepared.preferences["pandas"] == "2.2.3" and prepared.preferences["scikit-learn"] == "1.5.2"
    assert "ipykernel" in prepared.preferences
    # The baseline was measured once and cached with the interpreter's environment.
    from n2a_gitops.kernel import installed as environment

    cached = environment.load_cached(ml_kernel["python"])
    assert cached and "ipykernel" in cached[1]["baseline"] and "pandas" not in cached[1]["baseline"]


def test_a_busy_kernel_is_reported_and_publish_falls_back(running, ml_kernel, tmp_path, monkeypatch):
    manager, client = running
    monkeypatch.setattr(kernels, "ASK_TIMEOUT", 2)
    client.execute("import time; time.sleep(20)")  # a long cell: the kernel cannot answer now
    nb = with_kernelspec(write_notebook(tmp_path / "iris.ipynb", IRIS_CELLS), "ml-kernel")
    found = notebook_env.find(nb, kernels.ConnectedKernel(manager.get_connection_info(), "ml-kernel"))
    assert found.interpreter.source == "kernelspec"  # the notebook's kernelspec, not n2a's
    assert found.run_time["checked"] is False
    assert "did not answer within 2 s" in found.run_time["detail"]
    assert any("did not answer" in w and "fix:" in w for w in found.warnings)
    manager.interrupt_kernel()
