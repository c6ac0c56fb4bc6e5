"""The lock a plan resolves is the lock the Publish after it commits, without asking uv again:
the index goes away between the two, and the publish still succeeds with the plan's lock. With
the cache off (or stale), the same publish has to reach the index, and fails. Real uv, a real
package index on loopback (tests/local_index.py), real `n2a init` repos."""

from __future__ import annotations

import pytest
from local_index import LocalIndex
from test_lock import notebook, run, use_index

from n2a_gitops.stages import requirements as req_stage

APP = "hello-jane"
pytestmark = pytest.mark.slow  # uv resolves against the loopback index: about 15 s a test on 2 cores


@pytest.fixture(autouse=True)
def lock_on(monkeypatch, tmp_path):
    monkeypatch.delenv("N2A_NO_LOCK", raising=False)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # n2a's lock cache: this test's own


def _plan_while_the_index_is_up(gitops, tmp_path, capsys):
    idx = LocalIndex(tmp_path / "index")
    idx.add("greeting", "1.0", requires=["wordlist>=1.5"], code="WORD = 'hello'\n")
    idx.add("wordlist", "1.16.0")
    nb = notebook(tmp_path)
    with idx.serve() as url:
        use_index(gitops, url)
        code, plan, err = run(capsys, "publish", str(nb), "--repo", str(gitops), "--owner", "jane", "--dry-run")
        assert code == 0, err
    assert plan["lock"]["packages"] == 2 and "locking the requirements with uv" in err
    return nb, plan  # the index is down from here on


def test_publish_after_a_plan_reuses_its_lock(gitops, tmp_path, capsys):
    nb, plan = _plan_while_the_index_is_up(gitops, tmp_path, capsys)
    code, result, err = run(capsys, "publish", str(nb), "--repo", str(gitops), "--owner", "jane")
    assert code == 0, err
    assert "using the lock resolved for the plan" in err and "locking the requirements with uv" not in err
    assert result["lock"] == plan["lock"]
    lock = (gitops / f"apps/{APP}/src/requirements.lock").read_text()
    assert "greeting==1.0" in lock and "wordlist==1.16.0" in lock and "--hash=sha256:" in lock


@pytest.mark.parametrize("why", ["cache off", "n2a lock refreshes"])
def test_without_the_plans_lock_the_index_is_asked_again(why, gitops, tmp_path, capsys, monkeypatch):
    nb, _ = _plan_while_the_index_is_up(gitops, tmp_path, capsys)
    if why == "cache off":
        monkeypatch.setattr(req_stage, "LOCK_CACHE_SECONDS", -1)  # every cached lock is stale
        argv = ["publish", str(nb)]
    else:
        argv = ["lock", str(nb)]
    code, _, err = run(capsys, *argv, "--repo", str(gitops), "--owner", "jane")
    assert code != 0 and "locking the requirements with uv" in err, err
    assert not (gitops / f"apps/{APP}").exists()  # nothing was written
