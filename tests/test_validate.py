"""`n2a validate` on GitOps repos made by the real `n2a init` + `n2a publish`, built by the real
kustomize, checked against the real Kubernetes schemas and Argo CD CRDs.

A repo with several apps passes; then each breakage, on its own, must fail with its rule.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ARGOCD_CRDS, GRADIO_CELLS, write_notebook

from n2a_gitops.cli import main
from n2a_gitops.config import load_settings
from n2a_gitops.errors import EXIT_POLICY
from n2a_gitops.validation.checks import podsecurity
from n2a_gitops.validation.validate import Problem, check_app, validate_repo

CRDS = ARGOCD_CRDS
APPS = ("greeter-jane", "hello-bob", "report-carol")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


def _make_repo(base: Path, *extra_init: str) -> Path:
    """`n2a init` + three `n2a publish` runs (each a real commit)."""
    root = base / "gitops"
    nb = write_notebook(base / "nb" / "greeter.ipynb", GRADIO_CELLS)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in GIT_ENV.items():
            mp.setenv(key, value)
        mp.setenv("XDG_CONFIG_HOME", str(base / "config"))
        mp.delenv("N2A_REPO", raising=False)
        assert (
            main(
                [
                    "init",
                    str(root),
                    "--repo-url",
                    "https://git.example.com/platform/gitops.git",
                    "--apps-domain",
                    "apps.example.com",
                    *extra_init,
                ]
            )
            == 0
        )
        for app in APPS:
            name, owner = app.split("-")
            assert main(["publish", str(nb), "--repo", str(root), "--name", name, "--owner", owner, "--quiet"]) == 0
    return root


# These rules hold for both ways of routing; the Ingress repos here keep the Ingress rules
# covered (test_gateway_access.py covers Gateway API routes and the sign-in proxy).
@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return _make_repo(tmp_path_factory.mktemp("published"), "--routing", "ingress")


@pytest.fixture(scope="module")
def published_appset(tmp_path_factory) -> Path:
    return _make_repo(tmp_path_factory.mktemp("published-appset"), "--applicationset", "--routing", "ingress")


@pytest.fixture
def repo(published, tmp_path) -> Path:
    """A private copy of the published repo (git history included) for one test to break."""
    copy_root = tmp_path / "repo"
    shutil.copytree(published, copy_root, symlinks=True)
    return copy_root


def problems_of(root: Path, **kw) -> list[Problem]:
    return validate_repo(root, load_settings(root), **kw)


def rules(problems) -> set[str]:
    return {p.rule for p in problems}


def edit_yaml(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def add_resource(root: Path, app: str, filename: str, doc: dict) -> None:
    (root / "apps" / app / filename).write_text(yaml.safe_dump(doc))
    edit_yaml(root / "apps" / app / "kustomization.yaml", lambda k: k["resources"].append(filename))


def add_patch(root: Path, app: str, filename: str, doc: dict) -> None:
    (root / "apps" / app / filename).write_text(yaml.safe_dump(doc))
    edit_yaml(root / "apps" / app / "kustomization.yaml", lambda k: k["patches"].append({"path": filename}))


# -- the good case ---------------------------------------------------------------------------


@pytest.mark.shared("argocd")
def test_a_repo_with_several_published_apps_passes_with_and_without_crds(repo, capsys):
    notes: list[str] = []
    assert validate_repo(repo, load_settings(repo), crds_dir=CRDS, notes=notes) == []
    assert not any("skipped" in n for n in notes)
    notes = []
    assert validate_repo(repo, load_settings(repo), notes=notes) == []
    assert any("full CRD check was skipped" in n for n in notes)

    assert main(["validate", "--repo", str(repo), "--crds", str(CRDS), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result == {"ok": True, "problems": [], "notes": []}


# -- each breakage on its own ------------------------------------------------------------------


@pytest.mark.shared("argocd")
def test_child_application_moved_to_the_default_project_fails(repo, capsys):
    edit_yaml(repo / "argocd/apps/hello-bob.yaml", lambda a: a["spec"].__setitem__("project", "default"))
    problems = problems_of(repo, crds_dir=CRDS)
    assert [(p.file, p.resource, p.rule) for p in problems] == [
        ("argocd/apps/hello-bob.yaml", "Application/hello-bob", "application-project")
    ]
    assert "'default'" in problems[0].message and "notebook-apps" in problems[0].fix

    assert main(["validate", "--repo", str(repo)]) == EXIT_POLICY
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [str(problems[0])]
    assert out[0].startswith("argocd/apps/hello-bob.yaml: Application/hello-bob: [application-project] ")
    assert "(fix: set spec.project: notebook-apps)" in out[0]


def test_child_application_with_another_destination_or_folder_fails(repo):
    def retarget(a):
        a["spec"]["destination"]["namespace"] = "kube-system"
        a["spec"]["source"]["path"] = "apps/greeter-jane"

    edit_yaml(repo / "argocd/apps/hello-bob.yaml", retarget)
    problems = problems_of(repo)
    assert {(p.file, p.rule) for p in problems} == {
        ("argocd/apps/hello-bob.yaml", "application-destination"),
        ("argocd/apps/hello-bob.yaml", "application-source"),
    }


@pytest.mark.shared("argocd")
def test_cluster_role_in_an_overlay_fails(repo):
    add_resource(
        repo,
        "greeter-jane",
        "clusterrole.yaml",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "reader"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
        },
    )
    problems = problems_of(repo, crds_dir=CRDS)
    assert [(p.file, p.resource, p.rule) for p in problems] == [
        ("apps/greeter-jane", "ClusterRole/greeter-jane-reader", "appproject-kind")
    ]
    assert "cluster-scoped kind rbac.authorization.k8s.io/ClusterRole" in problems[0].message


@pytest.mark.shared("argocd")
def test_privileged_container_in_an_overlay_fails(repo):
    add_patch(
        repo,
        "report-carol",
        "patch-privileged.yaml",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "securityContext": {"privileged": True}}]}}},
        },
    )
    problems = problems_of(repo, crds_dir=CRDS)
    assert [(p.file, p.resource, p.rule) for p in problems] == [
        ("apps/report-carol", "Deployment/report-carol-web", "pod-security")
    ]
    assert problems[0].message == "container 'app' is privileged"


@pytest.mark.shared("argocd")
def test_configmap_past_one_mebibyte_fails(repo):
    src = repo / "apps/hello-bob/src"
    (src / "data.csv").write_text("x" * (1024 * 1024))  # with the code, past 1 MiB

    def grow(k):
        k["configMapGenerator"][0]["files"].append("data.csv=src/data.csv")

    edit_yaml(repo / "apps/hello-bob/kustomization.yaml", grow)
    problems = problems_of(repo, crds_dir=CRDS)
    assert [(p.file, p.rule) for p in problems] == [("apps/hello-bob", "configmap-size")]
    assert problems[0].resource.startswith("ConfigMap/hello-bob-code-")
    assert "at most 1,048,576" in problems[0].message


@pytest.mark.shared("argocd")
def test_two_apps_claiming_one_host_fails(repo):
    def steal(p):
        p["spec"]["rules"][0]["host"] = "greeter-jane.apps.example.com"
        p["spec"]["tls"][0]["hosts"] = ["greeter-jane.apps.example.com"]

    edit_yaml(repo / "apps/hello-bob/patch-ingress.yaml", steal)
    problems = problems_of(repo, crds_dir=CRDS)
    conflict = [p for p in problems if p.rule == "host-conflict"]
    assert {p.file for p in conflict} == {"apps/hello-bob", "apps/greeter-jane"}
    assert all("greeter-jane.apps.example.com" in p.message for p in conflict)
    assert [(p.file, p.rule) for p in problems if p.rule != "host-conflict"] == [("apps/hello-bob", "ingress-host")]


# -- more rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda s: s.__setitem__("hostNetwork", True), "hostNetwork is true"),
        (
            lambda s: s["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}),
            "volume 'docker' is of type hostPath",
        ),
        (lambda s: s.__setitem__("automountServiceAccountToken", True), "automountServiceAccountToken is not false"),
        (
            lambda s: s["containers"][0]["securityContext"]["capabilities"].__setitem__("add", ["SYS_ADMIN"]),
            "adds capabilities SYS_ADMIN",
        ),
        (lambda s: s["containers"][0]["securityContext"]["capabilities"].__setitem__("drop", []), "does not drop ALL"),
        (
            lambda s: s["initContainers"][0]["securityContext"].__setitem__("allowPrivilegeEscalation", True),
            "container 'install' does not set allowPrivilegeEscalation",
        ),
        (lambda s: s["securityContext"].__setitem__("runAsUser", 0), "the pod runs as uid 0"),
        (
            lambda s: (
                s["securityContext"].pop("runAsNonRoot"),
                [c["securityContext"].pop("runAsNonRoot", None) for c in s["containers"] + s["initContainers"]],
            ),
            "may run as root",
        ),
        (lambda s: s["securityContext"].pop("seccompProfile"), "no seccomp profile"),
        (
            lambda s: s["containers"][0]["securityContext"].__setitem__("readOnlyRootFilesystem", False),
            "writable root filesystem",
        ),
        (
            lambda s: s["containers"][0].setdefault("ports", []).append({"containerPort": 9, "hostPort": 9}),
            "uses hostPort 9",
        ),
    ],
)
def test_pod_security_rules_on_the_real_deployment(repo, mutate, expected):
    from n2a_gitops import kustomize

    deployment = next(d for d in kustomize.build(repo / "apps/hello-bob") if d["kind"] == "Deployment")
    spec = podsecurity.pod_spec(deployment)
    assert podsecurity.violations(spec) == []
    broken = copy.deepcopy(spec)
    mutate(broken)
    found = podsecurity.violations(broken)
    assert found and any(expected in message for message, _fix in found), found


@pytest.mark.shared("argocd")
def test_argo_cd_typos_are_caught_with_and_without_crds(repo):
    edit_yaml(repo / "argocd/apps/greeter-jane.yaml", lambda a: a["spec"].__setitem__("syncPolicyy", {}))
    with_crds = problems_of(repo, crds_dir=CRDS)
    assert [(p.file, p.rule) for p in with_crds] == [("argocd/apps/greeter-jane.yaml", "argocd-crd")]
    assert "syncPolicyy" in with_crds[0].message
    without = problems_of(repo)
    assert [(p.file, p.rule) for p in without] == [("argocd/apps/greeter-jane.yaml", "argocd-schema")]


def test_unknown_kubernetes_field_is_caught_strictly(repo):
    add_patch(
        repo,
        "hello-bob",
        "patch-typo.yaml",
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicass": 2}},
    )
    problems = problems_of(repo)
    assert [(p.resource, p.rule) for p in problems] == [("Deployment/hello-bob-web", "kubernetes-schema")]
    assert "replicass" in problems[0].message


def test_a_hand_edit_past_the_maxima_fails(repo, capsys):
    add_patch(
        repo,
        "hello-bob",
        "patch-big.yaml",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 5,
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "resources": {
                                    "requests": {"memory": "64Gi"},
                                    "limits": {"memory": "64Gi", "cpu": "4001m", "amd.com/gpu": "1"},
                                },
                            }
                        ]
                    }
                },
            },
        },
    )
    problems = problems_of(repo, apps=["hello-bob"])
    found = sorted((p.rule, p.message) for p in problems)
    assert [r for r, _ in found] == ["resources-max"] * 4 + ["resources-name"]
    text = " ".join(m for _, m in found)
    assert "requests.memory 64Gi is above the maximum 16Gi" in text and "limits.memory 64Gi" in text
    assert "limits.cpu 4001m is above the maximum 4" in text and "replicas 5 is above the maximum 3" in text
    assert "amd.com/gpu" in text
    assert main(["validate", "--repo", str(repo)]) == EXIT_POLICY
    assert "16Gi" in capsys.readouterr().out


def test_gpus_past_the_maximum_or_uneven_fail(repo):
    edit_yaml(repo / "n2a.yaml", lambda d: d.__setitem__("maxResources", {"gpu": 1}))
    add_patch(
        repo,
        "report-carol",
        "patch-gpu.yaml",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "resources": {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}},
                            }
                        ]
                    }
                }
            },
        },
    )
    found = sorted((p.rule, p.message) for p in problems_of(repo, apps=["report-carol"]))
    assert [r for r, _ in found] == ["resources-gpu", "resources-max"]
    assert any("takes 2 nvidia.com/gpu, above the maximum 1" in m for _, m in found)


def test_a_hand_edit_that_reads_another_apps_secret_or_picks_nodes_fails(repo):
    add_patch(
        repo,
        "greeter-jane",
        "patch-reach.yaml",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "template": {
                    "spec": {
                        "nodeName": "node-1",
                        "nodeSelector": {"kubernetes.io/hostname": "node-1"},
                        "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}],
                        "containers": [
                            {
                                "name": "app",
                                "env": [
                                    {
                                        "name": "MINE",
                                        "valueFrom": {"secretKeyRef": {"name": "greeter-jane-keys", "key": "k"}},
                                    },
                                    {
                                        "name": "THEIRS",
                                        "valueFrom": {"secretKeyRef": {"name": "hello-bob-keys", "key": "k"}},
                                    },
                                ],
                                "envFrom": [{"secretRef": {"name": "db-admin"}}],
                            }
                        ],
                        "volumes": [{"name": "creds", "secret": {"secretName": "cloud-credentials"}}],
                    }
                }
            },
        },
    )
    problems = problems_of(repo, apps=["greeter-jane"])
    found = sorted((p.rule, p.message.split(",")[0]) for p in problems)
    assert [r for r, _ in found] == ["placement"] * 3 + ["secret-not-allowed"] * 3
    secrets = " ".join(m for r, m in found if r == "secret-not-allowed")
    assert "hello-bob-keys" in secrets and "db-admin" in secrets and "cloud-credentials" in secrets
    assert "greeter-jane-keys" not in secrets  # its own prefix: allowed by the default rule


def test_a_limit_range_below_the_maxima_and_an_unbacked_external_secret_kind_fail(repo):
    edit_yaml(repo / "argocd/limitrange.yaml", lambda d: d["spec"]["limits"][0]["max"].__setitem__("memory", "8Gi"))
    edit_yaml(
        repo / "argocd/project-apps.yaml",
        lambda d: d["spec"]["namespaceResourceWhitelist"].append(
            {"group": "external-secrets.io", "kind": "ExternalSecret"}
        ),
    )
    problems = problems_of(repo)
    assert sorted((p.file, p.rule) for p in problems) == [
        ("argocd/limitrange.yaml", "limitrange-max"),
        ("argocd/project-apps.yaml", "appproject-externalsecret"),
    ]


def test_a_folder_relabelled_to_another_owner_is_flagged(repo):
    edit_yaml(
        repo / "argocd/apps/hello-bob.yaml", lambda a: a["metadata"]["labels"].__setitem__("n2a.dev/owner", "jane")
    )
    problems = problems_of(repo)
    assert [(p.file, p.rule) for p in problems] == [("argocd/apps/hello-bob.yaml", "ownership")]

    def take_over(k):
        k["labels"][1]["pairs"]["n2a.dev/owner"] = "mallory"

    edit_yaml(repo / "apps/greeter-jane/kustomization.yaml", take_over)
    problems = problems_of(repo, apps=["greeter-jane"])
    assert {(p.file, p.rule) for p in problems} == {
        ("apps/greeter-jane", "ownership"),
        ("argocd/apps/greeter-jane.yaml", "ownership"),
    }


def test_broken_overlay_and_orphaned_application_are_reported(repo):
    (repo / "apps/hello-bob/kustomization.yaml").write_text("resources: [../missing]\n")
    shutil.rmtree(repo / "apps/report-carol")
    problems = problems_of(repo)
    assert {(p.file, p.rule) for p in problems} == {
        ("apps/hello-bob", "kustomize-build"),
        ("argocd/apps/report-carol.yaml", "application-folder"),
    }


def test_changed_since_checks_only_the_touched_apps(repo):
    git = lambda *a: subprocess.run(
        ["git", *a], cwd=repo, check=True, capture_output=True, env={**GIT_ENV, "PATH": "/usr/bin:/bin"}
    )
    edit_yaml(repo / "argocd/apps/greeter-jane.yaml", lambda a: a["spec"].__setitem__("project", "default"))
    git("commit", "-qam", "break greeter")
    edit_yaml(repo / "argocd/apps/hello-bob.yaml", lambda a: a["spec"].__setitem__("project", "default"))
    notes: list[str] = []
    problems = validate_repo(repo, load_settings(repo), changed_since="HEAD", notes=notes)
    assert [p.file for p in problems] == ["argocd/apps/hello-bob.yaml"]
    assert any("changed since HEAD: 1 app(s)" in n for n in notes), notes
    # A change of the shared base concerns every app.
    (repo / "apps/_base/service.yaml").write_text((repo / "apps/_base/service.yaml").read_text() + "\n")
    problems = validate_repo(repo, load_settings(repo), changed_since="HEAD")
    assert sorted(p.file for p in problems) == ["argocd/apps/greeter-jane.yaml", "argocd/apps/hello-bob.yaml"]


def test_nearest_kubernetes_version_is_used_and_said(repo):
    edit_yaml(repo / "n2a.yaml", lambda s: s.__setitem__("kubernetesVersion", "1.19"))
    notes: list[str] = []
    assert validate_repo(repo, load_settings(repo), notes=notes) == []
    assert any("Kubernetes 1.19 schemas are not bundled" in n and "nearest, 1.25" in n for n in notes), notes


@pytest.mark.shared("argocd")
def test_check_app_is_what_publish_runs_on_one_built_app(repo):
    from n2a_gitops import kustomize

    settings = load_settings(repo)
    manifests = kustomize.build(repo / "apps/hello-bob")
    application = yaml.safe_load((repo / "argocd/apps/hello-bob.yaml").read_text())
    assert check_app(settings, "hello-bob", manifests, application, CRDS) == []
    assert [p.rule for p in check_app(settings, "hello-bob", manifests, None, None)] == ["application-missing"]
    for doc in manifests:
        if doc["kind"] == "Deployment":
            doc["spec"]["template"]["spec"]["hostPID"] = True
    assert [str(p) for p in check_app(settings, "hello-bob", manifests, application, None)] == [
        "apps/hello-bob: Deployment/hello-bob-web: [pod-security] hostPID is true (fix: remove hostPID)"
    ]


# -- ApplicationSet mode -----------------------------------------------------------------------


@pytest.mark.shared("argocd")
def test_applicationset_mode_passes_then_fails_when_its_pins_move(published_appset, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(published_appset, repo, symlinks=True)
    assert not list((repo / "argocd").glob("apps/*.yaml"))  # publish wrote no child Application
    assert problems_of(repo, crds_dir=CRDS) == []

    edit_yaml(
        repo / "argocd/applicationset.yaml", lambda a: a["spec"]["template"]["spec"].__setitem__("project", "default")
    )
    edit_yaml(repo / "argocd/applicationset.yaml", lambda a: a["spec"].__setitem__("generatorz", []))
    problems = problems_of(repo, crds_dir=CRDS)
    assert {(p.file, p.rule) for p in problems} == {
        ("argocd/applicationset.yaml", "applicationset-project"),
        ("argocd/applicationset.yaml", "argocd-crd"),
    }


def test_cached_schema_check_answers_exactly_like_kubernetes_validate(repo):
    """schemas.kubernetes_errors builds kubernetes-validate's validator once; same verdicts."""
    import kubernetes_validate

    from n2a_gitops import kustomize
    from n2a_gitops.validation.checks.schemas import kubernetes_errors

    docs = kustomize.build(repo / "apps/hello-bob")
    broken = copy.deepcopy(docs)
    for doc in broken:
        doc["spec" if "spec" in doc else "data"]["surplus"] = 1
    broken.append(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": [{"port": "eighty"}]}}
    )
    broken.append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    for doc in docs + broken:
        try:
            kubernetes_validate.validate(doc, "1.32", strict=True)
            expected = []
        except kubernetes_validate.ValidationError as exc:
            expected = [f"{'.'.join(str(p) for p in exc.path) or '(root)'}: {exc.message}"]
        except kubernetes_validate.utils.SchemaNotFoundError as exc:
            expected = [exc.message]
        assert kubernetes_errors(doc, "1.32") == expected
    assert all(kubernetes_errors(doc, "1.32") for doc in broken)


