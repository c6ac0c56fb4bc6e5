"""The gate admits only what n2a renders (issue 15): a security review's hand edits, committed to
a repo made by the real `n2a init` with three apps published by the real `n2a publish` (public,
private, signed-in), each refused by `n2a validate` in full and by `--changed-since HEAD~1`,
with exit 3 and its rule named. Built by the real kustomize; Argo CD, Gateway API and External
Secrets resources are checked strictly against the published CRDs in ../shared (they stand in
for the API server, which cannot run here).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ARGOCD_CRDS, EXTERNAL_SECRETS_CRDS, GATEWAY_API_CRDS, GRADIO_CELLS, write_notebook

from n2a_gitops.cli import main
from n2a_gitops.errors import EXIT_POLICY

pytestmark = pytest.mark.shared("argocd", "gateway-api")

ADMIN = "root@example.com"
PUB, PRIV, SIGNED = "pub-alice-example-com", "priv-alice-example-com", "signed-bob-example-com"
OWNERS = {PUB: "alice@example.com", PRIV: "alice@example.com", SIGNED: "bob@example.com"}
ACCESS = {PUB: "public", PRIV: "private", SIGNED: "authenticated"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def publish(root: Path, nb: Path, app: str, *extra: str) -> int:
    name = app.split("-")[0]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTERHUB_USER", OWNERS[app])  # the signed-in identity is the owner
        return main(["publish", str(nb), "--repo", str(root), "--name", name, "--access", ACCESS[app], "-q", *extra])


@pytest.fixture(scope="session")
def crds(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crds")
    for source in (
        *ARGOCD_CRDS.glob("*-crd.yaml"),
        *GATEWAY_API_CRDS.glob("*.yaml"),
        *EXTERNAL_SECRETS_CRDS.glob("*.yaml"),
    ):
        (folder / source.name).symlink_to(source)
    return folder


@pytest.fixture(scope="session")
def three_apps(tmp_path_factory) -> tuple[Path, Path]:
    """`n2a init` (admins listed, so publish keeps CODEOWNERS) and three published apps."""
    base = tmp_path_factory.mktemp("gate")
    root = base / "gitops"
    nb = write_notebook(base / "nb" / "greeter.ipynb", GRADIO_CELLS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("N2A_NO_LOCK", "1")
        mp.delenv("N2A_ACTOR", raising=False)
        init = ["init", str(root), "--repo-url", "https://git.example.com/platform/gitops.git"]
        assert main([*init, "--oidc-issuer-url", "https://sso.example.com"]) == 0
        settings = root / "n2a.yaml"
        settings.write_text(settings.read_text() + f'admins: ["{ADMIN}"]\n')
        git(root, "commit", "-qam", "n2a.yaml: admins")
        for app in (PUB, PRIV, SIGNED):
            assert publish(root, nb, app) == 0
    return root, nb


@pytest.fixture
def repo(three_apps, tmp_path, monkeypatch) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(three_apps[0], copy, symlinks=True)
    monkeypatch.delenv("N2A_ACTOR", raising=False)
    return copy


def edit_yaml(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def pod(root: Path, app: str) -> dict:
    return yaml.safe_load((root / "apps" / app / "patch-deployment.yaml").read_text())["spec"]["template"]["spec"]


def edit_pod(root: Path, app: str, change) -> None:
    edit_yaml(root / "apps" / app / "patch-deployment.yaml", lambda d: change(d["spec"]["template"]["spec"]))


def container(spec: dict, name: str = "app") -> dict:
    return next(c for c in spec["containers"] if c["name"] == name)


def cpu(n: int) -> dict:
    """The app container's resources as `n2a publish --cpu N` writes them."""
    return {"requests": {"cpu": str(n), "memory": "256Mi"}, "limits": {"cpu": str(n), "memory": "1Gi"}}


def add_resource(root: Path, app: str, filename: str, doc: dict) -> None:
    (root / "apps" / app / filename).write_text(yaml.safe_dump(doc))
    edit_yaml(root / "apps" / app / "kustomization.yaml", lambda k: k["resources"].append(filename))


