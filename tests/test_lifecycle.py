"""`n2a list`, `n2a history`, `n2a delete` and `n2a rollback` on real git repositories (a clone
of a bare remote) holding apps published with the real `n2a publish`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import GRADIO_CELLS, git, snapshot, write_notebook

from n2a_gitops.cli import main
from n2a_gitops.errors import EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_POLICY


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def clone(remote_clone, tmp_path, capsys):
    """A clone with two published apps: greeter-jane (twice: v1, v2) and hello-bob."""
    clone, bare = remote_clone
    nb = write_notebook(tmp_path / "nb" / "greeter.ipynb", GRADIO_CELLS)
    assert main(["publish", str(nb), "--repo", str(clone), "--owner", "jane", "--quiet"]) == 0
    assert main(["publish", str(nb), "--repo", str(clone), "--owner", "bob", "--name", "hello", "--quiet"]) == 0
    v2 = write_notebook(tmp_path / "nb2" / "greeter.ipynb", GRADIO_CELLS[:-1] + ["demo.title = 'v2'", GRADIO_CELLS[-1]])
    assert main(["publish", str(v2), "--repo", str(clone), "--owner", "jane", "--quiet"]) == 0
    capsys.readouterr()
    return clone, bare


def commits(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%H").split()


def test_list_shows_owner_framework_url_and_last_commit(clone, capsys):
    repo, _bare = clone
    code, out, _ = run(capsys, "list", "--repo", str(repo), "--json")
    assert code == 0
    apps = {a["app"]: a for a in last_json(out)["apps"]}
    assert set(apps) == {"greeter-jane", "hello-bob"}
    jane = apps["greeter-jane"]
    assert (jane["owner"], jane["framework"], jane["url"], jane["path"]) == (
        "jane",
        "gradio",
        "https://greeter-jane.apps.example.com/",
        "apps/greeter-jane",
    )
    assert jane["last_commit"]["sha"] == commits(repo)[0]  # the v2 publish
    assert apps["hello-bob"]["last_commit"]["sha"] == commits(repo)[1]

    code, out, _ = run(capsys, "list", "--repo", str(repo), "--owner", "bob")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 2 and lines[1].startswith("hello-bob ")
    assert "https://hello-bob.apps.example.com/" in lines[1]


def test_history_lists_only_the_commits_that_touched_the_app(clone, capsys):
    repo, _bare = clone
    all_commits = commits(repo)
    code, out, _ = run(capsys, "history", "greeter-jane", "--repo", str(repo), "--json")
    assert code == 0
    shas = [c["sha"] for c in last_json(out)["commits"]]
    assert shas == [all_commits[0], all_commits[2]]  # not hello-bob's publish, not init
    assert run(capsys, "history", "nobody-here", "--repo", str(repo))[0] == EXIT_NOT_FOUND


def test_delete_removes_folder_and_child_application_in_one_commit_and_pushes(clone, capsys):
    repo, bare = clone
    (repo / "unrelated.txt").write_text("work in progress\n")  # must survive untouched
    before = commits(repo)
    code, out, _ = run(capsys, "delete", "hello-bob", "--repo", str(repo), "--push", "--json")
    assert code == 0
    result = last_json(out)
    assert result["pushed"] is True and result["paths"] == ["apps/hello-bob", "argocd/apps/hello-bob.yaml"]
    assert commits(repo)[1:] == before  # one new commit on top, history intact
    changed = git(repo, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert all(line.startswith("D\t") for line in changed if line)
    assert {
        line.split("\t")[1].split("/")[0] + "/" + line.split("\t")[1].split("/")[1] for line in changed if line
    } == {"apps/hello-bob", "argocd/apps"}
    assert not (repo / "apps/hello-bob").exists() and not (repo / "argocd/apps/hello-bob.yaml").exists()
    assert (repo / "unrelated.txt").read_text() == "work in progress\n"
    assert git(bare, "rev-parse", "main").strip() == result["commit"]
    assert main(["validate", "--repo", str(repo)]) == 0


def test_delete_refuses_unknown_apps_and_uncommitted_changes_without_touching_anything(clone, capsys):
    repo, _bare = clone
    assert run(capsys, "delete", "nobody-here", "--repo", str(repo))[0] == EXIT_NOT_FOUND
    app_file = repo / "apps/hello-bob/src/app.py"
    app_file.write_text(app_file.read_text() + "\n# my unsaved fix\n")
    before = snapshot(repo)
    code, _out, err = run(capsys, "delete", "hello-bob", "--repo", str(repo))
    assert code == EXIT_FAILURE and "uncommitted changes" in err
    assert snapshot(repo) == before


def test_rollback_restores_the_app_as_it_was_in_a_new_commit(clone, capsys):
    repo, bare = clone
    v1 = commits(repo)[2]
    v1_files = {
        p: git(repo, "show", f"{v1}:{p}")
        for p in git(repo, "ls-tree", "-r", "--name-only", v1, "--", "apps/greeter-jane").split()
    }
    before = commits(repo)
    code, out, _ = run(capsys, "rollback", "greeter-jane", v1[:10], "--repo", str(repo), "--push", "--json")
    assert code == 0
    result = last_json(out)
    assert result["rev"] == v1 and result["pushed"] is True
    assert commits(repo)[1:] == before  # a new commit; nothing rewritten
    now = {
        p: git(repo, "show", f"HEAD:{p}")
        for p in git(repo, "ls-tree", "-r", "--name-only", "HEAD", "--", "apps/greeter-jane").split()
    }
    assert now == v1_files
    assert "demo.title = 'v2'" not in (repo / "apps/greeter-jane/src/app.py").read_text()
    assert git(bare, "rev-parse", "main").strip() == result["commit"]
    # Rolling back to where it already is commits nothing.
    code, out, _ = run(capsys, "rollback", "greeter-jane", v1, "--repo", str(repo), "--json")
    assert code == 0 and last_json(out)["commit"] is None


def test_rollback_brings_back_a_deleted_app(clone, capsys):
    repo, _bare = clone
    assert run(capsys, "delete", "hello-bob", "--repo", str(repo))[0] == 0
    code, _out, _ = run(capsys, "rollback", "hello-bob", "HEAD~1", "--repo", str(repo))
    assert code == 0
    assert (repo / "argocd/apps/hello-bob.yaml").is_file() and (repo / "apps/hello-bob/kustomization.yaml").is_file()
    assert git(repo, "diff", "HEAD~2", "HEAD", "--stat") == ""
    assert main(["validate", "--repo", str(repo)]) == 0


def test_rollback_refuses_a_revision_that_fails_todays_checks_and_changes_nothing(clone, capsys):
    repo, _bare = clone
    path = repo / "argocd/apps/hello-bob.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["project"] = "default"
    path.write_text(yaml.safe_dump(doc))
    git(repo, "commit", "-qam", "hand edit: move hello-bob to the default project")
    bad = commits(repo)[0]
    git(repo, "revert", "--no-edit", "HEAD")
    before = snapshot(repo)
    code, _out, err = run(capsys, "rollback", "hello-bob", bad, "--repo", str(repo))
    assert code == EXIT_POLICY
    assert "application-project" in err
    assert snapshot(repo) == before


def test_rollback_to_a_revision_without_the_app_or_an_unknown_revision(clone, capsys):
    repo, _bare = clone
    init = commits(repo)[-1]
    code, _out, err = run(capsys, "rollback", "greeter-jane", init, "--repo", str(repo))
    assert code == EXIT_NOT_FOUND and "did not exist at" in err
    code, _out, err = run(capsys, "rollback", "greeter-jane", "no-such-rev", "--repo", str(repo))
    assert code == EXIT_NOT_FOUND and "no commit 'no-such-rev'" in err
