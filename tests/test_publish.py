"""The publish pipeline end to end: real `n2a init`, real git, the real kustomize binary.

Kubernetes resources are checked against the Kubernetes OpenAPI schemas bundled in
kubernetes-validate (strict: unknown fields fail), and Argo CD resources against the Argo CD
CRDs in ../shared/argocd (strict): they stand in for the API server and Argo CD, which cannot
run here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml
from conftest import ARGOCD_CRDS, GATEWAY_API_CRDS, GRADIO_CELLS, git, snapshot, write_notebook

from n2a_gitops import kustomize, yamlio
from n2a_gitops.cli import main
from n2a_gitops.validation import crdschema

APP = "greeter-jane"


def publish_cli(capsys, *args) -> tuple[int, dict | None, str]:
    code = main(["publish", *args, "--json"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else None), captured.err


def k8s_validate(doc: dict) -> None:
    kubernetes_validate.validate(doc, "1.32", strict=True)


@pytest.mark.shared("argocd", "gateway-api")
def test_init_writes_a_complete_gitops_repo(gitops):
    assert git(gitops, "log", "--format=%s").strip() == "n2a init: GitOps repository for notebook apps"
    assert git(gitops, "status", "--porcelain") == ""
    for rel in (
        "n2a.yaml",
        "apps/_base/kustomization.yaml",
        "argocd/kustomization.yaml",
        "argocd/project-apps.yaml",
        "argocd/root-app.yaml",
    ):
        assert (gitops / rel).is_file(), rel
    docs = kustomize.build(gitops / "argocd")
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == [
        "AppProject",
        "AppProject",
        "Application",
        "Gateway",
        "LimitRange",
        "Namespace",
        "Namespace",
        "ResourceQuota",
    ]
    for doc in docs:
        if doc["apiVersion"].startswith("argoproj.io/"):
            assert crdschema.validate_against_crds(doc, ARGOCD_CRDS) == [], doc["metadata"]["name"]
        elif doc["apiVersion"].startswith("gateway.networking.k8s.io/"):
            assert crdschema.validate_against_crds(doc, GATEWAY_API_CRDS) == [], doc["metadata"]["name"]
        else:
            k8s_validate(doc)
    project = next(d for d in docs if d["kind"] == "AppProject" and d["metadata"]["name"] == "notebook-apps")
    spec = project["spec"]
    assert spec["clusterResourceWhitelist"] == []
    assert spec["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "notebook-apps"}]
    assert spec["sourceRepos"] == ["https://git.example.com/platform/gitops.git"]
    allowed = {(k["group"], k["kind"]) for k in spec["namespaceResourceWhitelist"]}
    assert {("apps", "ReplicaSet"), ("", "Pod"), ("apps", "Deployment"), ("", "ConfigMap")} <= allowed
    # New repos route through Gateway API: apps may create HTTPRoutes, not Ingresses.
    assert ("gateway.networking.k8s.io", "HTTPRoute") in allowed and ("networking.k8s.io", "Ingress") not in allowed
    root = next(d for d in docs if d["kind"] == "Application")
    assert root["spec"]["source"]["path"] == "argocd/apps"
    assert root["spec"]["project"] == "notebook-apps-bootstrap"


def test_init_twice_writes_nothing_new(gitops, capsys):
    head = git(gitops, "rev-parse", "HEAD")
    assert main(["init", str(gitops), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["written"] == [] and out["commit"] is None
    assert git(gitops, "rev-parse", "HEAD") == head


@pytest.mark.shared("argocd", "gateway-api")
def test_publish_gradio_notebook_commits_only_the_app(gitops, gradio_notebook, capsys):
    before = git(gitops, "rev-parse", "HEAD").strip()
    code, result, err = publish_cli(capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane")
    assert code == 0, err
    assert result["app"] == APP and result["framework"] == "gradio"
    assert result["path"] == f"apps/{APP}"
    assert result["url"] == f"https://{APP}.apps.example.com/"
    assert result["pushed"] is False
    assert any(r.startswith("gradio") for r in result["requirements"])
    assert set(result) >= {"app", "framework", "path", "commit", "url", "requirements", "warnings", "pushed"}
    # Exactly one new commit, touching only the app's folder and its child Application.
    assert git(gitops, "rev-list", f"{before}..HEAD").split() == [result["commit"]]
    assert git(gitops, "log", "-1", "--format=%s").strip() == f"publish {APP} from greeter.ipynb"
    touched = git(gitops, "diff", "--name-only", before, "HEAD").split()
    assert touched and all(p.startswith(f"apps/{APP}/") or p == f"argocd/apps/{APP}.yaml" for p in touched)
    assert f"argocd/apps/{APP}.yaml" in touched
    assert git(gitops, "status", "--porcelain") == ""

    docs = kustomize.build(gitops / "apps" / APP)
    by_kind = {d["kind"]: d for d in docs if not d["metadata"]["name"].startswith(f"{APP}-access-")}
    assert sorted(d["kind"] for d in docs) == [
        "ConfigMap",
        "ConfigMap",
        "Deployment",
        "HTTPRoute",
        "NetworkPolicy",
        "Service",
    ]
    for doc in docs:
        if doc["kind"] == "HTTPRoute":
            assert crdschema.validate_against_crds(doc, GATEWAY_API_CRDS) == []
        else:
            k8s_validate(doc)
        assert doc["metadata"]["namespace"] == "notebook-apps"
        assert doc["metadata"]["labels"]["n2a.dev/owner"] == "jane"

    cm = by_kind["ConfigMap"]
    assert cm["metadata"]["name"].startswith(f"{APP}-code-")
    assert "import gradio" in cm["data"]["app.py"]
    assert "gradio" in cm["data"]["requirements.txt"]

    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    # The app and (n2a.yaml's default access: authenticated) its sign-in proxy.
    assert [c["name"] for c in pod["containers"]] == ["app", "oauth2-proxy"]
    for c in pod["containers"] + pod["initContainers"]:
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
    app = pod["containers"][0]
    assert app["resources"]["limits"] and app["resources"]["requests"]
    assert app["readinessProbe"]["httpGet"]["path"] == "/config"  # gradio's cheap route
    assert app["livenessProbe"] and app["startupProbe"]
    assert app["workingDir"] == "/app/work"
    mounts = {m["mountPath"] for m in app["volumeMounts"]}
    assert {"/app/work", "/home/app", "/tmp"} <= mounts
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["code"]["projected"]["sources"][0]["configMap"]["name"] == cm["metadata"]["name"]
    assert volumes["access"]["configMap"]["name"].startswith(f"{APP}-access-")
    assert all("emptyDir" in volumes[n] for n in ("work", "home", "tmp", "venv"))
    assert pod["initContainers"][0]["name"] == "install"

    route = by_kind["HTTPRoute"]["spec"]
    assert route["hostnames"] == [f"{APP}.apps.example.com"]
    assert route["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "apps",
            "namespace": "n2a-gateway",
            "sectionName": "https-apps",
        }
    ]
    assert route["rules"] == [{"backendRefs": [{"name": f"{APP}-web", "port": 80}]}]
    assert by_kind["Service"]["spec"]["selector"]["app.kubernetes.io/instance"] == APP
    assert by_kind["Service"]["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "proxy"}]
    assert by_kind["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == APP

    application = yaml.safe_load((gitops / f"argocd/apps/{APP}.yaml").read_text())
    assert crdschema.validate_against_crds(application, ARGOCD_CRDS) == []
    spec = application["spec"]
    assert spec["project"] == "notebook-apps"
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "notebook-apps"}
    assert spec["source"]["path"] == f"apps/{APP}"
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert {"ServerSideApply=true", "PruneLast=true"} <= set(spec["syncPolicy"]["syncOptions"])
    assert application["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    annotations = application["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/manifest-generate-paths"] == ".;/apps/_base"
    assert annotations["link.argocd.argoproj.io/app"].endswith(f"https://{APP}.apps.example.com/")
    info = {i["name"]: i["value"] for i in spec["info"]}
    assert info["owner"] == "jane" and info["framework"] == "gradio" and info["notebook"] == "greeter.ipynb"
    assert info["access"] == "authenticated" and result["access"] == "authenticated"


def test_republish_unchanged_makes_no_commit_and_an_edit_rolls_the_configmap(gitops, gradio_notebook, capsys):
    code, first, _ = publish_cli(capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane")
    assert code == 0
    head = git(gitops, "rev-parse", "HEAD")
    cm_before = next(
        d
        for d in kustomize.build(gitops / "apps" / APP)
        if d["kind"] == "ConfigMap" and "-code-" in d["metadata"]["name"]
    )["metadata"]["name"]

    code, again, err = publish_cli(capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane")
    assert code == 0 and again["commit"] is None
    assert "no commit" in err
    assert git(gitops, "rev-parse", "HEAD") == head

    cells = list(GRADIO_CELLS)
    cells[2] = cells[2].replace("Greeter app", "Greeter app v2")
    write_notebook(gradio_notebook, cells)
    code, edited, _ = publish_cli(capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane")
    assert code == 0 and edited["commit"] and edited["commit"] != first["commit"]
    docs = kustomize.build(gitops / "apps" / APP)
    cm_after = next(d for d in docs if d["kind"] == "ConfigMap" and "-code-" in d["metadata"]["name"])["metadata"][
        "name"
    ]
    assert cm_after != cm_before
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert (
        deployment["spec"]["template"]["spec"]["volumes"][0]["projected"]["sources"][0]["configMap"]["name"] == cm_after
    )


def test_publish_leaves_other_uncommitted_work_exactly_as_it_was(gitops, gradio_notebook, capsys):
    (gitops / "notes.txt").write_text("staged\n")
    git(gitops, "add", "notes.txt")
    (gitops / "n2a.yaml").write_text((gitops / "n2a.yaml").read_text() + "# local edit\n")
    (gitops / "scratch.txt").write_text("untracked\n")
    status_before = git(gitops, "status", "--porcelain")
    code, result, err = publish_cli(capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane")
    assert code == 0, err
    assert git(gitops, "status", "--porcelain") == status_before
    assert (gitops / "n2a.yaml").read_text().endswith("# local edit\n")
    committed = git(gitops, "show", "--name-only", "--format=", "HEAD").split()
    assert "notes.txt" not in committed and "n2a.yaml" not in committed


def test_dry_run_touches_nothing(gitops, gradio_notebook, capsys):
    before = snapshot(gitops)
    code, result, err = publish_cli(capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane", "--dry-run")
    assert code == 0, err
    assert result["commit"] is None and result["app"] == APP
    assert f"apps/{APP}/kustomization.yaml" in err  # the plan lists the files
    assert snapshot(gitops) == before


def test_push_delivers_the_commit_and_rebases_when_the_remote_moved(remote_clone, gradio_notebook, tmp_path, capsys):
    clone, bare = remote_clone
    # Someone else pushes first: the remote moves under us.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    (other / "apps" / "README.md").write_text("apps live here\n")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "docs")
    git(other, "push", "-q")

    code, result, err = publish_cli(capsys, str(gradio_notebook), "--repo", str(clone), "--owner", "jane", "--push")
    assert code == 0, err
    assert result["pushed"] is True
    remote_log = git(bare, "log", "--format=%s", "main").splitlines()
    assert remote_log[:2] == [f"publish {APP} from greeter.ipynb", "docs"]
    assert git(clone, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")


def test_data_beyond_the_configmap_budget_ships_as_blobs(gitops, gradio_notebook, capsys):
    # Issue 16.2: the build stays under 1 MiB whatever the data weighs (before, these three files
    # were spread over three code ConfigMaps). tests/test_blobs*.py cover blobs in depth.
    data = gradio_notebook.parent / "data"
    data.mkdir()
    for i in range(3):  # 3 x 600 KiB: more than one ConfigMap can hold
        (data / f"part{i}.csv").write_text(("x," * 300 + "\n") * 1024)
    code, result, err = publish_cli(
        capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane", "--include", "data"
    )
    assert code == 0, err
    text = kustomize.build_text(gitops / "apps" / APP)
    assert len(text.encode()) < 1024 * 1024
    docs = [d for d in yamlio.load_all(text) if d]
    maps = [d for d in docs if d["kind"] == "ConfigMap" and "-code" in d["metadata"]["name"]]
    sources = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["volumes"][0]["projected"][
        "sources"
    ]
    paths = {item["path"] for s in sources for item in s["configMap"]["items"]}
    assert {"app.py", "requirements.txt"} <= paths and not any(p.startswith("data/") for p in paths)
    assert {s["configMap"]["name"] for s in sources} == {cm["metadata"]["name"] for cm in maps}
    listed = json.loads((gitops / "apps" / APP / "blobs.json").read_text())["files"]
    assert sorted(f["path"] for f in listed) == ["data/part0.csv", "data/part1.csv", "data/part2.csv"]


def test_env_values_reach_the_container_verbatim(gitops, gradio_notebook, capsys):
    hostile = 'x"\nmalicious: true\n- name: EVIL'
    code, _, err = publish_cli(
        capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane", "--env", f"GREETING={hostile}"
    )
    assert code == 0, err
    deployment = next(d for d in kustomize.build(gitops / "apps" / APP) if d["kind"] == "Deployment")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["GREETING"] == hostile
    assert "EVIL" not in env and "malicious" not in deployment["spec"]


# -- bad input: one message, a distinct exit code, nothing lost --------------------------------


def _run_cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "n2a_gitops", *args], capture_output=True, text=True, cwd=cwd, env=env)


def _bad_notebook(tmp_path, kind):
    if kind == "invalid-json":
        p = tmp_path / "broken.ipynb"
        p.write_text('{"cells": [ this is not json')
        return p
    if kind == "no-code":
        return write_notebook(tmp_path / "prose.ipynb", [("markdown", "# Only words")])
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "case, expected_code, message",
    [
        ("invalid-json", 1, "broken.ipynb"),
        ("no-code", 1, "code"),
        ("unknown-framework", 2, "--framework"),
        ("empty-name", 2, "--name"),
        ("long-name", 2, "characters"),
        ("missing-requirements", 2, "missing.txt"),
        ("not-gitops", 2, "n2a.yaml"),
        ("detached-head", 1, "detached"),
        ("kustomize-fails", 1, "kustomize"),
        ("dirty-app-folder", 1, "uncommitted"),
        ("secret-in-skipped-cell", 3, "secrets"),
    ],
)
def test_bad_input_gives_one_message_and_loses_nothing(case, expected_code, message, gitops, gradio_notebook, tmp_path):
    nb, repo, extra = gradio_notebook, gitops, []
    assert _run_cli("publish", str(nb), "--repo", str(repo), "--owner", "jane").returncode == 0
    if case in ("invalid-json", "no-code"):
        nb = _bad_notebook(tmp_path, case)
    elif case == "unknown-framework":
        extra = ["--framework", "tkinter"]
    elif case == "empty-name":
        extra = ["--name", "***"]
    elif case == "long-name":
        extra = ["--name", "n" * 80]
    elif case == "missing-requirements":
        extra = ["--requirements", str(tmp_path / "missing.txt")]
    elif case == "not-gitops":
        repo = tmp_path / "plain"
        repo.mkdir()
        git(repo, "init", "-q")
        (repo / "x.txt").write_text("x")
        git(repo, "add", "x.txt")
        git(repo, "commit", "-qm", "x")
    elif case == "detached-head":
        git(repo, "checkout", "-q", "--detach", "HEAD")
    elif case == "kustomize-fails":
        (repo / "apps/_base/kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
        git(repo, "commit", "-qam", "break the base")
        write_notebook(nb, GRADIO_CELLS[:-1] + ["demo.launch()"])
    elif case == "secret-in-skipped-cell":
        # Skipped cells are not in the app, but the notebook itself is committed beside it.
        token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
        write_notebook(nb, GRADIO_CELLS + [f"GITHUB_TOKEN = {token!r}"], tags={len(GRADIO_CELLS): ["n2a-skip"]})
    elif case == "dirty-app-folder":
        (repo / f"apps/{APP}/kustomization.yaml").write_text("# my local edit\n")
        write_notebook(nb, GRADIO_CELLS[:-1] + ["demo.launch()"])
    before = snapshot(repo)
    proc = _run_cli("publish", str(nb), "--repo", str(repo), "--owner", "jane", *extra)
    assert proc.returncode == expected_code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("error:") == 1 and "fix:" in proc.stderr
    assert message in proc.stderr
    assert snapshot(repo) == before


def test_errors_with_json_are_one_json_object(gitops, tmp_path):
    proc = _run_cli("publish", str(tmp_path / "nope.ipynb"), "--repo", str(gitops), "--json")
    assert proc.returncode == 2
    body = json.loads(proc.stdout.strip().splitlines()[-1])
    assert body["exit_code"] == 2 and "nope.ipynb" in body["error"] and body["fix"]


def test_owner_comes_from_jupyterhub_user_and_is_normalised(gitops, gradio_notebook, capsys, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "Jane.Doe@corp.com")
    code, result, err = publish_cli(capsys, str(gradio_notebook), "--repo", str(gitops), "--name", "My Greeter")
    assert code == 0, err
    assert result["app"] == "my-greeter-jane-doe-corp-com"
    assert "normalised" in err


def test_repo_is_found_from_n2a_repo_and_the_current_directory(gitops, gradio_notebook, capsys, monkeypatch):
    monkeypatch.setenv("N2A_REPO", str(gitops))
    code, result, _ = publish_cli(capsys, str(gradio_notebook), "--owner", "jane", "--dry-run")
    assert code == 0 and result["app"] == APP
    monkeypatch.delenv("N2A_REPO")
    monkeypatch.chdir(gitops / "apps")
    code, result, _ = publish_cli(capsys, str(gradio_notebook), "--owner", "jane", "--dry-run")
    assert code == 0 and result["app"] == APP


def test_python_api_returns_the_same_result(gitops, gradio_notebook):
    import n2a_gitops

    result = n2a_gitops.publish(gradio_notebook, repo=gitops, owner="jane")
    assert result.app == APP and len(result.commit) == 40
    legacy = n2a_gitops.deploy("greeter", str(gradio_notebook), repo=gitops, owner="jane")
    assert legacy.app == APP and legacy.commit is None  # same content: nothing new to commit


def test_demo_publishes_the_bundled_example_and_pushes(tmp_path, capsys):
    assert main(["demo", "--dir", str(tmp_path / "demo"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["app"] == "gradio-hello-demo" and result["pushed"] is True
    bare = tmp_path / "demo" / "remote.git"
    assert git(bare, "log", "-1", "--format=%H", "main").strip() == result["commit"]
    assert (tmp_path / "demo" / "gitops" / "apps" / "gradio-hello-demo" / "kustomization.yaml").is_file()


def test_wait_needs_push(gitops, gradio_notebook, capsys):
    code, body, err = publish_cli(capsys, str(gradio_notebook), "--repo", str(gitops), "--owner", "jane", "--wait")
    assert code == 2 and "--push" in body["fix"]


def test_wait_refuses_a_dry_run_before_anything_happens(remote_clone, gradio_notebook, capsys, monkeypatch):
    """A dry run pushes nothing, so there is no revision to wait for: refused up front (it used to
    reach the wait with no revision and fail with a TypeError). The loopback server from
    fake_argocd.py stands in for Argo CD, so only the missing revision could make the wait fail."""
    from fake_argocd import TOKEN, FakeArgoCD, application

    clone, bare = remote_clone
    before, remote_before = snapshot(clone), git(bare, "log", "--format=%H", "main")
    with FakeArgoCD() as argo:
        argo.add_app(APP, application(APP, revision="0" * 40))
        monkeypatch.setenv("N2A_ARGOCD_URL", argo.url)
        monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN)
        code, body, err = publish_cli(
            capsys, str(gradio_notebook), "--repo", str(clone), "--owner", "jane", "--push", "--dry-run", "--wait", "1"
        )
    assert code == 2, err
    assert "dry run" in body["error"] and "--dry-run" in body["fix"]
    assert snapshot(clone) == before and git(bare, "log", "--format=%H", "main") == remote_before


def test_push_and_wait_reports_a_revision_argo_cd_has_not_synced(remote_clone, gradio_notebook, capsys, monkeypatch):
    """The loopback server from fake_argocd.py stands in for Argo CD: it keeps answering with an
    older revision, so the wait times out with Argo CD's message and the logs command to run."""
    from fake_argocd import TOKEN, FakeArgoCD, application

    clone, bare = remote_clone
    with FakeArgoCD() as argo:
        argo.add_app(APP, application(APP, revision="0" * 40, message="one or more objects failed to apply"))
        monkeypatch.setenv("N2A_ARGOCD_URL", argo.url)
        monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN)
        code, body, err = publish_cli(
            capsys, str(gradio_notebook), "--repo", str(clone), "--owner", "jane", "--push", "--wait", "1"
        )
    assert code == 1
    assert git(bare, "log", "-1", "--format=%s", "main").strip() == f"publish {APP} from greeter.ipynb"
    assert "one or more objects failed to apply" in err
    assert f"n2a logs {APP}" in err


def test_an_app_without_env_of_its_own_keeps_the_base_environment(gitops, capsys):
    """An empty env list in the patch would make kustomize drop the base's PATH and HOME."""
    from conftest import REPO_ROOT

    code, result, err = publish_cli(
        capsys, str(REPO_ROOT / "examples" / "panel_hello.ipynb"), "--repo", str(gitops), "--owner", "jane"
    )
    assert code == 0, err
    deployment = next(d for d in kustomize.build(gitops / result["path"]) if d["kind"] == "Deployment")
    env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PATH"].startswith("/opt/venv/app/bin:") and env["HOME"] == "/home/app" and env["PORT"] == "8080"