def test_missing_kustomize_is_one_clear_error(repo, capsys, monkeypatch):
    monkeypatch.setenv("N2A_KUSTOMIZE", str(repo / "no-such-kustomize"))
    assert main(["validate", "--repo", str(repo)]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "N2A_KUSTOMIZE" in err and "install kustomize" in err


@pytest.mark.shared("argocd", "gateway-api")
def test_this_repository_is_itself_a_valid_gitops_repo(tmp_path):
    """The project's own n2a.yaml, apps/ and argocd/ pass the gate CI runs on GitOps repos, with
    the full Argo CD and Gateway API CRD checks (one folder, as an admin exports them)."""
    from conftest import ARGOCD_CRDS, GATEWAY_API_CRDS, REPO_ROOT

    from n2a_gitops.config import load_settings
    from n2a_gitops.validation.validate import validate_repo

    crds = tmp_path / "crds"
    crds.mkdir()
    for source in (*ARGOCD_CRDS.glob("*-crd.yaml"), *GATEWAY_API_CRDS.glob("*.yaml")):
        (crds / source.name).symlink_to(source)
    notes: list[str] = []
    problems = validate_repo(REPO_ROOT, load_settings(REPO_ROOT), crds_dir=crds, notes=notes)
    assert [str(p) for p in problems] == []
    assert not any("skipped" in n for n in notes), notes
    assert (REPO_ROOT / "apps" / "gradio-hello-demo" / "kustomization.yaml").is_file()


def test_this_repositorys_admin_files_are_what_init_renders_from_its_n2a_yaml():
    """n2a.yaml, apps/_base and argocd/ of this repository are regenerated when templates change."""
    from conftest import REPO_ROOT

    from n2a_gitops import render

    files = render.render_repo(load_settings(REPO_ROOT))
    stale = sorted(
        rel
        for rel, content in files.items()
        if not (REPO_ROOT / rel).is_file() or (REPO_ROOT / rel).read_bytes() != content
    )
    assert stale == []


@pytest.mark.shared("argocd")
def test_a_non_string_host_hides_no_other_host_problem(repo):
    # A number among an Ingress's TLS hosts (a hand edit) once reached the host rules: sorting the
    # repo's hosts (str with int) for host-conflict raised TypeError out of validate_repo, a traceback
    # for `n2a validate`. hosts_of keeps only string hosts (found by mypy: set[str] held ints).
    def edit(p):
        p["spec"]["rules"][0]["host"] = "evil.example.com"
        p["spec"]["tls"][0]["hosts"] = ["evil.example.com", 8080]

    edit_yaml(repo / "apps/hello-bob/patch-ingress.yaml", edit)
    problems = problems_of(repo, crds_dir=CRDS)
    host = [p for p in problems if p.rule == "ingress-host"]
    assert [(p.file, p.resource) for p in host] == [("apps/hello-bob", "Ingress/hello-bob-web")]
    assert "evil.example.com" in host[0].message
    assert not [p for p in problems if p.rule == "malformed"]
