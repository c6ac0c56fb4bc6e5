"""Gateway API routes and who may open an app, end to end: the real `n2a init` and `n2a publish`,
real git, the real kustomize; Kubernetes schemas (strict) and the Gateway API v1.6.1 and Argo CD
CRDs (strict) stand in for the API server. The sign-in proxy's configuration is checked against
the option list of the pinned oauth2-proxy release (no proxy binary runs here).

Each repo holds three apps: one public, one `users:jane`, one on n2a.yaml's default
(authenticated). Then each breakage, on its own, must be refused naming its rule.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from conftest import ARGOCD_CRDS, GATEWAY_API_CRDS, GRADIO_CELLS, git, snapshot, write_notebook

from n2a_gitops import kustomize
from n2a_gitops.cli import main
from n2a_gitops.config import load_settings
from n2a_gitops.errors import EXIT_POLICY, EXIT_USAGE
from n2a_gitops.validation import crdschema
from n2a_gitops.validation.validate import validate_repo

APPS = {"board-pat": "public", "board-jane": "users:jane", "board-carol": None}  # None: n2a.yaml's default
GATEWAY = {
    "group": "gateway.networking.k8s.io",
    "kind": "Gateway",
    "name": "apps",
    "namespace": "n2a-gateway",
    "sectionName": "https-apps",
}
pytestmark = pytest.mark.shared("argocd", "gateway-api")


def _make_repo(base, routing: str):
    root = base / "gitops"
    nb = write_notebook(base / "nb" / "board.ipynb", GRADIO_CELLS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CONFIG_HOME", str(base / "config"))
        assert (
            main(
                [
                    "init",
                    str(root),
                    "--repo-url",
                    "https://git.example.com/platform/gitops.git",
                    "--apps-domain",
                    "apps.example.com",
                    "--routing",
                    routing,
                    "--gateway-class",
                    "eg",
                    "--oidc-issuer-url",
                    "https://sso.example.com/realms/apps",
                    "--oidc-client-id",
                    "notebook-apps",
                ]
            )
            == 0
        )
        # The admin names the e-mail domain, so that users:jane means jane@example.com.
        settings = root / "n2a.yaml"
        settings.write_text(settings.read_text().replace('accessEmailDomain: ""', 'accessEmailDomain: "example.com"'))
        git(root, "commit", "-qam", "n2a.yaml: e-mail domain of the platform's users")
        for app, access in APPS.items():
            name, owner = app.split("-")
            extra = ["--access", access] if access else []
            assert (
                main(["publish", str(nb), "--repo", str(root), "--name", name, "--owner", owner, "--quiet", *extra])
                == 0
            )
    return root, nb


@pytest.fixture(scope="module")
def crds(tmp_path_factory):
    """One CRD folder, as an admin exports it from the cluster: Argo CD's and Gateway API's."""
    folder = tmp_path_factory.mktemp("crds")
    for source in (*ARGOCD_CRDS.glob("*-crd.yaml"), *GATEWAY_API_CRDS.glob("*.yaml")):
        (folder / source.name).symlink_to(source)
    return folder


@pytest.fixture(scope="module")
def gateway_repo(tmp_path_factory):
    return _make_repo(tmp_path_factory.mktemp("gateway"), "gateway")


@pytest.fixture(scope="module")
def ingress_repo(tmp_path_factory):
    return _make_repo(tmp_path_factory.mktemp("ingress"), "ingress")


@pytest.fixture
def repo(gateway_repo, tmp_path):
    """A private copy of the gateway repo (history included) for one test to break."""
    copy_root = tmp_path / "repo"
    shutil.copytree(gateway_repo[0], copy_root, symlinks=True)
    return copy_root


def built(root, app) -> list[dict]:
    return kustomize.build(root / "apps" / app)


def one(docs, kind, name_part=""):
    found = [d for d in docs if d["kind"] == kind and name_part in d["metadata"]["name"]]
    assert len(found) == 1, (kind, [d["metadata"]["name"] for d in found])
    return found[0]


def edit_yaml(path, change):
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def rules(problems) -> set[tuple[str, str]]:
    return {(p.file, p.rule) for p in problems}


def reached_container(docs) -> set[str]:
    """Which containers traffic from outside the pod can reach, traced independently of n2a's
    checks: route or Ingress backend -> Service port -> targetPort -> container port; and the
    NetworkPolicy's admitted ports -> containers."""
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    by_port = {}
    for c in pod["containers"]:
        for p in c.get("ports") or []:
            by_port[p["name"]] = by_port[p["containerPort"]] = c["name"]
    service = one(docs, "Service")
    targets = {p["port"]: p["targetPort"] for p in service["spec"]["ports"]}
    targets.update({p["name"]: p["targetPort"] for p in service["spec"]["ports"]})
    reached = set()
    for doc in docs:
        if doc["kind"] == "HTTPRoute":
            for rule in doc["spec"]["rules"]:
                for ref in rule["backendRefs"]:
                    assert ref["name"] == service["metadata"]["name"]
                    reached.add(by_port[targets[ref["port"]]])
        if doc["kind"] == "Ingress":
            for rule in doc["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    backend = path["backend"]["service"]
                    assert backend["name"] == service["metadata"]["name"]
                    reached.add(by_port[targets[backend["port"].get("name", backend["port"].get("number"))]])
    policy = one(docs, "NetworkPolicy")
    for rule in policy["spec"]["ingress"]:
        reached.update(by_port[p["port"]] for p in rule["ports"])
    return reached


# -- the good cases ------------------------------------------------------------------------------


def test_gateway_repo_with_three_apps_validates_and_serves_non_public_apps_only_through_the_proxy(
    gateway_repo, crds, capsys
):
    root, _nb = gateway_repo
    notes: list[str] = []
    assert validate_repo(root, load_settings(root), crds_dir=crds, notes=notes) == []
    assert not any("skipped" in n for n in notes), notes
    assert main(["validate", "--repo", str(root), "--crds", str(crds), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["ok"] is True

    for app, access in APPS.items():
        docs = built(root, app)
        route = one(docs, "HTTPRoute")
        assert crdschema.validate_against_crds(route, GATEWAY_API_CRDS) == []
        assert route["spec"]["parentRefs"] == [GATEWAY]
        assert route["spec"]["hostnames"] == [f"{app}.apps.example.com"]
        assert not [d for d in docs if d["kind"] == "Ingress"]
        reached = reached_container(docs)
        if access == "public":
            assert reached == {"app"}
            assert [c["name"] for c in one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]] == ["app"]
        else:
            assert reached == {"oauth2-proxy"}, app
        policy = one(docs, "NetworkPolicy")
        assert [r["from"] for r in policy["spec"]["ingress"]] == [
            [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "n2a-gateway"}}}]
        ]

    # The platform Gateway (argocd/): HTTPS wildcard listener, cert-manager, routes only from the apps namespace.
    bootstrap = kustomize.build(root / "argocd")
    gateway = one(bootstrap, "Gateway")
    assert crdschema.validate_against_crds(gateway, GATEWAY_API_CRDS) == []
    assert gateway["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert gateway["spec"]["gatewayClassName"] == "eg"
    (listener,) = gateway["spec"]["listeners"]
    assert (listener["name"], listener["protocol"], listener["port"], listener["hostname"]) == (
        "https-apps",
        "HTTPS",
        443,
        "*.apps.example.com",
    )
    assert listener["tls"]["certificateRefs"] == [{"group": "", "kind": "Secret", "name": "apps-wildcard-tls"}]
    assert listener["allowedRoutes"]["namespaces"] == {
        "from": "Selector",
        "selector": {"matchLabels": {"kubernetes.io/metadata.name": "notebook-apps"}},
    }
    project = next(d for d in bootstrap if d["kind"] == "AppProject" and d["metadata"]["name"] == "notebook-apps")
    kinds = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    assert ("gateway.networking.k8s.io", "HTTPRoute") in kinds and ("networking.k8s.io", "Ingress") not in kinds


def test_the_proxy_enforces_each_choice_and_its_config_uses_only_pinned_oauth2_proxy_options(gateway_repo):
    from n2a_gitops.tomlparse import loads
    from n2a_gitops.validation.checks.proxyconfig import PINNED_VERSION, option_problems, options

    root, _nb = gateway_repo
    for app, expected in (
        ("board-jane", {"authenticated_emails_file": "/etc/oauth2-proxy/authenticated-emails.txt"}),
        ("board-carol", {"email_domains": ["*"]}),
    ):
        docs = built(root, app)
        access = one(docs, "ConfigMap", "-access-")
        config = loads(access["data"]["oauth2-proxy.cfg"])
        assert option_problems(config) == []
        assert set(config) <= set(options())
        for key, value in expected.items():
            assert config[key] == value
        assert config["upstreams"] == ["http://127.0.0.1:8080/"]
        assert config["redirect_url"] == f"https://{app}.apps.example.com/oauth2/callback"
        assert not {"client_secret", "cookie_secret"} & set(config)  # secrets never reach git
        pod = one(docs, "Deployment")["spec"]["template"]["spec"]
        proxy = next(c for c in pod["containers"] if c["name"] == "oauth2-proxy")
        assert proxy["image"] == f"quay.io/oauth2-proxy/oauth2-proxy:{PINNED_VERSION}"
        assert proxy["args"] == ["--config=/etc/oauth2-proxy/oauth2-proxy.cfg"]
        # Each variable is OAUTH2_PROXY_ + an option of the pinned release (the documented mapping).
        for env in proxy["env"]:
            assert env["name"].removeprefix("OAUTH2_PROXY_").lower() in options()
            assert env["valueFrom"]["secretKeyRef"]["name"] == "n2a-oauth2-proxy"
    users = one(built(root, "board-jane"), "ConfigMap", "-access-")["data"]["authenticated-emails.txt"]
    assert [line for line in users.splitlines() if not line.startswith("#")] == ["jane@example.com"]

    # The check can fail: a typo, a wrong type and a removed option are what the proxy would refuse.
    assert option_problems({"email_domain": ["*"]}) == [
        "'email_domain' is not an option of oauth2-proxy v7.15.3 (it would refuse to start)"
    ]
    assert option_problems({"cookie_secure": "yes", "cookie_expire": "a week"}) == [
        "'cookie_secure' must be a bool, not 'yes'",
        "'cookie_expire' must be a duration, not 'a week'",
    ]


def test_the_pinned_option_list_is_the_release_s(gateway_repo):
    """Facts of oauth2-proxy v7.15.3 the list must carry (from its options structs and docs)."""
    from n2a_gitops.validation.checks.proxyconfig import OPTIONS_FILE, options

    header = OPTIONS_FILE.read_text().splitlines()[0]
    assert "v7.15.3" in header and "66b3a17db09f0b51a4bc3159d4c7fe3fbeca1288" in header
    opts = options()
    assert len(opts) == 168
    assert (
        opts["authenticated_emails_file"],
        opts["allowed_groups"],
        opts["email_domains"],
        opts["reverse_proxy"],
        opts["cookie_expire"],
        opts["upstreams"],
    ) == ("string", "list", "list", "bool", "duration", "list")
    assert "email_domain" not in opts and "allowed_group" not in opts  # repeatable flags take plural keys


def test_ingress_repo_with_three_apps_validates(ingress_repo, crds):
    root, _nb = ingress_repo
    assert validate_repo(root, load_settings(root), crds_dir=crds) == []
    assert not (root / "argocd/gateway.yaml").exists() and not (root / "apps/_base/httproute.yaml").exists()
    for app, access in APPS.items():
        docs = built(root, app)
        assert not [d for d in docs if d["kind"] == "HTTPRoute"]
        assert one(docs, "Ingress")["spec"]["rules"][0]["host"] == f"{app}.apps.example.com"
        assert reached_container(docs) == ({"app"} if access == "public" else {"oauth2-proxy"})
        policy = one(docs, "NetworkPolicy")
        assert policy["spec"]["ingress"][0]["from"] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
        ]


