"""Re-publishing keeps what the app has: access, secrets and resources start from the app's
current values (read from its overlay in apps/<app>/), not from the platform's defaults. An
option that is given wins, as documented; the plan says what was kept, and --json (and the JSON
the dialog gets) carries the app's values before this publish under "current".

Real repos made by `n2a init`, the real CLI and the real kustomize build of the overlay.
"""

from __future__ import annotations

import json

import pytest
from conftest import git

from n2a_gitops import kustomize
from n2a_gitops.cli import main

APP = "greeter-jane"
SHARED = "users:alice@example.com,bob@example.com"


def publish(capsys, root, notebook, *args):
    code = main(["publish", str(notebook), "--repo", str(root), "--owner", "jane", "--json", *args])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else None), captured.err


def deployment(root) -> dict:
    return next(d for d in kustomize.build(root / "apps" / APP) if d["kind"] == "Deployment")


def app_container(root) -> dict:
    return next(c for c in deployment(root)["spec"]["template"]["spec"]["containers"] if c["name"] == "app")


@pytest.fixture
def shared_app(gitops, gradio_notebook, capsys):
    """An app shared with two people, with 4Gi, two replicas and a Secret it reads."""
    code, result, err = publish(
        capsys,
        gitops,
        gradio_notebook,
        "--access",
        SHARED,
        "--memory",
        "4Gi",
        "--replicas",
        "2",
        "--secret-env",
        f"API_TOKEN={APP}-keys/token",
    )
    assert code == 0, err
    assert result["current"] is None  # a new app: nothing to keep
    assert result["access"] == SHARED
    return gitops


def test_republishing_without_options_keeps_access_secrets_and_resources(shared_app, gradio_notebook, capsys):
    before = app_container(shared_app)
    code, plan, err = publish(capsys, shared_app, gradio_notebook, "--dry-run")
    assert code == 0, err
    assert plan["access"] == SHARED
    assert plan["current"]["kept"] == ["access", "resources", "secret_env"]
    assert plan["current"]["access"] == SHARED
    assert plan["current"]["secret_env"] == [f"API_TOKEN={APP}-keys/token"]
    assert plan["current"]["resources"]["replicas"] == 2
    assert plan["current"]["path"] == f"apps/{APP}"
    # The plan says it, in words, with the option that changes each.
    assert f"note: kept from apps/{APP}: access {SHARED} (--access)" in err
    assert "resources --memory 4Gi --replicas 2" in err and "secret env API_TOKEN (--secret-env)" in err

    code, result, err = publish(capsys, shared_app, gradio_notebook)
    assert code == 0, err
    assert result["access"] == SHARED and result["resources"] == plan["resources"]
    after = app_container(shared_app)
    assert after["resources"] == before["resources"]
    assert after["env"] == before["env"]
    assert deployment(shared_app)["spec"]["replicas"] == 2
    # Same content: nothing to commit.
    assert result["changed"] is False


def test_an_option_given_wins_and_the_rest_is_kept(shared_app, gradio_notebook, capsys):
    code, result, err = publish(capsys, shared_app, gradio_notebook, "--access", "public")
    assert code == 0, err
    assert result["access"] == "public"
    assert result["current"]["access"] == SHARED  # shown as a change: it was shared
    assert result["current"]["kept"] == ["resources", "secret_env"]
    assert app_container(shared_app)["resources"]["limits"]["memory"] == "4Gi"
    # Any resource option states the resources anew (the documented behaviour): defaults for the rest.
    code, result, err = publish(capsys, shared_app, gradio_notebook, "--cpu", "500m")
    assert code == 0, err
    assert result["resources"]["limits"]["memory"] != "4Gi" and deployment(shared_app)["spec"].get("replicas") in (
        None,
        1,
    )
    assert result["current"]["kept"] == ["access", "secret_env"]  # public is now the current access


def test_the_dialogs_json_keeps_the_access_too(shared_app, gradio_notebook, tmp_path):
    """The server extension's path (options.publish_request, then publish): a body without access
    keeps the app's sharing; the plan's "current" lets the dialog show a change as a change."""
    from n2a_gitops.jupyter.options import publish_request
    from n2a_gitops.pipeline import publish as run

    root = gradio_notebook.parent
    body = {"notebook": gradio_notebook.name, "owner": "jane"}
    plan = run(publish_request(body, root, shared_app, dry_run=True)).to_dict()
    assert plan["access"] == SHARED and plan["current"]["access"] == SHARED
    assert "access" in plan["current"]["kept"]
    changed = run(publish_request({**body, "access": "authenticated"}, root, shared_app, dry_run=True)).to_dict()
    assert changed["access"] == "authenticated" and changed["current"]["access"] == SHARED
    assert "access" not in changed["current"]["kept"]


def test_a_kept_access_the_platform_no_longer_allows_says_so(shared_app, gradio_notebook, capsys):
    settings = shared_app / "n2a.yaml"
    text = settings.read_text()
    assert "accessAllowed:" in text
    lines = [
        'accessAllowed: ["public", "authenticated"]' if line.startswith("accessAllowed:") else line
        for line in text.splitlines()
    ]
    settings.write_text("\n".join(lines) + "\n")
    git(shared_app, "commit", "-qam", "n2a.yaml: no more per-user sharing")
    head = git(shared_app, "rev-parse", "HEAD")
    code, _, err = publish(capsys, shared_app, gradio_notebook)
    assert code == 3, err
    assert f"the app's current access {SHARED!r} (kept from apps/{APP})" in err and "--access" in err
    assert git(shared_app, "rev-parse", "HEAD") == head
