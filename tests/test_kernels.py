"""Which Python the notebook's imports are resolved in: the kernelspec through jupyter_client
(kernelspecs registered in a temporary JUPYTER_PATH, pointing at real venvs), n2a's own as the
fallback; and which run-time modules count as the notebook's."""

from __future__ import annotations

import sys

import pytest
from conftest import write_notebook
from kernel_envs import make_venv, register, with_kernelspec
from local_index import LocalIndex

from n2a_gitops.kernel import installed as environment
from n2a_gitops.kernel import interpreter as kernels


@pytest.fixture
def jupyter_path(tmp_path, monkeypatch):
    path = tmp_path / "jupyter"
    monkeypatch.setenv("JUPYTER_PATH", str(path))
    return path


def notebook(tmp_path, spec: str | None):
    nb = write_notebook(tmp_path / "nb.ipynb", ["import os"])
    if spec is None:
        import json

        data = json.loads(nb.read_text())
        del data["metadata"]["kernelspec"]
        nb.write_text(json.dumps(data))
        return nb
    return with_kernelspec(nb, spec)


def test_the_kernelspec_names_the_interpreter(tmp_path, jupyter_path):
    python = make_venv(tmp_path / "venv")
    register(jupyter_path, "project-env", python, env={"MY_FLAG": "1"})
    found = kernels.from_kernelspec(kernels.kernelspec_name(notebook(tmp_path, "project-env")))
    assert (found.python, found.source, found.label) == (str(python), "kernelspec", "kernelspec 'project-env'")
    assert found.env == {"MY_FLAG": "1"} and found.fallback is None


def test_python_in_argv_means_the_python_that_starts_the_kernel(tmp_path, jupyter_path):
    folder = register(jupyter_path, "plain", "python")
    assert '"python"' in (folder / "kernel.json").read_text()
    found = kernels.from_kernelspec("plain")
    assert found.python == sys.executable and found.source == "kernelspec"


@pytest.mark.parametrize("case, warn", [("none", False), ("missing", True), ("r-kernel", True), ("wrapper", True)])
def test_otherwise_n2as_own_environment_and_why(tmp_path, jupyter_path, case, warn):
    import json

    if case == "r-kernel":
        (jupyter_path / "kernels" / "ir").mkdir(parents=True)
        (jupyter_path / "kernels" / "ir" / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": ["R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"],
                    "display_name": "R",
                    "language": "R",
                }
            )
        )
    if case == "wrapper":
        (jupyter_path / "kernels" / "wrapped").mkdir(parents=True)
        (jupyter_path / "kernels" / "wrapped" / "kernel.json").write_text(
            json.dumps(
                {"argv": ["/opt/start-kernel.sh", "{connection_file}"], "display_name": "W", "language": "python"}
            )
        )
    name = {"none": None, "missing": "conda-env-gone-py", "r-kernel": "ir", "wrapper": "wrapped"}[case]
    found = kernels.from_kernelspec(kernels.kernelspec_name(notebook(tmp_path, name)))
    assert (found.python, found.source) == (sys.executable, "n2a")
    assert found.fallback_is_warning is warn
    expected = {
        "none": "names no kernelspec",
        "missing": "'conda-env-gone-py' is not installed here",
        "r-kernel": "runs R, not Python",
        "wrapper": "does not start a Python interpreter",
    }[case]
    assert expected in found.fallback


def test_a_missing_kernelspec_is_a_warning_in_the_plan(tmp_path, jupyter_path):
    from n2a_gitops.kernel import notebook_env

    found = notebook_env.find(notebook(tmp_path, "conda-env-gone-py"))
    assert found.describe()["source"] == "n2a"
    assert "because kernelspec 'conda-env-gone-py' is not installed here" in found.describe()["description"]
    assert any(
        w.startswith("the imports were resolved in n2a's own environment") and "fix:" in w for w in found.warnings
    )
    assert found.run_time["checked"] is False


def test_run_time_modules_exclude_baseline_stdlib_machinery_and_n2as_own(tmp_path):
    idx = LocalIndex(tmp_path / "idx")
    idx.add("pandas", "2.2.3", modules=["pandas"])
    idx.add("ipykernel", "6.29.5", modules=["ipykernel"], requires=["jedi>=0.16"])
    idx.add("jedi", "0.19.1", modules=["jedi"])
    with idx.serve() as url:
        env = environment.inspect(str(make_venv(tmp_path / "venv", url, ["pandas", "ipykernel"])), cache=tmp_path / "c")
    state = kernels.KernelState(
        "python",
        frozenset({"pandas", "jedi", "ipykernel", "json", "helpers", "n2a_gitops", "__main__"}),
        "a kernel",
        ignore=frozenset({"n2a_gitops"}),
    )
    assert kernels.loaded_at_run_time(state, env, frozenset({"ipykernel"})) == ["pandas"]


def test_a_kernel_that_does_not_answer_falls_back_to_the_kernelspec(tmp_path, jupyter_path, monkeypatch):
    """Connection info of a kernel that is gone (nothing listens on its ports)."""
    from e2e.jupyter_server import free_port

    from n2a_gitops.kernel import notebook_env

    monkeypatch.setattr(kernels, "ASK_TIMEOUT", 1)
    python = make_venv(tmp_path / "venv")
    register(jupyter_path, "project-env", python)
    gone = {
        "transport": "tcp",
        "ip": "127.0.0.1",
        "key": b"secret",
        "signature_scheme": "hmac-sha256",
        **{f"{c}_port": free_port() for c in ("shell", "iopub", "stdin", "control", "hb")},
    }
    found = notebook_env.find(notebook(tmp_path, "project-env"), kernels.ConnectedKernel(gone, "project-env"))
    assert found.describe()["source"] == "kernelspec" and found.environment.python == str(python)
    assert found.run_time["checked"] is False
    assert (
        "the notebook's running kernel could not be asked (the kernel did not answer within 1 s"
        in found.run_time["detail"]
    )
    assert any("could not be asked" in w and "fix:" in w for w in found.warnings)


def test_the_background_thread_imports_nothing_the_publish_imports_too(tmp_path, jupyter_path):
    """The kernel's environment is found in a thread while the publish imports nbconvert, which
    imports jupyter_client too. Two threads importing one package's circular modules at once can
    deadlock (a publish died with ``_DeadlockError`` under load), so the thread must find every
    module it needs already imported. A fresh interpreter records what each thread imports."""
    import subprocess

    nb = notebook(tmp_path, "python3")
    script = """
import sys, threading
seen = []
class Record:
    def find_spec(self, name, path=None, target=None):
        seen.append((threading.current_thread().name, name))
        return None
sys.meta_path.insert(0, Record())
from n2a_gitops.kernel import notebook_env
notebook_env.start(sys.argv[1]).result()
print(sorted({name for thread, name in seen if thread == "n2a-env"}))
"""
    done = subprocess.run([sys.executable, "-c", script, str(nb)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
