"""Scale to zero: repos made by the real `n2a init --scale-to-zero` and `n2a publish`, built by the
real kustomize and checked by `n2a validate`.

No KEDA, HTTP add-on or API server runs here: the published KEDA CRDs (../shared/keda: the add-on
v0.15's InterceptorRoute, KEDA v2.20's ScaledObject, with their CEL rules evaluated) and the
Gateway API CRDs (the ReferenceGrant, the HTTPRoute) stand in for the API server's admission;
what the interceptor does with the objects is the add-on's documented contract
(docs/scale-to-zero.md), which only a cluster proves.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ARGOCD_CRDS, GATEWAY_API_CRDS, GRADIO_CELLS, SHARED, snapshot, write_notebook

from n2a_gitops import kustomize
from n2a_gitops.cli import main
from n2a_gitops.config import load_settings
from n2a_gitops.errors import EXIT_POLICY, EXIT_USAGE
from n2a_gitops.validation.validate import validate_repo

KEDA_CRDS = SHARED / "keda"
SLEEPY, AWAKE = "sleepy-jane", "awake-jane"
DOMAIN = "apps.example.com"


def _init(root: Path, *extra: str) -> None:
    args = ["init", str(root), "--repo-url", "https://git.example.com/platform/gitops.git", "--apps-domain", DOMAIN]
    assert main([*args, *extra]) == 0


def _publish(root: Path, nb: Path, name: str, *extra: str) -> int:
    return main(["publish", str(nb), "--repo", str(root), "--name", name, "--owner", "jane", "--quiet", *extra])


def _make(base: Path, *init_args: str) -> Path:
    root = base / "gitops"
    nb = write_notebook(base / "nb" / "greeter.ipynb", GRADIO_CELLS)
    _init(root, *init_args)
    assert _publish(root, nb, "sleepy") == 0
    assert _publish(root, nb, "awake", "--always-on") == 0
    return root


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("N2A_NO_LOCK", "1")
        mp.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        mp.delenv("N2A_REPO", raising=False)
        return _make(tmp_path_factory.mktemp("scaled"), "--scale-to-zero")


@pytest.fixture
def repo(scaled, tmp_path) -> Path:
    copy_root = tmp_path / "repo"
    shutil.copytree(scaled, copy_root, symlinks=True)
    return copy_root


@pytest.fixture
def crds(tmp_path) -> Path:
    """One folder with every CRD, as an admin exports them from the cluster."""
    folder = tmp_path / "crds"
    folder.mkdir()
    for source in (*ARGOCD_CRDS.glob("*-crd.yaml"), *GATEWAY_API_CRDS.glob("*.yaml"), *KEDA_CRDS.glob("*.yaml")):
        (folder / source.name).symlink_to(source)
    return folder


def built(root: Path, app: str) -> dict[str, dict]:
    return {d["kind"]: d for d in kustomize.build(root / "apps" / app)}


def validate_json(root: Path, crds: Path, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["validate", "--repo", str(root), "--crds", str(crds), "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


# -- the good case ---------------------------------------------------------------------------


@pytest.mark.shared("argocd", "gateway-api", "keda")
def test_a_scale_to_zero_repo_with_a_default_and_an_always_on_app_passes_with_the_keda_crds(scaled, crds, capsys):
    code, result = validate_json(scaled, crds, capsys)
    assert (code, result["problems"]) == (0, [])
    assert not any("skipped" in n for n in result["notes"]), result["notes"]

    sleepy = built(scaled, SLEEPY)
    so, ir, route = sleepy["ScaledObject"], sleepy["InterceptorRoute"], sleepy["HTTPRoute"]
    assert so["apiVersion"] == "keda.sh/v1alpha1" and ir["apiVersion"] == "http.keda.sh/v1beta1"
    assert so["spec"]["minReplicaCount"] == 0
    assert so["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{SLEEPY}-web"}
    assert sleepy["Deployment"]["metadata"]["name"] == f"{SLEEPY}-web"
    assert so["spec"]["cooldownPeriod"] == 15 * 60  # idleAfter's default
    assert so["spec"]["triggers"] == [
        {
            "type": "external-push",
            "metadata": {
                "interceptorRoute": ir["metadata"]["name"],
                "scalerAddress": "keda-add-ons-http-external-scaler.keda:9090",
            },
        }
    ]
    assert ir["spec"]["rules"] == [{"hosts": [f"{SLEEPY}.{DOMAIN}"]}]
    assert ir["spec"]["target"] == {"service": sleepy["Service"]["metadata"]["name"], "port": 80}
    assert ir["spec"]["coldStart"]["placeholder"]["response"]["statusCode"] == 503
    assert route["spec"]["hostnames"] == [f"{SLEEPY}.{DOMAIN}"]
    assert route["spec"]["rules"][0]["backendRefs"] == [
        {
            "group": "",
            "kind": "Service",
            "name": "keda-add-ons-http-interceptor-proxy",
            "namespace": "keda",
            "port": 8080,
        }
    ]
    assert "replicas" not in sleepy["Deployment"]["spec"]  # KEDA owns them
    # The sign-in proxy stays in front: the Service the interceptor targets reaches only its port,
    # and only the interceptor's namespace may open a connection, to that port.
    assert [p["targetPort"] for p in sleepy["Service"]["spec"]["ports"]] == ["proxy"]
    assert sleepy["NetworkPolicy"]["spec"]["ingress"] == [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}],
            "ports": [{"port": "proxy"}],
        }
    ]

    awake = built(scaled, AWAKE)
    assert not {"ScaledObject", "InterceptorRoute"} & set(awake)
    assert awake["HTTPRoute"]["spec"]["rules"][0]["backendRefs"] == [{"name": f"{AWAKE}-web", "port": 80}]
    assert awake["Deployment"]["spec"]["replicas"] == 1
    namespaces = [f["namespaceSelector"]["matchLabels"] for f in awake["NetworkPolicy"]["spec"]["ingress"][0]["from"]]
    assert namespaces == [{"kubernetes.io/metadata.name": "n2a-gateway"}]

    # The admin's part: the grant in the add-on's namespace, and the AppProject's two kinds.
    grant = yaml.safe_load((scaled / "argocd" / "interceptor.yaml").read_text())
    assert grant["kind"] == "ReferenceGrant" and grant["metadata"]["namespace"] == "keda"
    assert grant["spec"]["from"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "notebook-apps"}
    ]
    assert grant["spec"]["to"] == [{"group": "", "kind": "Service", "name": "keda-add-ons-http-interceptor-proxy"}]
    assert "interceptor.yaml" in yaml.safe_load((scaled / "argocd" / "kustomization.yaml").read_text())["resources"]
    project = yaml.safe_load((scaled / "argocd" / "project-apps.yaml").read_text())
    kinds = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    assert {("keda.sh", "ScaledObject"), ("http.keda.sh", "InterceptorRoute")} <= kinds


def test_an_always_on_app_keeps_todays_shape_exactly(scaled, tmp_path):
    """The --always-on app's files are byte for byte those of the same app in a repo without
    scale to zero; the default app's pod runs the very same script (preview runs it too)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("N2A_NO_LOCK", "1")
        plain = tmp_path / "plain"
        nb = scaled.parent / "nb" / "greeter.ipynb"  # the very notebook (cell ids and all)
        _init(plain)
        assert _publish(plain, nb, "awake") == 0

    def files(root: Path) -> dict[str, bytes]:
        paths = [*sorted((root / "apps" / AWAKE).rglob("*")), root / "argocd" / "apps" / f"{AWAKE}.yaml"]
        return {str(p.relative_to(root)): p.read_bytes() for p in paths if p.is_file()}

    assert files(scaled) == files(plain) and files(plain)
    for key in ("initContainers", "containers"):  # (volumes differ: the ConfigMaps' content hashes)
        pod = built(scaled, SLEEPY)["Deployment"]["spec"]["template"]["spec"][key]
        same = built(scaled, AWAKE)["Deployment"]["spec"]["template"]["spec"][key]
        assert json.dumps(pod).replace(SLEEPY, "APP") == json.dumps(same).replace(AWAKE, "APP")