def test_dns_egress_is_not_narrowed_by_the_app_label(gateway_repo):
    """kustomize's `labels` (includeSelectors) reach podSelectors in egress peers too: the DNS
    rule selects by namespace only, or it would match no DNS pod."""
    root, _nb = gateway_repo
    egress = one(built(root, "board-pat"), "NetworkPolicy")["spec"]["egress"]
    dns = next(rule for rule in egress if {"port": 53, "protocol": "UDP"} in rule.get("ports", []))
    assert dns["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}]


def test_list_and_the_server_extension_rows_show_each_app_s_access(gateway_repo, capsys):
    root, _nb = gateway_repo
    assert main(["list", "--repo", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["apps"]
    assert {r["app"]: r["access"] for r in rows} == {
        "board-pat": "public",
        "board-jane": "users:jane@example.com",
        "board-carol": "authenticated",
    }
    assert main(["list", "--repo", str(root)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["APP", "OWNER", "FRAMEWORK", "ACCESS"]
    assert any(line.split()[0] == "board-jane" and "users:jane@example.com" in line.split() for line in table)


# -- refusals --------------------------------------------------------------------------------------


def test_a_service_sending_traffic_straight_to_the_app_is_refused(repo, crds, capsys):
    edit_yaml(
        repo / "apps/board-jane/patch-service.yaml", lambda s: s["spec"]["ports"][0].__setitem__("targetPort", "http")
    )
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    # The Service's target, and the route that now reaches the app through it.
    assert [(p.file, p.resource, p.rule) for p in problems] == [
        ("apps/board-jane", "Service/board-jane-web", "access-bypass"),
        ("apps/board-jane", "HTTPRoute/board-jane-web", "access-bypass"),
    ]
    assert all("container 'app'" in p.message for p in problems)
    assert main(["validate", "--repo", str(repo), "--crds", str(crds)]) == EXIT_POLICY
    assert "[access-bypass]" in capsys.readouterr().out


def test_a_route_to_a_service_of_its_own_on_the_app_s_port_is_refused(repo, crds):
    """The route points straight at the app's port through a Service the owner added."""
    app = repo / "apps/board-jane"
    (app / "direct.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "direct"},
                "spec": {
                    "selector": {"app.kubernetes.io/component": "web"},
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
                },
            }
        )
    )
    edit_yaml(app / "kustomization.yaml", lambda k: k["resources"].append("direct.yaml"))
    edit_yaml(
        app / "patch-httproute.yaml",
        lambda r: r["spec"]["rules"][0]["backendRefs"][0].__setitem__("name", "board-jane-direct"),
    )
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert rules(problems) == {("apps/board-jane", "route-backend"), ("apps/board-jane", "access-bypass")}
    bypass = {p.resource for p in problems if p.rule == "access-bypass"}
    assert bypass == {"Service/board-jane-direct", "HTTPRoute/board-jane-web"}


def test_a_network_policy_admitting_the_app_s_port_is_refused(repo, crds):
    edit_yaml(
        repo / "apps/board-carol/patch-networkpolicy.yaml",
        lambda n: n["spec"]["ingress"][0]["ports"].append({"port": "http"}),
    )
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert [(p.resource, p.rule) for p in problems] == [("NetworkPolicy/board-carol-web", "access-bypass")]
    assert "'http'" in problems[0].message


def test_removing_the_proxy_or_widening_its_config_is_refused(repo, crds):
    edit_yaml(
        repo / "apps/board-carol/patch-deployment.yaml",
        lambda d: d["spec"]["template"]["spec"]["containers"].__setitem__(
            1, {"name": "oauth2-proxy", "$patch": "delete"}
        ),
    )
    cfg = repo / "apps/board-jane/access/oauth2-proxy.cfg"
    cfg.write_text(cfg.read_text() + 'skip_auth_routes = [".*"]\nclient_secret = "hunter2"\n')
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert {
        ("apps/board-carol", "access-proxy"),
        ("apps/board-carol", "access-bypass"),
        ("apps/board-jane", "access-config"),
        ("apps/board-jane", "access-secret"),
    } == rules(problems)
    assert any("skip_auth_routes" in p.message for p in problems)


def test_routes_must_attach_to_the_platform_gateway_with_their_own_unique_host(repo, crds):
    def elsewhere(route):
        route["spec"]["parentRefs"] = [{"name": "internet", "namespace": "kube-system"}]

    edit_yaml(repo / "apps/board-pat/patch-httproute.yaml", elsewhere)
    edit_yaml(
        repo / "apps/board-carol/patch-httproute.yaml",
        lambda r: r["spec"].__setitem__("hostnames", ["board-jane.apps.example.com"]),
    )
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert rules(problems) == {
        ("apps/board-pat", "route-parent"),
        ("apps/board-carol", "route-host"),
        ("apps/board-carol", "host-conflict"),
        ("apps/board-jane", "host-conflict"),
    }


def test_a_route_without_hostnames_or_with_a_typo_is_refused(repo, crds):
    edit_yaml(repo / "apps/board-pat/patch-httproute.yaml", lambda r: r["spec"].__setitem__("hostnames", []))
    edit_yaml(repo / "apps/board-jane/patch-httproute.yaml", lambda r: r["spec"].__setitem__("hostname", ["x"]))
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert ("apps/board-pat", "route-host") in rules(problems)
    typo = [p for p in problems if p.file == "apps/board-jane"]
    assert [p.rule for p in typo] == ["gateway-crd"] and "hostname" in typo[0].message
    # Without the CRDs, the fields n2a writes still form a closed set.
    without = validate_repo(repo, load_settings(repo))
    assert ("apps/board-jane", "gateway-schema") in rules(without)


def test_a_gateway_open_to_every_namespace_is_refused(repo, crds):
    def open_up(doc_text):
        docs = list(yaml.safe_load_all(doc_text))
        docs[1]["spec"]["listeners"][0]["allowedRoutes"]["namespaces"] = {"from": "All"}
        return yaml.safe_dump_all(docs, sort_keys=False)

    path = repo / "argocd/gateway.yaml"
    path.write_text(open_up(path.read_text()))
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert [(p.file, p.resource, p.rule) for p in problems] == [
        ("argocd/gateway.yaml", "Gateway/apps", "gateway-listener")
    ]


def test_a_platform_that_forbids_public_refuses_public_apps_in_publish_and_validate(repo, crds, capsys, tmp_path):
    settings = repo / "n2a.yaml"
    settings.write_text(
        settings.read_text().replace(
            'accessAllowed: ["public", "authenticated", "private", "users", "groups"]',
            'accessAllowed: ["authenticated", "private", "users", "groups"]',
        )
    )
    git(repo, "commit", "-qam", "n2a.yaml: sign-in required for every app")
    nb = write_notebook(tmp_path / "nb" / "board.ipynb", GRADIO_CELLS)

    before = snapshot(repo)
    assert main(["publish", str(nb), "--repo", str(repo), "--owner", "dan", "--access", "public"]) == EXIT_POLICY
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "[access-choice]" in err and "fix:" in err and "Traceback" not in err
    assert snapshot(repo) == before

    # The public app published before the change: its choice and its unguarded route are refused.
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert rules(problems) == {
        ("apps/board-pat", "access-choice"),
        ("apps/board-pat", "access-proxy"),
        ("apps/board-pat", "access-bypass"),
    }
    assert main(["validate", "--repo", str(repo), "--crds", str(crds)]) == EXIT_POLICY


@pytest.mark.parametrize(
    "access, code, text",
    [
        ("users:jane doe", EXIT_POLICY, "[access-name]"),
        ('users:jane@example.com,"x"', EXIT_POLICY, "[access-name]"),
        ("groups:data team", EXIT_POLICY, "[access-name]"),
        ("users:", EXIT_USAGE, "names no users"),
        ("everyone", EXIT_USAGE, "is not an access choice"),
    ],
)
def test_malformed_access_choices_are_refused_before_anything_is_written(repo, tmp_path, capsys, access, code, text):
    nb = write_notebook(tmp_path / "nb" / "board.ipynb", GRADIO_CELLS)
    before = snapshot(repo)
    assert main(["publish", str(nb), "--repo", str(repo), "--owner", "dan", "--access", access, "--json"]) == code
    captured = capsys.readouterr()
    assert text in captured.err and "fix:" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["exit_code"] == code
    assert snapshot(repo) == before


def test_a_hand_edited_access_annotation_with_bad_names_is_refused(repo, crds):
    edit_yaml(
        repo / "apps/board-jane/patch-deployment.yaml",
        lambda d: d["metadata"]["annotations"].__setitem__("n2a.dev/access", "users:jane@example.com,not an address"),
    )
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert ("apps/board-jane", "access-name") in rules(problems)


def test_private_lets_in_only_the_owner(repo, crds, tmp_path, capsys):
    nb = write_notebook(tmp_path / "nb" / "notes.ipynb", GRADIO_CELLS)
    assert main(["publish", str(nb), "--repo", str(repo), "--owner", "Erin", "--access", "private", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["app"] == "notes-erin" and result["access"] == "private"
    assert result["access_detail"] == "only the owner (erin@example.com)"
    users = one(built(repo, "notes-erin"), "ConfigMap", "-access-")["data"]["authenticated-emails.txt"]
    assert [line for line in users.splitlines() if not line.startswith("#")] == ["erin@example.com"]
    assert validate_repo(repo, load_settings(repo), crds_dir=crds) == []

    emails = repo / "apps/notes-erin/access/authenticated-emails.txt"
    emails.write_text(emails.read_text().replace("erin@example.com", "mallory@example.com"))
    problems = validate_repo(repo, load_settings(repo), crds_dir=crds)
    assert [(p.file, p.rule) for p in problems] == [("apps/notes-erin", "access-private")]


def test_changing_access_is_a_commit_with_history_and_rollback(repo, capsys):
    nb = write_notebook(repo.parent / "nb2" / "board.ipynb", GRADIO_CELLS)
    assert (
        main(
            [
                "publish",
                str(nb),
                "--repo",
                str(repo),
                "--name",
                "board",
                "--owner",
                "jane",
                "--access",
                "groups:finance,data-team",
                "--json",
            ]
        )
        == 0
    )
    commit = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["commit"]
    changed = git(repo, "show", "--name-only", "--format=", commit).split()
    assert "apps/board-jane/access/oauth2-proxy.cfg" in changed and "apps/board-jane/patch-deployment.yaml" in changed
    assert "apps/board-jane/access/authenticated-emails.txt" in changed  # deleted: groups need no users file
    from n2a_gitops.tomlparse import loads

    config = loads((repo / "apps/board-jane/access/oauth2-proxy.cfg").read_text())
    assert config["allowed_groups"] == ["finance", "data-team"] and config["email_domains"] == ["*"]
    assert main(["rollback", "board-jane", f"{commit}~1", "--repo", str(repo)]) == 0
    assert (repo / "apps/board-jane/access/authenticated-emails.txt").is_file()
    assert "allowed_groups" not in (repo / "apps/board-jane/access/oauth2-proxy.cfg").read_text()


def test_preview_runs_the_app_container_and_says_the_proxy_is_left_out(gateway_repo):
    from n2a_gitops.preview.localpod import _app_container, sidecar_notes

    root, _nb = gateway_repo
    deployment = one(built(root, "board-jane"), "Deployment")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    main_container, sidecars = _app_container(list(reversed(containers)))  # whatever the order
    assert main_container["name"] == "app" and [c["name"] for c in sidecars] == ["oauth2-proxy"]
    notes = sidecar_notes(deployment, sidecars)
    assert len(notes) == 1 and "without the sign-in proxy" in notes[0] and "users:jane@example.com" in notes[0]


def test_the_server_extension_and_the_magic_take_access(repo, tmp_path):
    """The JSON key and the magic's option are named like the CLI's --access; a real dry run."""
    from n2a_gitops.errors import UsageError
    from n2a_gitops.jupyter import magic
    from n2a_gitops.jupyter.options import KEYS, publish_kwargs

    nb = write_notebook(tmp_path / "nb" / "board.ipynb", GRADIO_CELLS)
    assert "access" in KEYS
    _notebook, kwargs = publish_kwargs({"notebook": "nb/board.ipynb", "access": "groups:finance"}, tmp_path)
    assert kwargs["access"] == "groups:finance"
    with pytest.raises(UsageError):
        publish_kwargs({"notebook": "nb/board.ipynb", "access": ["public"]}, tmp_path)
    before = snapshot(repo)
    shown = magic.run(f"plan --owner dan --access groups:finance --repo {repo} {nb}", {})
    assert shown.access == "groups:finance" and shown.dry_run
    assert "groups:finance" in shown._repr_html_()
    assert snapshot(repo) == before


def test_status_shows_the_url_and_access_of_a_routed_app(gateway_repo, capsys, monkeypatch):
    """Argo CD links Ingress hosts by itself but not HTTPRoute hostnames: with no external URL
    from Argo CD, status still gives the app's URL (the Application's link annotation does the
    same in the UI), and who may open it."""
    from fake_argocd import TOKEN, FakeArgoCD, application

    root, _nb = gateway_repo
    link = yaml.safe_load((root / "argocd/apps/board-jane.yaml").read_text())["metadata"]["annotations"][
        "link.argocd.argoproj.io/app"
    ]
    assert link == "Open app|https://board-jane.apps.example.com/"
    with FakeArgoCD() as argo:
        argo.add_app("board-jane", application("board-jane", revision="a" * 40, urls=[]))
        monkeypatch.setenv("N2A_ARGOCD_URL", argo.url)
        monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN)
        assert main(["status", "board-jane", "--repo", str(root), "--json"]) == 0
        result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert result["urls"] == ["https://board-jane.apps.example.com/"]
        assert result["access"] == "users:jane@example.com"
        assert main(["status", "board-jane", "--repo", str(root)]) == 0
        assert "access    users:jane@example.com" in capsys.readouterr().out


def test_a_bad_routing_or_access_setting_is_one_message_with_a_fix(repo, capsys):
    settings = repo / "n2a.yaml"
    text = settings.read_text()
    for broken, expected in (
        ('routing: "mesh"', "routing 'mesh'"),
        ('accessDefault: "everyone"', "accessDefault"),
        ('accessIdentity: "name"', "accessIdentity 'name'"),
    ):
        key = broken.split(":")[0]
        line = next(line for line in text.splitlines() if line.startswith(key + ":"))
        settings.write_text(text.replace(line, broken))
        assert main(["validate", "--repo", str(repo)]) == 1
        err = capsys.readouterr().err
        assert err.count("error:") == 1 and expected in err and "fix:" in err and "Traceback" not in err


def test_another_proxy_release_is_noted_not_silently_trusted():
    from n2a_gitops.validation.checks.proxyconfig import image_note

    assert image_note("quay.io/oauth2-proxy/oauth2-proxy:v7.15.3") is None
    assert image_note("registry.example.com/mirror/oauth2-proxy:v7.15.3@sha256:" + "0" * 64) is None
    note = image_note("quay.io/oauth2-proxy/oauth2-proxy:v7.9.0")
    assert note and "v7.9.0" in note and "checked against the options of v7.15.3" in note


def test_a_repo_from_before_routing_and_access_keeps_ingress_and_public_apps(tmp_path, crds, capsys):
    """An n2a.yaml without the new keys (as older `n2a init` wrote it): Ingress, no proxy."""
    root = tmp_path / "gitops"
    assert main(["init", str(root), "--routing", "ingress"]) == 0
    new_keys = ("routing", "gateway", "access", "oauth2Proxy", "oidc")
    settings = root / "n2a.yaml"
    settings.write_text(
        "".join(line + "\n" for line in settings.read_text().splitlines() if not line.startswith(new_keys))
    )
    git(root, "commit", "-qam", "n2a.yaml as an older n2a wrote it")
    assert "\nrouting:" not in settings.read_text() and load_settings(root).routing == "ingress"
    nb = write_notebook(tmp_path / "nb" / "board.ipynb", GRADIO_CELLS)
    assert main(["publish", str(nb), "--repo", str(root), "--owner", "old", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["access"] == "public"
    docs = built(root, "board-old")
    assert sorted(d["kind"] for d in docs) == ["ConfigMap", "Deployment", "Ingress", "NetworkPolicy", "Service"]
    assert reached_container(docs) == {"app"}
    assert validate_repo(root, load_settings(root), crds_dir=crds) == []
