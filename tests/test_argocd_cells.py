"""`n2a logs` and `n2a status` name the notebook's cell beside each app.py frame of a traceback.

The app is published for real into a GitOps repo made by `n2a init`; its app.py is run with a bare
Python to produce a real traceback, which the Argo CD stand-in (tests/fake_argocd.py: real HTTP,
documents shaped as Argo CD's swagger says) then serves as the pod's log.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import git, write_notebook
from fake_argocd import application
from test_argocd_api import argo, isolated, run  # noqa: F401 (fixtures)

from n2a_gitops.cli import main

APP = "shop-jane"
SERVE = "HTTPServer(('0.0.0.0', int(os.environ['PORT'])), BaseHTTPRequestHandler).serve_forever()"
CELLS = [
    "import os\nfrom http.server import HTTPServer, BaseHTTPRequestHandler",
    "\ndef load():\n    import not_a_module_n2a\n\nload()",  # the failing import: code cell 2, line 3
    SERVE,
]


def _publish(gitops, folder, cells) -> str:
    nb = write_notebook(folder / "shop.ipynb", cells)
    assert main(["publish", str(nb), "--repo", str(gitops), "--owner", "jane", "--quiet"]) == 0
    return git(gitops, "rev-parse", "HEAD").strip()


def _crash(gitops, tmp_path) -> list[str]:
    """Run the published code as the pod would, and return what it printed."""
    pod = tmp_path / "pod"
    subprocess.run(["cp", "-r", str(gitops / "apps" / APP / "src"), str(pod)], check=True)
    done = subprocess.run(
        [sys.executable, "-S", "-E", "-s", "app.py"],
        cwd=pod,
        capture_output=True,
        text=True,
        env={"PORT": "0"},
        timeout=60,
    )
    assert done.returncode == 1 and "ModuleNotFoundError" in done.stderr
    return done.stderr.splitlines()


def _entries(lines, pod=f"{APP}-web-5d4f8c7b9-abcde"):
    return [{"content": line, "podName": pod, "timeStampStr": "2025-01-01T10:00:00Z"} for line in lines]


def test_logs_name_the_cell_of_each_app_py_frame_as_committed_at_the_revision_argo_cd_runs(
    argo, capsys, gitops, tmp_path
):
    synced = _publish(gitops, tmp_path / "nb", CELLS)
    crash = _crash(gitops, tmp_path)
    # A later publish moves every line: the pods still run the synced revision, and its map counts.
    _publish(gitops, tmp_path / "nb", [("markdown", "# Shop"), "import json\nSETTINGS = json.loads('{}')", *CELLS])
    argo.add_app(APP, application(APP, revision=synced), logs=_entries(["starting", *crash]))

    code, out, _ = run(capsys, "logs", APP, "--repo", str(gitops))
    assert code == 0
    frames = [line for line in out.splitlines() if '/app.py", line' in line]
    assert len(frames) == 2
    assert frames[0].endswith("in <module>  [code cell 2, line 5]"), frames
    assert frames[1].endswith("in load  [code cell 2, line 3]"), frames
    assert out.splitlines()[-1] == "ModuleNotFoundError: No module named 'not_a_module_n2a'"

    code, out, _ = run(capsys, "logs", APP, "--repo", str(gitops), "--json")
    lines = json.loads(out.strip().splitlines()[-1])["lines"]
    assert [line["cell"] for line in lines if "cell" in line] == ["code cell 2, line 5", "code cell 2, line 3"]
    assert [line["content"] for line in lines] == ["starting", *crash]  # the pod's own text, untouched

    code, out, _ = run(capsys, "logs", APP)  # no GitOps clone at hand: the lines as the pod printed them
    assert code == 0 and out.splitlines() == ["starting", *crash]


def test_status_of_a_degraded_app_shows_its_last_traceback_with_the_cells(argo, capsys, gitops, tmp_path):
    synced = _publish(gitops, tmp_path / "nb", CELLS)
    crash = _crash(gitops, tmp_path)
    degraded = application(APP, revision=synced, health="Degraded")
    # The container crashed and was restarted: the traceback is in the output of its previous run.
    argo.add_app(APP, degraded, logs=_entries(["starting"]), previous_logs=_entries(["starting", *crash, "bye"]))

    code, out, _ = run(capsys, "status", APP, "--repo", str(gitops))
    assert code == 0
    shown = out.splitlines()
    start = shown.index(
        f"traceback the last one pod {APP}-web-5d4f8c7b9-abcde printed, in its run before the last restart:"
    )
    block = [line.strip() for line in shown[start + 1 :] if line.startswith("          ")]
    assert block[0] == "Traceback (most recent call last):"
    assert block[1].endswith("in <module>  [code cell 2, line 5]") and block[-1].startswith("ModuleNotFoundError")
    assert [q["query"].get("previous") for q in argo.requests if q["path"].endswith("/logs")] == [None, "true"]

    code, out, _ = run(capsys, "status", APP, "--repo", str(gitops), "--json")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["health"] == "Degraded"
    assert result["last_traceback"]["previous"] is True
    assert result["last_traceback"]["lines"][-1] == "ModuleNotFoundError: No module named 'not_a_module_n2a'"
    assert any(line.endswith("in load  [code cell 2, line 3]") for line in result["last_traceback"]["lines"])


def test_status_of_a_healthy_app_reads_no_logs(argo, capsys):
    argo.add_app(APP, application(APP, revision="1" * 40))
    code, out, _ = run(capsys, "status", APP, "--json")
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["last_traceback"] is None
    assert not [q for q in argo.requests if q["path"].endswith("/logs")]


def test_status_still_answers_when_the_token_may_not_read_logs(argo, capsys, monkeypatch):
    from fake_argocd import TOKEN_WITHOUT_LOGS

    monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN_WITHOUT_LOGS)
    argo.add_app(APP, application(APP, revision="1" * 40, health="Degraded"))
    code, out, err = run(capsys, "status", APP)
    assert code == 0 and "Degraded" in out
    assert "could not read the pods' logs for the last error" in err and "403" in err