@pytest.mark.shared("argocd", "keda")
def test_with_routing_ingress_the_route_goes_through_the_admins_externalname_service(tmp_path, capsys):
    root = _make(tmp_path, "--scale-to-zero", "--routing", "ingress", "--idle-after", "30m")
    folder = tmp_path / "crds"
    folder.mkdir()
    for source in (*ARGOCD_CRDS.glob("*-crd.yaml"), *KEDA_CRDS.glob("*.yaml")):
        (folder / source.name).symlink_to(source)
    code, result = validate_json(root, folder, capsys)
    assert (code, result["problems"]) == (0, [])
    sleepy = built(root, SLEEPY)
    paths = sleepy["Ingress"]["spec"]["rules"][0]["http"]["paths"]
    assert [p["backend"] for p in paths] == [{"service": {"name": "n2a-interceptor", "port": {"number": 8080}}}]
    assert sleepy["ScaledObject"]["spec"]["cooldownPeriod"] == 30 * 60
    bridge = yaml.safe_load((root / "argocd" / "interceptor.yaml").read_text())
    assert (bridge["kind"], bridge["spec"]["type"]) == ("Service", "ExternalName")
    assert bridge["spec"]["externalName"] == "keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local"
    awake = built(root, AWAKE)
    assert awake["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == f"{AWAKE}-web"


# -- hand edits that must be refused -----------------------------------------------------------


def _edit(root: Path, app: str, filename: str, change) -> None:
    path = root / "apps" / app / filename
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _so(change):
    return "scaledobject.yaml", change


def _ir(change):
    return "interceptorroute.yaml", change


OTHER_DEPLOYMENT = f"{AWAKE}-web"
OTHER_HOST = f"{AWAKE}.{DOMAIN}"
HAND_EDITS = {
    "another app's Deployment": (
        "scaling-target",
        *_so(lambda d: d["spec"]["scaleTargetRef"].update(name=OTHER_DEPLOYMENT)),
    ),
    "a StatefulSet": ("scaling-target", *_so(lambda d: d["spec"]["scaleTargetRef"].update(kind="StatefulSet"))),
    "another app's host": ("scaling-host", *_ir(lambda d: d["spec"]["rules"][0].update(hosts=[OTHER_HOST]))),
    "a second host": ("scaling-host", *_ir(lambda d: d["spec"]["rules"][0]["hosts"].append(OTHER_HOST))),
    "a rule without hosts (every host)": (
        "scaling-host",
        *_ir(lambda d: d["spec"]["rules"].append({"paths": [{"value": "/"}]})),
    ),
    "another app's Service": ("scaling-target", *_ir(lambda d: d["spec"]["target"].update(service=OTHER_DEPLOYMENT))),
    "another route's metrics": (
        "scaling-trigger",
        *_so(lambda d: d["spec"]["triggers"][0]["metadata"].update(interceptorRoute=OTHER_DEPLOYMENT)),
    ),
    "another scaler": (
        "scaling-trigger",
        *_so(lambda d: d["spec"]["triggers"][0]["metadata"].update(scalerAddress="evil.example.com:9090")),
    ),
    "a second trigger": (
        "scaling-trigger",
        *_so(lambda d: d["spec"]["triggers"].append({"type": "cpu", "metadata": {"value": "50"}})),
    ),
    "a fallback of 40 replicas": (
        "scaling-fields",
        *_so(lambda d: d["spec"].update(fallback={"failureThreshold": 3, "replicas": 40})),
    ),
    "a minimum of 2": ("scaling-replicas", *_so(lambda d: d["spec"].update(minReplicaCount=2))),
    "too many replicas": ("scaling-replicas", *_so(lambda d: d["spec"].update(maxReplicaCount=50))),
    "a fallback Service": (
        "scaling-coldstart",
        *_ir(lambda d: d["spec"]["coldStart"].update(fallback={"service": {"name": OTHER_DEPLOYMENT, "port": 80}})),
    ),
    "a typo the API server would prune": ("keda-crd", *_so(lambda d: d["spec"].update(minReplicaCont=0))),
    "both port and portName (a CEL rule)": ("keda-crd", *_ir(lambda d: d["spec"]["target"].update(portName="http"))),
    "min above max (a CEL rule)": ("keda-crd", *_so(lambda d: d["spec"].update(minReplicaCount=3, maxReplicaCount=2))),
    "the route around the interceptor": (
        "scaling-route",
        "patch-httproute.yaml",
        lambda d: d["spec"]["rules"][0].update(backendRefs=[{"name": f"{SLEEPY}-web", "port": 80}]),
    ),
    "a Host rewrite": (
        "scaling-route-host",
        "patch-httproute.yaml",
        lambda d: d["spec"]["rules"][0].update(
            filters=[{"type": "URLRewrite", "urlRewrite": {"hostname": OTHER_HOST}}]
        ),
    ),
    "the gateway's namespace admitted too": (
        "scaling-network",
        "patch-networkpolicy.yaml",
        lambda d: d["spec"]["ingress"][0]["from"].append(
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "n2a-gateway"}}}
        ),
    ),
}


