"""No user value can change the structure of the YAML n2a writes (property-based).

Every template is rendered with hostile strings in every user-controlled slot; the output must
parse, and each value must come back exactly where it was put, with no extra keys.
"""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from n2a_gitops import render
from n2a_gitops.config import Settings
from n2a_gitops.model import LaunchSpec, Probe
from n2a_gitops.pipeline import _configmaps, _probes

hostile = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40
) | st.sampled_from(['x"\nkind: Secret', "a: b", "- item", "{{ 7*7 }}", "'quoted'", "#", "---\nfoo: 1", "\\", "\u2028"])


def _ctx(notebook, env_value, command_arg, path):
    launch = LaunchSpec(framework="python", command=["python", command_arg], packages=[], probe=Probe("http", "/health"))
    files = {path: b"x", "app.py": b"print(1)"}
    return {
        "app": "demo-jane", "name": "demo", "owner": "jane", "framework": "python", "notebook": notebook,
        "settings": Settings(), "launch": launch, "env": {"GREETING": env_value}, "probes": _probes(launch),
        "configmaps": _configmaps(files), "host": "demo-jane.apps.example.com",
        "url": "https://demo-jane.apps.example.com/", "tls_secret": "demo-jane-tls", "path": "apps/demo-jane",
        "base_path": "apps/_base", "notebook_url": f"https://git.example.com/{notebook}",
        "notify_triggers": ("on-deployed",),
    }


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notebook=hostile, env_value=hostile, command_arg=hostile,
       path=st.text(alphabet="ab/._- :\n\"'", min_size=1, max_size=20).filter(lambda p: p.strip("/") and "//" not in p))
def test_hostile_values_round_trip(notebook, env_value, command_arg, path):
    ctx = _ctx(notebook, env_value, command_arg, path)
    files = render.render_app(ctx)
    patch = yaml.safe_load(files["patch-deployment.yaml"])
    container = patch["spec"]["template"]["spec"]["containers"][0]
    assert set(container) == {"name", "image", "command", "env", "resources", "startupProbe", "readinessProbe", "livenessProbe"}
    assert container["command"] == ["python", command_arg]
    assert container["env"] == [{"name": "GREETING", "value": env_value}]
    assert patch["metadata"]["annotations"] == {"n2a.dev/notebook": notebook}
    items = patch["spec"]["template"]["spec"]["volumes"][0]["projected"]["sources"][0]["configMap"]["items"]
    assert path in {i["path"] for i in items}

    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert set(kustomization) == {"apiVersion", "kind", "namespace", "namePrefix", "resources", "labels",
                                  "generatorOptions", "configMapGenerator", "patches"}

    application = yaml.safe_load(render.render_application(ctx))
    info = {i["name"]: i["value"] for i in application["spec"]["info"]}
    assert info["notebook"] == notebook
    assert application["metadata"]["annotations"]["link.argocd.argoproj.io/notebook"] == f"Notebook|https://git.example.com/{notebook}"
    assert application["kind"] == "Application" and application["spec"]["project"] == "notebook-apps"


def test_quote_filter_emits_json_scalars():
    assert render.quote('a"\nb') == '"a\\"\\nb"'
    assert render.quote('\U00010000') == '"\\U00010000"'
    assert yaml.safe_load("k: " + render.quote({"x": ["y", 1]})) == {"k": {"x": ["y", 1]}}


def test_template_errors_name_the_template():
    import pytest

    from n2a_gitops.errors import N2AError

    with pytest.raises(N2AError) as exc:
        render.render("app/kustomization.yaml.j2", app="x")  # most of the context missing
    assert "kustomization.yaml.j2" in exc.value.message
