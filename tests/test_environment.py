"""The notebook kernel's environment, asked of its own interpreter: real venvs made with uv,
real subprocesses, and the cache that a package install invalidates."""

from __future__ import annotations

import json
import sys

import pytest
from kernel_envs import make_venv, uv
from local_index import LocalIndex

from n2a_gitops.kernel import installed as environment


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    idx = LocalIndex(tmp_path_factory.mktemp("index"))
    idx.add("pandas", "2.2.3", modules=["pandas"], requires=["python-dateutil>=2.8", "tzdata; extra == 'tz'"])
    idx.add("python-dateutil", "2.9.0", modules=["dateutil"])
    idx.add("tzdata", "2024.2", modules=["tzdata"])
    idx.add("holoviews", "1.19.1", modules=["holoviews"])
    with idx.serve() as url:
        idx.url = url
        yield idx


def test_probe_reports_what_the_kernel_has_not_what_n2a_has(tmp_path, index):
    python = make_venv(tmp_path / "venv", index.url, ["pandas==2.2.3"])
    env = environment.probe(str(python))
    assert env.python == str(python)
    assert env.version == "{}.{}.{}".format(*sys.version_info[:3])
    assert env.distributions == {"pandas": "2.2.3", "python-dateutil": "2.9.0"}
    assert env.packages == {"pandas": ["pandas"], "dateutil": ["python-dateutil"]}
    assert env.requires["pandas"] == ["python-dateutil"]  # the extra's tzdata is not a dependency
    assert env.closure(["pandas"]) == {"pandas", "python-dateutil"}
    assert {"os", "json", "sys", "_io"} <= env.stdlib
    assert env.versions() == {"pandas": "2.2.3", "python-dateutil": "2.9.0"}
    assert env.version_of("Python_Dateutil") == "2.9.0"


def test_a_cached_answer_is_used_until_a_package_is_installed(tmp_path, index, monkeypatch):
    python = str(make_venv(tmp_path / "venv", index.url, ["pandas==2.2.3"]))
    cache = tmp_path / "cache"
    first = environment.inspect(python, cache=cache)
    assert list(cache.glob("*.json")) and "holoviews" not in first.distributions

    def no_probe(*args, **kwargs):  # proves the second look is served from the cache
        raise AssertionError("the interpreter was asked again although nothing changed")

    monkeypatch.setattr(environment, "probe", no_probe)
    assert environment.inspect(python, cache=cache) == first
    monkeypatch.undo()

    done = uv(
        "pip",
        "install",
        "-q",
        "--python",
        python,
        "--index-url",
        index.url,
        "holoviews",
        env={"UV_CACHE_DIR": str(tmp_path / "uvc")},
    )
    assert done.returncode == 0, done.stderr
    assert environment.inspect(python, cache=cache).distributions["holoviews"] == "1.19.1"


def test_a_kernelspec_env_is_honoured_and_a_folder_appearing_on_its_path_invalidates(tmp_path, index):
    """A kernelspec may put a PYTHONPATH folder in front; before it exists it is stamped as absent."""
    python = str(make_venv(tmp_path / "venv"))
    extra = tmp_path / "extra-site"
    spec_env = {"PYTHONPATH": str(extra)}
    cache = tmp_path / "cache"
    assert environment.inspect(python, spec_env, cache=cache).distributions == {}
    done = uv(
        "pip",
        "install",
        "-q",
        "--target",
        str(extra),
        "--python",
        python,
        "--index-url",
        index.url,
        "holoviews",
        env={"UV_CACHE_DIR": str(tmp_path / "uvc")},
    )
    assert done.returncode == 0, done.stderr
    assert environment.inspect(python, spec_env, cache=cache).distributions == {"holoviews": "1.19.1"}


def test_an_interpreter_that_cannot_answer_is_one_clear_error(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'not a python' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(environment.ProbeError) as err:
        environment.probe(str(fake))
    assert "not a python" in err.value.message and err.value.fix
    with pytest.raises(environment.ProbeError) as err:
        environment.probe(str(tmp_path / "missing" / "python"))
    assert "could not run" in err.value.message


def test_a_corrupt_cache_entry_is_asked_again(tmp_path, index):
    python = str(make_venv(tmp_path / "venv"))
    cache = tmp_path / "cache"
    environment.inspect(python, cache=cache)
    (entry,) = cache.glob("*.json")
    entry.write_text("{not json")
    assert environment.inspect(python, cache=cache).python == python
    assert json.loads(entry.read_text())["probe"]["python"] == python


def test_the_same_interpreter_with_another_pythonpath_is_another_environment(tmp_path, index):
    python = str(make_venv(tmp_path / "venv"))
    extra = tmp_path / "extra-site"
    done = uv(
        "pip",
        "install",
        "-q",
        "--target",
        str(extra),
        "--python",
        python,
        "--index-url",
        index.url,
        "holoviews",
        env={"UV_CACHE_DIR": str(tmp_path / "uvc")},
    )
    assert done.returncode == 0, done.stderr
    cache = tmp_path / "cache"
    assert environment.inspect(python, {"PYTHONPATH": str(extra)}, cache=cache).distributions == {"holoviews": "1.19.1"}
    assert environment.inspect(python, {"PYTHONPATH": ""}, cache=cache).distributions == {}
    assert len(list(cache.glob("*.json"))) == 2