@pytest.mark.shared("argocd", "gateway-api", "keda")
@pytest.mark.parametrize("edit", sorted(HAND_EDITS))
def test_a_hand_edit_is_refused_with_exit_3_naming_the_rule(repo, crds, capsys, edit):
    rule, filename, change = HAND_EDITS[edit]
    _edit(repo, SLEEPY, filename, change)
    before = snapshot(repo)
    code, result = validate_json(repo, crds, capsys)
    assert code == EXIT_POLICY
    assert rule in {p["rule"] for p in result["problems"]}, result["problems"]
    assert {p["file"] for p in result["problems"]} == {f"apps/{SLEEPY}"}
    assert snapshot(repo) == before  # validate changes nothing


def test_an_always_on_app_given_a_route_through_the_interceptor_is_refused(repo):
    """Without its own InterceptorRoute the interceptor has nothing for it: a broken app."""
    backend = {
        "group": "",
        "kind": "Service",
        "name": "keda-add-ons-http-interceptor-proxy",
        "namespace": "keda",
        "port": 8080,
    }
    _edit(repo, AWAKE, "patch-httproute.yaml", lambda d: d["spec"]["rules"][0].update(backendRefs=[backend]))
    problems = validate_repo(repo, load_settings(repo))
    assert {p.file for p in problems} == {f"apps/{AWAKE}"}
    # No ScaledObject nor InterceptorRoute, a fixed replica count, the gateway's namespace admitted.
    assert {p.rule for p in problems} == {"scaling-objects", "scaling-replicas", "scaling-network"}


