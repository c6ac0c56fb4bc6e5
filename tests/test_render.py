"""No user value can change the structure of the YAML n2a writes (property-based).

Every template is rendered with hostile strings in every user-controlled slot; the output must
parse, and each value must come back exactly where it was put, with no extra keys.
"""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from n2a_gitops import render
from n2a_gitops.config import Settings
from n2a_gitops.model import LaunchSpec, Probe
from n2a_gitops.pipeline import _configmaps, _probes
from n2a_gitops.pod import envvars
from n2a_gitops.pod.access import Access, proxy_context
from n2a_gitops.pod.resources import app_resources
from n2a_gitops.pod.secretrefs import SecretRef

hostile = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40) | st.sampled_from(
    ['x"\nkind: Secret', "a: b", "- item", "{{ 7*7 }}", "'quoted'", "#", "---\nfoo: 1", "\\", "\u2028"]
)


def _ctx(notebook, env_value, command_arg, path, access=Access("public"), settings=None, store_key=None):
    launch = LaunchSpec(
        framework="python", command=["python", command_arg], packages=[], probe=Probe("http", "/health")
    )
    files = {path: b"x", "app.py": b"print(1)"}
    settings = settings or Settings()
    wanted, refs = app_resources(settings), []
    if store_key is not None:
        # Admin values in n2a.yaml are as hostile as users' here: they reach YAML the same way.
        settings = Settings(
            secretStore="vault",
            gpuNodeSelector={"gpu/" + store_key: notebook},
            gpuTolerations=[{"key": notebook, "operator": "Exists"}],
            maxResources={**Settings().maxResources, "gpu": 1},
        )
        wanted = app_resources(settings, memory="4Gi", gpu=1, replicas=2)
        refs = [SecretRef("API_KEY", "demo-jane-secrets", "API_KEY", store_key, notebook)]
    return {
        "access": access,
        "proxy": proxy_context(access, "demo-jane.apps.example.com", launch.port),
        "app": "demo-jane",
        "name": "demo",
        "owner": "jane",
        "framework": "python",
        "notebook": notebook,
        "settings": settings,
        "launch": launch,
        "env": {"GREETING": envvars.escape(env_value)},
        "secret_env": refs,
        "store_refs": refs,
        "resources": wanted.resources,
        "replicas": wanted.replicas,
        "node_selector": wanted.node_selector,
        "tolerations": wanted.tolerations,
        "probes": _probes(launch),
        "configmaps": _configmaps(files),
        "host": "demo-jane.apps.example.com",
        "url": "https://demo-jane.apps.example.com/",
        "tls_secret": "demo-jane-tls",
        "path": "apps/demo-jane",
        "base_path": "apps/_base",
        "notebook_url": f"https://git.example.com/{notebook}",
        "notify_triggers": ("on-deployed",),
        "conda": None,
        "scaling": {"enabled": False},  # always on, as the overlay stage renders without scaleToZero
        "blobs": None,  # no data too large for the ConfigMaps
    }


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    notebook=hostile,
    env_value=hostile,
    command_arg=hostile,
    path=st.text(alphabet="ab/._- :\n\"'", min_size=1, max_size=20).filter(lambda p: p.strip("/") and "//" not in p),
    store_key=hostile.filter(lambda k: k and not any(c.isspace() or c == "#" for c in k)),
)
def test_hostile_values_round_trip(notebook, env_value, command_arg, path, store_key):
    ctx = _ctx(notebook, env_value, command_arg, path, store_key=store_key)
    files = render.render_app(ctx)
    patch = yaml.safe_load(files["patch-deployment.yaml"])
    pod = patch["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert set(container) == {
        "name",
        "image",
        "command",
        "env",
        "resources",
        "startupProbe",
        "readinessProbe",
        "livenessProbe",
    }
    assert container["command"] == ["python", command_arg]
    # What the kubelet makes of the value is what was typed.
    [greeting, secret] = container["env"]
    assert greeting["name"] == "GREETING" and envvars.expand(greeting["value"], lambda n: "EXPANDED") == env_value
    assert secret == {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "demo-jane-secrets", "key": "API_KEY"}}}
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "4Gi", "nvidia.com/gpu": "1"}
    assert pod["nodeSelector"] == {"gpu/" + store_key: notebook}
    assert pod["tolerations"] == [{"key": notebook, "operator": "Exists"}]
    assert patch["spec"]["replicas"] == 2
    assert patch["metadata"]["annotations"] == {"n2a.dev/notebook": notebook, "n2a.dev/access": "public"}
    items = pod["volumes"][0]["projected"]["sources"][0]["configMap"]["items"]
    assert path in {i["path"] for i in items}

    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert set(kustomization) == {
        "apiVersion",
        "kind",
        "namespace",
        "namePrefix",
        "resources",
        "labels",
        "generatorOptions",
        "configMapGenerator",
        "patches",
    }
    assert kustomization["resources"] == ["../_base", "externalsecret.yaml"]
    external = yaml.safe_load(files["externalsecret.yaml"])
    assert external["spec"]["data"] == [
        {"secretKey": "API_KEY", "remoteRef": {"key": store_key, "property": notebook}}
        if notebook
        else {"secretKey": "API_KEY", "remoteRef": {"key": store_key}}
    ]
    assert external["spec"]["target"] == {"name": "demo-jane-secrets", "creationPolicy": "Owner"}

    application = yaml.safe_load(render.render_application(ctx))
    info = {i["name"]: i["value"] for i in application["spec"]["info"]}
    assert info["notebook"] == notebook
    assert (
        application["metadata"]["annotations"]["link.argocd.argoproj.io/notebook"]
        == f"Notebook|https://git.example.com/{notebook}"
    )
    assert application["kind"] == "Application" and application["spec"]["project"] == "notebook-apps"


