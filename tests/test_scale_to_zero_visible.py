"""Scale to zero, seen from outside: `n2a list`, the data of GET /n2a/apps, `n2a status` (asleep),
the Argo CD UI link, the CRDs' CEL rules, and `n2a preview` of an app that scales to zero.

`n2a status` talks to tests/fake_argocd.py, a real HTTP server shaped like Argo CD's API (NOT
Argo CD); "asleep" is read from its resource tree, where a Deployment scaled to zero by KEDA has
no Pod. The CEL rules are the published KEDA CRDs' own (../shared/keda).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import GRADIO_CELLS, SHARED, write_notebook
from fake_argocd import TOKEN, FakeArgoCD, application, tree

from n2a_gitops.cli import main
from n2a_gitops.config import load_settings
from n2a_gitops.lifecycle import list_apps, open_repo
from n2a_gitops.validation import cel

FLASK_CELLS = [
    "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'awake and well'",
    "app.run(host='0.0.0.0', port=8080)",
]


def _init_and_publish(base: Path) -> Path:
    root = base / "gitops"
    args = [
        "init",
        str(root),
        "--repo-url",
        "https://git.example.com/p/gitops.git",
        "--apps-domain",
        "apps.example.com",
    ]
    assert main([*args, "--scale-to-zero"]) == 0
    nb = write_notebook(base / "nb" / "greeter.ipynb", GRADIO_CELLS)
    for name, extra in (("sleepy", []), ("hourly", ["--idle", "1h"]), ("awake", ["--always-on"])):
        argv = ["publish", str(nb), "--repo", str(root), "--name", name, "--owner", "jane", "--quiet", *extra]
        assert main(argv) == 0
    return root


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("N2A_NO_LOCK", "1")
        mp.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        mp.delenv("N2A_REPO", raising=False)
        return _init_and_publish(tmp_path_factory.mktemp("visible"))


def test_list_json_shows_which_apps_scale_to_zero(root, capsys):
    capsys.readouterr()
    assert main(["list", "--repo", str(root), "--json"]) == 0
    captured = capsys.readouterr()
    rows = {r["app"]: r for r in json.loads(captured.out.strip().splitlines()[-1])["apps"]}
    assert {a: (r["scaleToZero"], r["idleAfter"]) for a, r in rows.items()} == {
        "sleepy-jane": (True, "15m"),
        "hourly-jane": (True, "1h"),
        "awake-jane": (False, None),
    }
    assert rows["sleepy-jane"]["resources"]["replicas"] == 1  # when awake; KEDA owns the count
    assert main(["list", "--repo", str(root)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "SCALING" in table[0]
    line = {row.split()[0]: row for row in table[1:]}
    assert "idle 1h" in line["hourly-jane"] and "always on" in line["awake-jane"]


def test_the_jupyterlab_panel_data_carries_it_too(root):
    """GET /n2a/apps returns lifecycle.list_apps (jupyter/handlers.py)."""
    rows = {r["app"]: r for r in list_apps(*open_repo(str(root)))}
    assert rows["hourly-jane"]["scaleToZero"] is True and rows["awake-jane"]["scaleToZero"] is False


def test_the_argo_cd_ui_link_and_info_say_it(root):
    sleepy = yaml.safe_load((root / "argocd" / "apps" / "sleepy-jane.yaml").read_text())
    link = sleepy["metadata"]["annotations"]["link.argocd.argoproj.io/app"]
    assert link == "Open app (wakes it: scales to zero after 15m idle)|https://sleepy-jane.apps.example.com/"
    assert {"name": "scaling", "value": "idle 15m"} in sleepy["spec"]["info"]
    awake = yaml.safe_load((root / "argocd" / "apps" / "awake-jane.yaml").read_text())
    assert awake["metadata"]["annotations"]["link.argocd.argoproj.io/app"].startswith("Open app|")
    assert all(i["name"] != "scaling" for i in awake["spec"]["info"])


@pytest.fixture
def argo(monkeypatch):
    with FakeArgoCD() as fake:
        monkeypatch.setenv("N2A_ARGOCD_URL", fake.url)
        monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN)
        yield fake


def _status(capsys, *argv) -> tuple[dict, str]:
    capsys.readouterr()
    assert main(["status", *argv, "--json"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["status", *argv]) == 0
    return info, capsys.readouterr().out


def test_status_says_asleep_when_the_app_has_no_pod(root, argo, capsys):
    argo.add_app("sleepy-jane", application("sleepy-jane", revision="1" * 40))
    argo._trees["sleepy-jane"] = tree("sleepy-jane", [])  # KEDA scaled the Deployment to zero
    info, text = _status(capsys, "sleepy-jane", "--repo", str(root))
    assert (info["scaleToZero"], info["idleAfter"], info["asleep"]) == (True, "15m", True)
    assert "asleep" in text

    argo._trees["sleepy-jane"] = tree("sleepy-jane", ["sleepy-jane-web-5d4f8c7b9-abcde"])  # a visit woke it
    info, text = _status(capsys, "sleepy-jane", "--repo", str(root))
    assert info["asleep"] is False and "awake" in text


def test_status_without_a_clone_reads_the_applications_info(root, argo, capsys, monkeypatch, tmp_path):
    doc = application("hourly-jane", revision="1" * 40)
    doc["spec"]["info"] = yaml.safe_load((root / "argocd" / "apps" / "hourly-jane.yaml").read_text())["spec"]["info"]
    argo.add_app("hourly-jane", doc)
    argo._trees["hourly-jane"] = tree("hourly-jane", [])
    monkeypatch.chdir(tmp_path)
    info, _ = _status(capsys, "hourly-jane")
    assert (info["scaleToZero"], info["idleAfter"], info["asleep"]) == (True, "1h", True)


def test_status_of_an_always_on_app_does_not_ask_for_the_tree(root, argo, capsys):
    argo.add_app("awake-jane", application("awake-jane", revision="1" * 40))
    info, _ = _status(capsys, "awake-jane", "--repo", str(root))
    assert (info["scaleToZero"], info["asleep"]) == (False, None)
    assert not any(r["path"].endswith("/resource-tree") for r in argo.requests)


# -- the CRDs' CEL rules, read from the published CRDs --------------------------------------------


def _rules(path: Path) -> set[str]:
    text = path.read_text()
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for rule in node.get("x-kubernetes-validations") or []:
                found.add(rule["rule"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(text))
    return found


@pytest.mark.shared("keda")
def test_every_cel_rule_of_the_keda_crds_n2a_writes_is_evaluated():
    rules = _rules(SHARED / "keda" / "keda.sh_scaledobjects.yaml") | _rules(
        SHARED / "keda" / "http.keda.sh_interceptorroutes.yaml"
    )
    assert len(rules) >= 4
    for rule in rules:  # none is left unchecked: each gives an answer for an empty object
        assert cel.evaluate(rule, {}) is not None, rule
    minmax = next(r for r in rules if "minReplicaCount" in r)
    assert cel.evaluate(minmax, {"minReplicaCount": 0, "maxReplicaCount": 1}) is True
    assert cel.evaluate(minmax, {"minReplicaCount": 2, "maxReplicaCount": 1}) is False
    assert cel.evaluate(minmax, {"minReplicaCount": 101}) is False  # max defaults to 100
    one_of = "has(self.port) != has(self.portName)"
    assert cel.evaluate(one_of, {"port": 80}) is True
    assert cel.evaluate(one_of, {"port": 80, "portName": "http"}) is False
    assert cel.evaluate(one_of, {}) is False


def test_a_rule_outside_the_known_cel_is_not_guessed():
    assert cel.evaluate("self.name.startsWith('a')", {"name": "abc"}) is None
    assert cel.evaluate("size(self.hosts) > 0", {"hosts": []}) is None


# -- preview runs the pod's own script, scale to zero or not ---------------------------------------


@pytest.mark.slow
def test_preview_of_an_app_that_scales_to_zero_serves_its_page(tmp_path, capsys):
    """The pod of an app that scales to zero is the always-on pod: preview starts it the same way."""
    from n2a_gitops.pipeline import prepare
    from n2a_gitops.preview import localpod

    base = tmp_path
    root = base / "gitops"
    args = ["init", str(root), "--repo-url", "https://git.example.com/p/gitops.git", "--scale-to-zero"]
    assert main(args) == 0
    nb = write_notebook(base / "nb" / "hello.ipynb", FLASK_CELLS)
    prepared = prepare(nb, repo=str(root), owner="jane", framework="flask", access="public")
    kinds = {d["kind"] for d in prepared.manifests}
    assert {"ScaledObject", "InterceptorRoute"} <= kinds
    assert load_settings(root).scaleToZero
    with localpod.serve(prepared.manifests, cache_dir=base / "cache") as app:
        with urllib.request.urlopen(app.url, timeout=30) as resp:
            assert resp.read().decode() == "awake and well"


# -- the cost model in the docs is what the rendered pods reserve ---------------------------------


def test_the_docs_cost_model_matches_the_rendered_requests(root, tmp_path):
    from conftest import REPO_ROOT

    from n2a_gitops import kustomize
    from n2a_gitops.pipeline import prepare
    from n2a_gitops.pod.scaling import pod_reservation

    def reserved(manifests) -> dict:
        deployment = next(d for d in manifests if d["kind"] == "Deployment")
        return pod_reservation(deployment["spec"]["template"]["spec"])

    proxied = reserved(kustomize.build(root / "apps" / "sleepy-jane"))
    nb = write_notebook(tmp_path / "nb" / "open.ipynb", GRADIO_CELLS)
    public = reserved(prepare(nb, repo=str(root), owner="jane", access="public").manifests)
    assert proxied == public  # the install step outweighs the app with or without its proxy
    cpu, memory = f"{round(proxied['cpu'] * 1000)}m", f"{round(proxied['memory'] / 2**20)}Mi"
    docs = (REPO_ROOT / "docs" / "scale-to-zero.md").read_text()
    assert f"| reserved while awake (with or without the sign-in proxy) | {cpu} | {memory} |" in docs
    apps = 2000
    cpus, gib = proxied["cpu"] * apps, proxied["memory"] * apps / 2**30
    assert f"| {apps:,} | {cpus:g} CPUs, {gib:,.0f} GiB | 0 + the add-on |" in docs