def test_keda_objects_in_a_repo_without_scale_to_zero_are_refused(tmp_path, repo):
    """The admin did not turn it on (no add-on, no AppProject kinds): the same objects fail."""
    settings = yaml.safe_load((repo / "n2a.yaml").read_text())
    settings["scaleToZero"] = False
    (repo / "n2a.yaml").write_text(yaml.safe_dump(settings))
    problems = validate_repo(repo, load_settings(repo))
    found = {(p.file, p.rule) for p in problems if p.file == f"apps/{SLEEPY}"}
    assert {("apps/" + SLEEPY, r) for r in ("scaling-disabled", "route-backend")} <= found


def test_an_httpscaledobject_is_refused_naming_the_api_n2a_writes(repo):
    hso = {
        "apiVersion": "http.keda.sh/v1alpha1",
        "kind": "HTTPScaledObject",
        "metadata": {"name": "old"},
        "spec": {
            "hosts": [OTHER_HOST],
            "scaleTargetRef": {"name": OTHER_DEPLOYMENT, "service": OTHER_DEPLOYMENT, "port": 80},
        },
    }
    (repo / "apps" / SLEEPY / "old.yaml").write_text(yaml.safe_dump(hso))
    _edit(repo, SLEEPY, "kustomization.yaml", lambda k: k["resources"].append("old.yaml"))
    rules = {p.rule for p in validate_repo(repo, load_settings(repo))}
    assert {"scaling-kind", "appproject-kind"} <= rules


# -- bad input: one message, a distinct exit code, nothing changed ------------------------------


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--idle", "soon"], "is not a duration"),
        (["--idle", "10s"], "outside 1m..7d"),
        (["--idle", "1h", "--always-on"], "contradict"),
    ],
)
def test_bad_idle_flags_are_refused_and_change_nothing(repo, tmp_path, capsys, flags, expected):
    nb = write_notebook(tmp_path / "nb" / "greeter.ipynb", GRADIO_CELLS)
    before = snapshot(repo)
    capsys.readouterr()
    assert _publish(repo, nb, "sleepy", *flags) == EXIT_USAGE
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert snapshot(repo) == before


def test_idle_without_scale_to_zero_says_what_to_ask_for(gitops, tmp_path, capsys):
    nb = write_notebook(tmp_path / "nb" / "greeter.ipynb", GRADIO_CELLS)
    before = snapshot(gitops)
    assert _publish(gitops, nb, "sleepy", "--idle", "1h") == EXIT_USAGE
    assert "scaleToZero" in capsys.readouterr().err
    assert snapshot(gitops) == before


def test_a_bad_idle_after_in_n2a_yaml_is_one_clear_error(repo, capsys):
    settings = yaml.safe_load((repo / "n2a.yaml").read_text())
    settings["idleAfter"] = "forever"
    (repo / "n2a.yaml").write_text(yaml.safe_dump(settings))
    code = main(["list", "--repo", str(repo)])
    err = capsys.readouterr().err
    assert code != 0 and "idleAfter" in err and "Traceback" not in err