names = st.lists(hostile.filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)), min_size=1, max_size=4)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=names, claim=hostile, issuer=hostile)
def test_hostile_groups_and_settings_cannot_add_proxy_options(groups, claim, issuer):
    """Even names that skipped validation land in the TOML as values, never as options."""
    from n2a_gitops.tomlparse import loads

    settings = Settings(accessGroupsClaim=claim, oidcIssuerURL=issuer, oidcClientID="c")
    files = render.render_app(_ctx("nb", "v", "a", "app.py", Access("groups", tuple(groups)), settings))
    config = loads(files["access/oauth2-proxy.cfg"])
    assert config["allowed_groups"] == list(groups)
    assert config["oidc_groups_claim"] == claim and config["oidc_issuer_url"] == issuer
    assert set(config) == {
        "provider",
        "oidc_issuer_url",
        "client_id",
        "code_challenge_method",
        "redirect_url",
        "oidc_email_claim",
        "oidc_groups_claim",
        "email_domains",
        "allowed_groups",
        "http_address",
        "upstreams",
        "reverse_proxy",
        "cookie_secure",
        "cookie_name",
        "skip_provider_button",
        "silence_ping_logging",
    }
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert [g["name"] for g in kustomization["configMapGenerator"]] == ["code", "access"]


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(users=names)
def test_a_user_name_that_would_add_a_line_never_renders(users):
    """The users file has no quoting: a name that is not one clean line is refused, not written."""
    import pytest

    from n2a_gitops.errors import N2AError

    ctx = _ctx("nb", "v", "a", "app.py", Access("users", tuple(users)), Settings(oidcIssuerURL="i", oidcClientID="c"))
    clean = all(
        u
        and u == u.strip()
        and "\n" not in u
        and "\r" not in u
        and not u.startswith("#")
        and not any(ch in u for ch in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        for u in users
    )
    if clean:
        files = render.render_app(ctx)
        lines = [
            line for line in files["access/authenticated-emails.txt"].splitlines() if line and not line.startswith("#")
        ]
        assert lines == list(users)
    else:
        with pytest.raises(N2AError):
            render.render_app(ctx)


def test_quote_filter_emits_json_scalars():
    assert render.quote('a"\nb') == '"a\\"\\nb"'
    assert render.quote("\U00010000") == '"\\U00010000"'
    assert yaml.safe_load("k: " + render.quote({"x": ["y", 1]})) == {"k": {"x": ["y", 1]}}


def test_template_errors_name_the_template():
    import pytest

    from n2a_gitops.errors import N2AError

    with pytest.raises(N2AError) as exc:
        render.render("app/kustomization.yaml.j2", app="x")  # most of the context missing
    assert "kustomization.yaml.j2" in exc.value.message