def validate(root: Path, capsys, *args: str, actor: str | None = None) -> tuple[int, dict]:
    with pytest.MonkeyPatch.context() as mp:
        if actor:
            mp.setenv("N2A_ACTOR", actor)
        code = main(["validate", "--repo", str(root), "--json", *args])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1])


def rules(result: dict) -> set[str]:
    return {p["rule"] for p in result["problems"]}


def commit(root: Path, message: str = "hand edit") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def assert_ok(code: int, result: dict) -> None:
    assert (code, result["problems"]) == (0, []), [
        f"{p['file']}: [{p['rule']}] {p['message']}" for p in result["problems"]
    ]


def assert_refused(root: Path, crds: Path, capsys, expected: set[str]) -> None:
    """Refused in full and as a change since HEAD~1, with one of ``expected`` named."""
    for args in ([], ["--changed-since", "HEAD~1"]):
        code, result = validate(root, capsys, "--crds", str(crds), *args)
        assert code == EXIT_POLICY, (args, result)
        assert rules(result) & expected, (args, rules(result))


# -- the hand edits and the families -----------------------------------------------------------

PROXY_SECRET_READER = {
    "name": "oauth2-proxy",
    "image": "quay.io/oauth2-proxy/oauth2-proxy:v7.15.3",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    },
    "env": [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "n2a-oauth2-proxy", "key": "cookie-secret"}}}],
}


def proxy_container_in_public_app(root):
    edit_pod(root, PUB, lambda s: s["containers"].append(dict(PROXY_SECRET_READER)))


def bare_pod_reading_the_proxy_secret(root):
    add_resource(
        root,
        PUB,
        "pod.yaml",
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": [PROXY_SECRET_READER]}},
    )


def service_selects_the_private_apps_pods(root):
    (root / "apps" / PUB / "patch-service.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {"selector": {"app.kubernetes.io/instance": PRIV}, "ports": [{"name": "http", "port": 80}]},
            }
        )
    )
    edit_yaml(root / "apps" / PUB / "kustomization.yaml", lambda k: k["patches"].append({"path": "patch-service.yaml"}))
    edit_yaml(root / "apps" / PUB / "patch-networkpolicy.yaml", lambda n: n["spec"].__setitem__("ingress", [{}]))


def allow_all_network_policy(root):
    edit_yaml(root / "apps" / SIGNED / "patch-networkpolicy.yaml", lambda n: n["spec"].__setitem__("ingress", [{}]))


def network_policy_selecting_other_pods(root):
    edit_yaml(
        root / "apps" / SIGNED / "patch-networkpolicy.yaml",
        lambda n: n["spec"].__setitem__("podSelector", {"matchLabels": {"app.kubernetes.io/instance": PRIV}}),
    )


def target_revision_another_branch(root):
    edit_yaml(root / "argocd/apps" / f"{PUB}.yaml", lambda a: a["spec"]["source"].__setitem__("targetRevision", "dev"))


def application_with_extra_source_options(root):
    edit_yaml(
        root / "argocd/apps" / f"{PUB}.yaml",
        lambda a: a["spec"]["source"].__setitem__("kustomize", {"patches": [{"patch": "hostNetwork: true"}]}),
    )


def argocd_source_file(root):
    (root / "apps" / PUB / ".argocd-source.yaml").write_text(
        "kustomize:\n  patches:\n    - target: {kind: Deployment}\n"
        '      patch: \'[{"op": "add", "path": "/spec/template/spec/hostNetwork", "value": true}]\'\n'
    )


def argocd_source_file_named_for_the_app(root):
    (root / "apps" / PUB / f".argocd-source-{PUB}.yaml").write_text("kustomize: {namePrefix: x-}\n")


def service_account_token(root):
    def change(s):
        s["serviceAccountName"] = "default"
        s["automountServiceAccountToken"] = True

    edit_pod(root, PUB, change)


def projected_service_account_token(root):
    def change(s):
        s["volumes"].append({"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}})
        container(s).setdefault("volumeMounts", []).append({"name": "tok", "mountPath": "/var/run/tok"})

    edit_pod(root, PUB, change)


def service_account_token_secret(root):
    add_resource(
        root,
        PUB,
        "token.yaml",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "tok", "annotations": {"kubernetes.io/service-account.name": "default"}},
            "type": "kubernetes.io/service-account-token",
        },
    )


def remote_base(root):
    edit_yaml(
        root / "apps" / PUB / "kustomization.yaml",
        lambda k: k["resources"].append("https://github.com/example/evil//base?ref=main"),
    )


def remote_base_short_form(root):
    edit_yaml(
        root / "apps" / PUB / "kustomization.yaml", lambda k: k.__setitem__("components", ["github.com/x/y?ref=v1"])
    )


def another_apps_folder_as_a_base(root):
    edit_yaml(root / "apps" / PUB / "kustomization.yaml", lambda k: k["resources"].append(f"../{PRIV}"))


def shared_base_edited(root):
    path = root / "apps/_base/deployment.yaml"
    edit_yaml(path, lambda d: d["spec"]["template"]["spec"].__setitem__("hostNetwork", True))


def argocd_file_added(root):
    (root / "argocd/extra.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "x"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "notebook-apps"}],
            }
        )
    )
    edit_yaml(root / "argocd/kustomization.yaml", lambda k: k["resources"].append("extra.yaml"))


def app_project_widened(root):
    edit_yaml(root / "argocd/project-apps.yaml", lambda p: p["spec"].__setitem__("sourceRepos", ["*"]))


def rules_loosened_in_the_same_commit(root):
    edit_yaml(root / "n2a.yaml", lambda s: s["maxResources"].__setitem__("cpu", "64"))
    edit_pod(root, PRIV, lambda s: container(s)["resources"].update(cpu(64)))


def service_type_load_balancer(root):
    edit_yaml(root / "apps" / SIGNED / "patch-service.yaml", lambda s: s["spec"].__setitem__("type", "LoadBalancer"))


def service_target_port_around_the_proxy(root):
    edit_yaml(
        root / "apps" / SIGNED / "patch-service.yaml", lambda s: s["spec"]["ports"][0].__setitem__("targetPort", "http")
    )


def service_external_ips(root):
    edit_yaml(
        root / "apps" / SIGNED / "patch-service.yaml", lambda s: s["spec"].__setitem__("externalIPs", ["10.0.0.1"])
    )


def route_claims_another_host(root):
    edit_yaml(
        root / "apps" / SIGNED / "patch-httproute.yaml",
        lambda r: r["spec"]["hostnames"].append(f"{PRIV}.apps.example.com"),
    )


def route_to_another_apps_service(root):
    edit_yaml(
        root / "apps" / SIGNED / "patch-httproute.yaml",
        lambda r: r["spec"]["rules"][0]["backendRefs"][0].__setitem__("name", f"{PRIV}-web"),
    )


def route_with_a_filter(root):
    edit_yaml(
        root / "apps" / PUB / "patch-httproute.yaml",
        lambda r: r["spec"]["rules"][0].__setitem__(
            "filters",
            [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "X-User", "value": "a"}]}}],
        ),
    )


def shared_environments_volume(root):
    def change(s):
        s["volumes"].append({"name": "envs", "persistentVolumeClaim": {"claimName": "shared-envs"}})
        container(s).setdefault("volumeMounts", []).append({"name": "envs", "mountPath": "/opt/envs"})

    edit_pod(root, PUB, change)


def proxy_config_widened(root):
    cfg = root / "apps" / SIGNED / "access/oauth2-proxy.cfg"
    cfg.write_text(cfg.read_text() + 'skip_auth_routes = [".*"]\n')


def proxy_args_widened(root):
    edit_pod(root, PRIV, lambda s: container(s, "oauth2-proxy")["args"].append("--skip-auth-regex=.*"))


def proxy_image_swapped(root):
    edit_pod(root, SIGNED, lambda s: container(s, "oauth2-proxy").__setitem__("image", "example.com/proxy:latest"))


def private_app_lets_in_someone_else(root):
    users = root / "apps" / PRIV / "access/authenticated-emails.txt"
    users.write_text(users.read_text() + "bob@example.com\n")


def helm_chart(root):
    edit_yaml(
        root / "apps" / PUB / "kustomization.yaml",
        lambda k: k.__setitem__("helmCharts", [{"name": "x", "repo": "https://charts.example.com", "version": "1"}]),
    )


def token_in_a_configmap_literal(root):
    edit_yaml(
        root / "apps" / PUB / "kustomization.yaml",
        lambda k: k["configMapGenerator"].append({"name": "tok", "literals": ["T=ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2]}),
    )


def token_in_an_extra_configmap(root):
    (root / "apps" / PUB / "config").mkdir()
    (root / "apps" / PUB / "config/settings.env").write_text("GITHUB_TOKEN=ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2 + "\n")
    add_extra_configmap(root, PUB, "settings.env")


def token_in_the_code(root):
    code = root / "apps" / PUB / "src/app.py"
    code.write_text(code.read_text() + '\nAWS_SECRET = "AKIA' + "ABCDEFGHIJKLMNOP" + '"\n')


def extra_file_in_the_folder(root):
    (root / "apps" / PUB / "notes.yaml").write_text("kind: ConfigMap\n")


def prefix_of_another_app(root):
    edit_yaml(root / "apps" / PUB / "kustomization.yaml", lambda k: k.__setitem__("namePrefix", f"{PRIV}-"))


def add_extra_configmap(root: Path, app: str, filename: str, mount: str = "/app/config/settings") -> None:
    """The documented hand edit: an extra ConfigMap of files in config/, mounted read-only."""
    edit_yaml(
        root / "apps" / app / "kustomization.yaml",
        lambda k: k["configMapGenerator"].append(
            {"name": "extra-settings", "files": [f"{filename}=config/{filename}"]}
        ),
    )

    def change(s):
        s["volumes"].append({"name": "extra-settings", "configMap": {"name": "extra-settings"}})
        container(s)["volumeMounts"] = [{"name": "extra-settings", "mountPath": mount, "readOnly": True}]

    edit_pod(root, app, change)


CASES = {
    proxy_container_in_public_app: {"not-rendered", "access-secret"},
    bare_pod_reading_the_proxy_secret: {"pod-security", "access-secret", "kustomize-source"},
    service_selects_the_private_apps_pods: {"not-rendered", "access-bypass", "labels"},
    allow_all_network_policy: {"access-bypass", "not-rendered"},
    network_policy_selecting_other_pods: {"not-rendered", "access-bypass"},
    target_revision_another_branch: {"application-rendered"},
    application_with_extra_source_options: {"application-rendered", "application-source"},
    argocd_source_file: {"argocd-source"},
    argocd_source_file_named_for_the_app: {"argocd-source"},
    service_account_token: {"pod-security", "not-rendered"},
    projected_service_account_token: {"projected", "not-rendered"},
    service_account_token_secret: {"appproject-kind", "kustomize-source"},
    remote_base: {"remote-source"},
    remote_base_short_form: {"remote-source"},
    another_apps_folder_as_a_base: {"kustomize-source", "resource-conflict", "labels", "kustomize-build"},
    shared_base_edited: {"base-modified", "pod-security"},
    argocd_file_added: {"bootstrap-modified"},
    app_project_widened: {"appproject-source", "bootstrap-modified"},
    rules_loosened_in_the_same_commit: {"resources-max", "limitrange-max"},
    service_type_load_balancer: {"service-type", "not-rendered"},
    service_target_port_around_the_proxy: {"access-bypass", "not-rendered"},
    service_external_ips: {"not-rendered", "service-type"},
    route_claims_another_host: {"route-host", "host-conflict", "not-rendered"},
    route_to_another_apps_service: {"route-backend", "not-rendered"},
    route_with_a_filter: {"not-rendered"},
    shared_environments_volume: {"not-rendered"},
    proxy_config_widened: {"proxy-config", "access-config", "proxy-option"},
    proxy_args_widened: {"access-proxy", "not-rendered"},
    proxy_image_swapped: {"access-proxy", "not-rendered"},
    private_app_lets_in_someone_else: {"access-private"},
    helm_chart: {"helm"},
    token_in_a_configmap_literal: {"configmap-not-rendered", "kustomize-source"},
    token_in_an_extra_configmap: {"secret-in-git"},
    token_in_the_code: {"secret-in-git"},
    extra_file_in_the_folder: {"folder-allowlist"},
    prefix_of_another_app: {"resource-conflict", "resource-name", "not-rendered"},
}


@pytest.mark.parametrize("edit", list(CASES), ids=[f.__name__ for f in CASES])
def test_each_hand_edit_is_refused_in_full_and_as_a_change(repo, crds, capsys, edit):
    edit(repo)
    commit(repo)
    assert_refused(repo, crds, capsys, CASES[edit])


def test_a_repo_of_published_apps_passes_and_ownership_is_said_to_be_unchecked(repo, crds, capsys):
    code, result = validate(repo, capsys, "--crds", str(crds))
    assert_ok(code, result)
    code, result = validate(repo, capsys, "--crds", str(crds), "--changed-since", "HEAD~1")
    assert code == 0 and result["ownership"] == {"checked": False, "actor": None}
    assert any("ownership was not checked" in n for n in result["notes"])
    code, result = validate(repo, capsys, "--crds", str(crds), "--changed-since", "HEAD~1", actor=OWNERS[SIGNED])
    assert code == 0 and result["ownership"] == {"checked": True, "actor": OWNERS[SIGNED]}


def test_the_allowed_hand_edits_pass_and_go_through_the_same_rules(repo, crds, capsys):
    edit_pod(repo, PUB, lambda s: container(s)["env"].append({"name": "MODEL", "value": "small"}))
    (repo / "apps" / PUB / "config").mkdir()
    (repo / "apps" / PUB / "config/settings.toml").write_text('mode = "fast"\n')
    add_extra_configmap(repo, PUB, "settings.toml")
    commit(repo)
    code, result = validate(repo, capsys, "--crds", str(crds))
    assert_ok(code, result)
    code, result = validate(repo, capsys, "--crds", str(crds), "--changed-since", "HEAD~1", actor=OWNERS[PUB])
    assert_ok(code, result)
    # The same ConfigMap mounted writable, or elsewhere, is not the allowed edit.
    edit_pod(repo, PUB, lambda s: container(s)["volumeMounts"][0].__setitem__("readOnly", False))
    commit(repo)
    assert_refused(repo, crds, capsys, {"not-rendered"})


def test_a_commit_that_pulls_in_a_folder_is_seen_when_only_that_folder_changes(repo, crds, capsys):
    (repo / "shared").mkdir()
    (repo / "shared/kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (repo / "shared/cm.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    )
    edit_yaml(repo / "apps" / PUB / "kustomization.yaml", lambda k: k["resources"].append("../../shared"))
    commit(repo, "pull in shared/")
    (repo / "shared/cm.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}})
    )
    commit(repo, "change only shared/")
    code, result = validate(repo, capsys, "--crds", str(crds), "--changed-since", "HEAD~1")
    assert code == EXIT_POLICY and "kustomize-source" in rules(result)
    assert any("the bootstrap and the shared base" in n for n in result["notes"])  # every app was checked


def test_changed_since_also_checks_the_apps_a_change_could_clash_with(repo, crds, capsys):
    """A new app `priv-alice` whose ConfigMap is named `example-com-web` produces
    `priv-alice-example-com-web`: the Service of the existing app priv-alice-example-com."""
    from n2a_gitops.validation import scope

    assert scope.clash_candidates({"priv-alice"}, {PRIV, PUB, SIGNED}) == {PRIV}
    assert scope.clash_candidates({PUB}, {PRIV, PUB, SIGNED}) == set()


# -- rules, admins, owners ------------------------------------------------------------------------


def test_an_admins_change_to_n2a_yaml_and_the_limit_range_passes(repo, crds, capsys):
    edit_yaml(repo / "n2a.yaml", lambda s: s["maxResources"].__setitem__("cpu", "8"))
    edit_yaml(repo / "argocd/limitrange.yaml", lambda r: r["spec"]["limits"][0]["max"].__setitem__("cpu", "8"))
    edit_pod(repo, PRIV, lambda s: container(s)["resources"].update(cpu(8)))
    commit(repo, "admin: larger apps")
    code, result = validate(repo, capsys, "--crds", str(crds))
    assert_ok(code, result)
    code, result = validate(repo, capsys, "--crds", str(crds), "--changed-since", "HEAD~1", actor=ADMIN)
    assert_ok(code, result)
    # The same commit by the app's owner: the admin paths are refused, and judged by the old rules.
    code, result = validate(repo, capsys, "--crds", str(crds), "--changed-since", "HEAD~1", actor=OWNERS[PRIV])
    assert code == EXIT_POLICY and {"admin-path", "resources-max"} <= rules(result)
    paths = {p["file"] for p in result["problems"] if p["rule"] == "admin-path"}
    assert paths == {"n2a.yaml", "argocd/limitrange.yaml"}


def test_bob_may_not_edit_or_delete_alices_app_and_alice_may(repo, crds, capsys):
    edit_pod(repo, PRIV, lambda s: container(s)["env"].append({"name": "MODE", "value": "debug"}))
    commit(repo, "edit alice's app")
    args = ("--crds", str(crds), "--changed-since", "HEAD~1")
    code, result = validate(repo, capsys, *args, actor="bob@example.com")
    assert code == EXIT_POLICY and rules(result) == {"app-owner"}
    assert "alice-example-com" in result["problems"][0]["message"]
    assert validate(repo, capsys, *args, actor="alice@example.com")[0] == 0
    assert validate(repo, capsys, *args, actor=ADMIN)[0] == 0

    git(repo, "rm", "-rq", f"apps/{PRIV}", f"argocd/apps/{PRIV}.yaml")
    commit(repo, "delete alice's app")
    code, result = validate(repo, capsys, *args, actor="bob@example.com")
    assert code == EXIT_POLICY and rules(result) == {"app-owner"} and "delete" in result["problems"][0]["message"]
    assert validate(repo, capsys, *args, actor="alice@example.com")[0] == 0


def test_a_new_app_in_someone_elses_name_is_refused(repo, crds, capsys, three_apps):
    shutil.copytree(repo / "apps" / SIGNED, repo / "apps/other-bob-example-com")
    for path in (repo / "apps/other-bob-example-com").rglob("*"):
        if path.is_file() and SIGNED.encode() in path.read_bytes():
            path.write_bytes(path.read_bytes().replace(SIGNED.encode(), b"other-bob-example-com"))
    commit(repo, "alice adds an app as bob")
    code, result = validate(repo, capsys, "--changed-since", "HEAD~1", actor="alice@example.com")
    assert code == EXIT_POLICY and "app-owner" in rules(result)


def test_publish_refuses_to_take_over_an_app_and_keeps_codeowners(repo, three_apps, capsys):
    nb = three_apps[1]
    before = git(repo, "rev-parse", "HEAD")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("N2A_NO_LOCK", "1")
        mp.setenv("JUPYTERHUB_USER", "bob@example.com")
        code = main(["publish", str(nb), "--repo", str(repo), "--name", "pub", "--owner", "alice@example.com"])
        assert code == EXIT_POLICY
        assert "[ownership]" in capsys.readouterr().err
        assert git(repo, "rev-parse", "HEAD") == before and git(repo, "status", "--porcelain") == ""
    lines = (repo / "CODEOWNERS").read_text().splitlines()
    assert f"* {ADMIN}" in lines
    assert f"/apps/{PRIV}/ alice@example.com" in lines and f"/argocd/apps/{SIGNED}.yaml bob@example.com" in lines
    # Re-publishing through `n2a publish` passes the gate, judged as its owner's change.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("N2A_NO_LOCK", "1")
        assert publish(repo, nb, PUB, "--env", "MODEL=large") == 0
    assert git(repo, "rev-parse", "HEAD") != before
    code, result = validate(repo, capsys, "--changed-since", "HEAD~1", actor=OWNERS[PUB])
    assert_ok(code, result)
    code, result = validate(repo, capsys)
    assert_ok(code, result)


def test_rules_come_from_the_revision_a_change_is_judged_against(repo, capsys):
    edit_yaml(repo / "n2a.yaml", lambda s: s.__setitem__("frameworks", ["streamlit"]))
    commit(repo, "narrow the frameworks")
    code, result = validate(repo, capsys, "--changed-since", "HEAD~1", actor=ADMIN)
    assert code == EXIT_POLICY and "framework-not-allowed" in rules(result)  # the admin's new rules
    code, result = validate(repo, capsys, "--changed-since", "HEAD~1")
    assert any("judged by n2a.yaml as of HEAD~1" in n for n in result["notes"])


# -- Ingress fields and store-key globs: a repo routed by Ingress, apps reading a secret store ---

STORE_APP = "store-alice-example-com"


@pytest.fixture(scope="session")
def ingress_store(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("gate-ingress")
    root = base / "gitops"
    nb = write_notebook(base / "nb" / "greeter.ipynb", GRADIO_CELLS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("N2A_NO_LOCK", "1")
        init = ["init", str(root), "--repo-url", "https://git.example.com/platform/gitops.git", "--routing", "ingress"]
        assert main([*init, "--secret-store", "vault"]) == 0
        mp.setenv("JUPYTERHUB_USER", "alice@example.com")
        args = ["publish", str(nb), "--repo", str(root), "--name", "store", "--access", "public", "-q"]
        assert main([*args, "--secret-env", f"API_KEY={STORE_APP}/api-key"]) == 0
    return root, nb


@pytest.fixture
def ingress_repo(ingress_store, tmp_path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(ingress_store[0], copy, symlinks=True)
    return copy


def ingress_extra_host(root):
    edit_yaml(
        root / "apps" / STORE_APP / "patch-ingress.yaml",
        lambda i: i["spec"]["rules"].append({**i["spec"]["rules"][0], "host": "login.apps.example.com"}),
    )


def ingress_snippet_annotation(root):
    edit_yaml(
        root / "apps" / STORE_APP / "patch-ingress.yaml",
        lambda i: (
            i["metadata"]
            .setdefault("annotations", {})
            .__setitem__("nginx.ingress.kubernetes.io/server-snippet", "location / { proxy_pass http://10.0.0.1; }")
        ),
    )


def ingress_backend_elsewhere(root):
    edit_yaml(
        root / "apps" / STORE_APP / "patch-ingress.yaml",
        lambda i: i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].__setitem__("name", "kubernetes"),
    )


def ingress_class_changed(root):
    edit_yaml(
        root / "apps" / STORE_APP / "patch-ingress.yaml", lambda i: i["spec"].__setitem__("ingressClassName", "public")
    )


def store_key_glob(root):
    edit_yaml(
        root / "apps" / STORE_APP / "externalsecret.yaml",
        lambda e: e["spec"]["data"][0]["remoteRef"].__setitem__("key", "*"),
    )


def store_key_of_another_app(root):
    edit_yaml(
        root / "apps" / STORE_APP / "externalsecret.yaml",
        lambda e: e["spec"]["data"][0]["remoteRef"].__setitem__("key", "other-bob/api-key"),
    )


def store_key_prefix_trick(root):
    edit_yaml(
        root / "apps" / STORE_APP / "externalsecret.yaml",
        lambda e: e["spec"]["data"][0]["remoteRef"].__setitem__("key", f"{STORE_APP}/../other-bob/api-key"),
    )


def store_whole_secret_extracted(root):
    edit_yaml(
        root / "apps" / STORE_APP / "externalsecret.yaml",
        lambda e: e["spec"].__setitem__("dataFrom", [{"extract": {"key": f"{STORE_APP}/api-key"}}]),
    )


INGRESS_CASES = {
    ingress_extra_host: {"ingress-host", "route-host", "not-rendered"},
    ingress_snippet_annotation: {"not-rendered", "ingress-annotation"},
    ingress_backend_elsewhere: {"ingress-backend", "route-backend", "not-rendered", "access-bypass"},
    ingress_class_changed: {"not-rendered", "ingress-class"},
    store_key_glob: {"secret-not-allowed", "externalsecret", "not-rendered"},
    store_key_of_another_app: {"secret-not-allowed", "externalsecret", "not-rendered"},
    store_key_prefix_trick: {"secret-not-allowed", "externalsecret", "not-rendered"},
    store_whole_secret_extracted: {"externalsecret", "not-rendered", "secret-not-allowed"},
}


@pytest.mark.shared("external-secrets")
@pytest.mark.parametrize("edit", list(INGRESS_CASES), ids=[f.__name__ for f in INGRESS_CASES])
def test_ingress_and_store_hand_edits_are_refused(ingress_repo, crds, capsys, edit):
    code, result = validate(ingress_repo, capsys, "--crds", str(crds))
    assert_ok(code, result)
    edit(ingress_repo)
    commit(ingress_repo)
    assert_refused(ingress_repo, crds, capsys, INGRESS_CASES[edit])
