"""Secrets by reference and resources within n2a.yaml's limits, through the real CLI, real git
and the real kustomize.

No API server, kubelet or External Secrets Operator runs here. What stands in for them: the
Kubernetes OpenAPI schemas of kubernetes-validate (strict) for the API server's schema check,
the ExternalSecret CRD in ../shared/external-secrets (strict, crdschema) for the operator's
admission, envvars.resolve (the kubelet's expansion rules, tested on their own in
test_envvars.py) for what a container's environment becomes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml
from conftest import ARGOCD_CRDS, EXTERNAL_SECRETS_CRDS, git, snapshot, write_notebook

from n2a_gitops import kustomize
from n2a_gitops.cli import main
from n2a_gitops.config import load_settings
from n2a_gitops.errors import EXIT_POLICY, EXIT_USAGE
from n2a_gitops.pod import envvars
from n2a_gitops.validation import crdschema
from n2a_gitops.validation.validate import validate_repo

URL = "https://git.example.com/platform/gitops.git"
CRD_GROUPS = ("gateway.networking.k8s.io/", "external-secrets.io/")
APP = "greeter-jane"
# Assembled from pieces so that this file does not itself look like a leak.
FAKE_KEY = "sk-" + "proj" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"


def make_repo(tmp_path, *init_args, **settings):
    """`n2a init`, then n2a.yaml changed as an admin would (committed)."""
    root = tmp_path / "gitops"
    assert main(["init", str(root), "--repo-url", URL, "--apps-domain", "apps.example.com", *init_args]) == 0
    if settings:
        path = root / "n2a.yaml"
        data = yaml.safe_load(path.read_text())
        data.update(settings)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        git(root, "commit", "-qam", "admin: n2a.yaml")
    return root


def publish(capsys, root, notebook, *args):
    code = main(["publish", str(notebook), "--repo", str(root), "--owner", "jane", "--json", *args])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else None), captured.err


def built(root, app=APP) -> dict[str, dict]:
    return {d["kind"]: d for d in kustomize.build(root / "apps" / app)}


def app_container(docs):
    return next(c for c in docs["Deployment"]["spec"]["template"]["spec"]["containers"] if c["name"] == "app")


def committed_text(root) -> str:
    """Every file of the commit HEAD, concatenated."""
    names = git(root, "ls-tree", "-r", "--name-only", "HEAD").split()
    return "\n".join(git(root, "show", f"HEAD:{n}") for n in names)


@pytest.fixture
def crds(tmp_path):
    """One folder with the Argo CD and External Secrets CRDs, as an admin exports them (crdsDir)."""
    folder = tmp_path / "crds"
    folder.mkdir()
    for path in [*ARGOCD_CRDS.glob("*.yaml"), *EXTERNAL_SECRETS_CRDS.glob("*.yaml")]:
        (folder / path.name).symlink_to(path)
    return folder


# -- secrets by reference --------------------------------------------------------------------


def test_secret_env_renders_a_secret_key_ref_that_validates_strictly(tmp_path, gradio_notebook, capsys, monkeypatch):
    root = make_repo(tmp_path, secretsAllowed=["{app}-*", "llm-keys"])
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)  # the user has the value locally; it must not travel
    code, result, err = publish(capsys, root, gradio_notebook, "--secret-env", "OPENAI_API_KEY=llm-keys/openai")
    assert code == 0, err
    assert result["secret_env"] == [{"env": "OPENAI_API_KEY", "secret": "llm-keys", "key": "openai"}]

    docs = built(root)
    env = app_container(docs)["env"]
    assert {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "llm-keys", "key": "openai"}}} in env
    for doc in docs.values():
        if not doc["apiVersion"].startswith(CRD_GROUPS):  # custom resources have their CRD checks
            kubernetes_validate.validate(doc, "1.32", strict=True)
    assert validate_repo(root, load_settings(root)) == []
    assert FAKE_KEY not in committed_text(root) and FAKE_KEY not in json.dumps(result) and FAKE_KEY not in err
    assert "Secret" not in docs  # a reference only: no Secret object anywhere


@pytest.mark.parametrize(
    "option, code, words",
    [
        ("OPENAI_API_KEY=llm-keys/openai", EXIT_POLICY, ["llm-keys", "secretsAllowed: greeter-jane-*"]),
        ("OPENAI_API_KEY=other-bob-keys/openai", EXIT_POLICY, ["other-bob-keys"]),
        ("OPENAI_API_KEY=llm-keys", EXIT_USAGE, ["NAME=SECRET/KEY"]),
        ("1BAD=llm-keys/openai", EXIT_USAGE, ["valid variable name"]),
        ("PATH=greeter-jane-keys/x", EXIT_USAGE, ["already set"]),
        ("X=Not_A_Name/key", EXIT_USAGE, ["NAME=SECRET/KEY"]),
    ],
)
def test_secret_env_outside_the_rule_or_malformed_is_refused(gitops, gradio_notebook, capsys, option, code, words):
    before = snapshot(gitops)
    got, result, err = publish(capsys, gitops, gradio_notebook, "--secret-env", option)
    assert got == code and result["exit_code"] == code
    assert err.count("error:") == 1 and "fix:" in err and "Traceback" not in err
    assert all(w in err for w in words), err
    assert snapshot(gitops) == before


def test_an_app_id_that_prefixes_another_does_not_reach_its_secrets(gitops, gradio_notebook, capsys):
    """App ids are <name>-<owner>: owner bob's `sales-bob` is a prefix of owner bob-smith's
    `sales-bob-smith`, so "{app}-*" alone would let the first read the second's Secrets."""

    def pub(owner, *args):
        return main(
            [
                "publish",
                str(gradio_notebook),
                "--repo",
                str(gitops),
                "--name",
                "sales",
                "--owner",
                owner,
                "--quiet",
                *args,
            ]
        )

    assert pub("bob-smith", "--secret-env", "K=sales-bob-smith-keys/k") == 0
    before = snapshot(gitops)
    assert pub("bob", "--secret-env", "K=sales-bob-smith-keys/k") == EXIT_POLICY
    assert "belongs to app sales-bob-smith" in capsys.readouterr().err
    assert snapshot(gitops) == before
    assert pub("bob", "--secret-env", "K=sales-bob-keys/k") == 0
    # A hand edit gets the same answer from `n2a validate`.
    patch = gitops / "apps/sales-bob/patch-deployment.yaml"
    patch.write_text(patch.read_text().replace('"sales-bob-keys"', '"sales-bob-smith-keys"'))
    problems = validate_repo(gitops, load_settings(gitops), apps=["sales-bob"])
    assert [(p.rule, p.file) for p in problems] == [("secret-not-allowed", "apps/sales-bob")]
    assert "belongs to app sales-bob-smith" in problems[0].message


@pytest.mark.shared("argocd", "external-secrets")
def test_with_a_store_secret_env_renders_an_external_secret_valid_against_its_crd(
    tmp_path, gradio_notebook, capsys, crds
):
    root = make_repo(tmp_path, "--secret-store", "vault", secretStoreKeys=["{app}/*", "openai"])
    code, result, err = publish(
        capsys,
        root,
        gradio_notebook,
        "--secret-env",
        "OPENAI_API_KEY=openai",
        "--secret-env",
        "DB_PASSWORD=greeter-jane/db#password",
    )
    assert code == 0, err
    docs = built(root)
    external = docs["ExternalSecret"]
    assert crdschema.validate_against_crds(external, EXTERNAL_SECRETS_CRDS) == []
    assert external["metadata"]["name"] == f"{APP}-secrets" and external["metadata"]["namespace"] == "notebook-apps"
    assert external["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault"}
    assert external["spec"]["data"] == [
        {"secretKey": "OPENAI_API_KEY", "remoteRef": {"key": "openai"}},
        {"secretKey": "DB_PASSWORD", "remoteRef": {"key": "greeter-jane/db", "property": "password"}},
    ]
    # The Deployment reads the Secret the operator writes, key by key.
    target = external["spec"]["target"]["name"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in app_container(docs)["env"] if "valueFrom" in e}
    assert refs == {
        "OPENAI_API_KEY": {"name": target, "key": "OPENAI_API_KEY"},
        "DB_PASSWORD": {"name": target, "key": "DB_PASSWORD"},
    }
    kubernetes_validate.validate(docs["Deployment"], "1.32", strict=True)
    # The repo's AppProject (written by init with the store) admits it; the whole gate passes.
    assert validate_repo(root, load_settings(root), crds_dir=crds) == []
    # A key the rule does not allow is refused before anything is written.
    before = snapshot(root)
    code, result, err = publish(capsys, root, gradio_notebook, "--secret-env", "X=other-bob/key")
    assert code == EXIT_POLICY and "secretStoreKeys: greeter-jane/*, openai" in err
    assert snapshot(root) == before


@pytest.mark.shared("external-secrets")
def test_a_typo_in_an_external_secret_fails_its_crd_check(tmp_path, gradio_notebook, capsys, crds):
    root = make_repo(tmp_path, "--secret-store", "vault", secretStoreKeys=["*"])
    assert publish(capsys, root, gradio_notebook, "--secret-env", "K=openai")[0] == 0
    path = root / "apps" / APP / "externalsecret.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["data"][0]["remoteRef"]["proprety"] = "password"  # would be pruned, silently, by the API server
    path.write_text(yaml.safe_dump(doc))
    problems = validate_repo(root, load_settings(root), apps=[APP], crds_dir=crds)
    assert [(p.rule, p.resource) for p in problems] == [("externalsecret-crd", f"ExternalSecret/{APP}-secrets")]
    assert "proprety" in problems[0].message
    # A field outside what an app's ExternalSecret may use is refused even without the CRD.
    doc["spec"]["data"][0]["remoteRef"].pop("proprety")
    doc["spec"]["dataFrom"] = [{"find": {"name": {"regexp": ".*"}}}]  # every key of the store
    path.write_text(yaml.safe_dump(doc))
    problems = validate_repo(root, load_settings(root), apps=[APP])
    assert [p.rule for p in problems] == ["externalsecret"] and "dataFrom" in problems[0].message


def test_the_app_project_allows_external_secret_only_with_a_store(tmp_path, gitops, gradio_notebook, capsys):
    def allowed(root):
        project = yaml.safe_load((root / "argocd/project-apps.yaml").read_text())
        return ("external-secrets.io", "ExternalSecret") in {
            (k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]
        }

    with_store = make_repo(tmp_path / "s", "--secret-store", "vault")
    assert allowed(with_store) and not allowed(gitops)
    # Without a store the bootstrap may not allow it, and an overlay may not carry one.
    edit = gitops / "argocd/project-apps.yaml"
    project = yaml.safe_load(edit.read_text())
    project["spec"]["namespaceResourceWhitelist"].append({"group": "external-secrets.io", "kind": "ExternalSecret"})
    edit.write_text(yaml.safe_dump(project))
    assert publish(capsys, gitops, gradio_notebook)[0] == 0
    (gitops / "apps" / APP / "es.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": "secrets"},
                "spec": {
                    "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
                    "target": {"name": f"{APP}-secrets"},
                    "data": [{"secretKey": "K", "remoteRef": {"key": "k"}}],
                },
            }
        )
    )
    kust = yaml.safe_load((gitops / "apps" / APP / "kustomization.yaml").read_text())
    kust["resources"].append("es.yaml")
    (gitops / "apps" / APP / "kustomization.yaml").write_text(yaml.safe_dump(kust))
    rules = {p.rule for p in validate_repo(gitops, load_settings(gitops))}
    assert rules == {"appproject-externalsecret", "externalsecret"}


@pytest.mark.parametrize(
    "args",
    [
        ["--env", f"OPENAI_API_KEY={FAKE_KEY}"],  # a value where a value does not belong
        ["--secret-env", f"OPENAI_API_KEY={FAKE_KEY}"],  # the value pasted instead of where it is kept
        ["--secret-env", f"OPENAI_API_KEY=greeter-jane-keys/{FAKE_KEY}"],
    ],
)
def test_a_secret_value_on_the_command_line_is_refused_and_never_echoed(gitops, gradio_notebook, capsys, args):
    before = snapshot(gitops)
    code, result, err = publish(capsys, gitops, gradio_notebook, *args)
    assert code == EXIT_POLICY, err
    assert "--secret-env OPENAI_API_KEY=" in err
    assert FAKE_KEY not in err and FAKE_KEY not in json.dumps(result)
    assert snapshot(gitops) == before


def test_a_key_in_the_notebook_is_refused_with_the_secret_env_to_use(gitops, tmp_path):
    notebook = write_notebook(
        tmp_path / "nb" / "chat.ipynb",
        [
            "import os\nimport gradio as gr",
            f"API_KEY = {FAKE_KEY!r}",
            "demo = gr.Interface(lambda x: x, 'text', 'text')\ndemo.launch()",
        ],
    )
    before = snapshot(gitops)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "n2a_gitops",
            "publish",
            str(notebook),
            "--repo",
            str(gitops),
            "--owner",
            "jane",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == EXIT_POLICY, proc.stderr
    assert "--secret-env API_KEY=" in proc.stderr and "Traceback" not in proc.stderr
    body = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "--secret-env API_KEY=" in body["error"] and 'os.environ["API_KEY"]' in body["fix"].replace("'", '"')
    assert "secretsAllowed: chat-jane-*" in body["fix"]
    assert FAKE_KEY not in proc.stderr + proc.stdout and FAKE_KEY[:12] not in proc.stderr
    assert snapshot(gitops) == before


# -- resources -------------------------------------------------------------------------------

GPU_SETTINGS = {
    "maxResources": {"cpu": "4", "memory": "16Gi", "gpu": 2, "replicas": 3},
    "gpuResource": "nvidia.com/gpu",
    "gpuNodeSelector": {"nvidia.com/gpu.present": "true"},
    "gpuTolerations": [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
    ],
}


def test_memory_and_gpu_render_what_n2a_yaml_defines(tmp_path, gradio_notebook, capsys):
    root = make_repo(tmp_path, **GPU_SETTINGS)
    code, result, err = publish(capsys, root, gradio_notebook, "--memory", "4Gi", "--gpu", "1", "--replicas", "2")
    assert code == 0, err
    docs = built(root)
    deployment = docs["Deployment"]
    container = app_container(docs)
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "4Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "1", "memory": "4Gi", "nvidia.com/gpu": "1"},
    }
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == GPU_SETTINGS["gpuNodeSelector"]
    assert pod["tolerations"] == GPU_SETTINGS["gpuTolerations"]
    assert deployment["spec"]["replicas"] == 2
    kubernetes_validate.validate(deployment, "1.32", strict=True)
    assert validate_repo(root, load_settings(root)) == []
    assert result["resources"] == {
        "replicas": 2,
        "requests": container["resources"]["requests"],
        "limits": container["resources"]["limits"],
    }
    assert "resources    2 replicas; requests cpu 100m, memory 4Gi, nvidia.com/gpu 1" in err
    # n2a list shows the same.
    assert main(["list", "--repo", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["apps"]
    assert [r["resources"] for r in rows] == [result["resources"]]
    # Without --gpu there is no GPU, no node selector, no toleration (re-publishing states it all).
    assert publish(capsys, root, gradio_notebook, "--cpu", "1500m")[0] == 0
    pod = built(root)["Deployment"]["spec"]["template"]["spec"]
    assert "nodeSelector" not in pod and "tolerations" not in pod
    assert app_container(built(root))["resources"] == {
        "requests": {"cpu": "1500m", "memory": "256Mi"},
        "limits": {"cpu": "1500m", "memory": "1Gi"},
    }


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--memory", "64Gi"], EXIT_POLICY, ["maximum of 16Gi", "maxResources.memory", "--memory 16Gi"]),
        (["--memory", "17179869185"], EXIT_POLICY, ["16Gi"]),  # one byte above 16Gi
        (["--cpu", "4001m"], EXIT_POLICY, ["maximum of 4 ", "maxResources.cpu"]),
        (["--gpu", "1"], EXIT_POLICY, ["maximum of 0 GPUs", "maxResources.gpu"]),
        (["--replicas", "4"], EXIT_POLICY, ["maximum of 3 replicas"]),
        (["--memory", "4GB"], EXIT_USAGE, ["not a Kubernetes quantity"]),
        (["--cpu", "0"], EXIT_USAGE, ["more than zero"]),
        (["--gpu", "-1"], EXIT_USAGE, ["whole number"]),
        (["--gpu", "one"], EXIT_USAGE, ["--gpu"]),
    ],
)
def test_requests_above_a_maximum_or_malformed_are_refused(gitops, gradio_notebook, capsys, args, code, words):
    before = snapshot(gitops)
    got, result, err = publish(capsys, gitops, gradio_notebook, *args)
    assert got == code, err
    assert err.count("error:") == 1 and "fix:" in err and "Traceback" not in err
    assert all(w in err for w in words), err
    assert snapshot(gitops) == before


def test_exactly_the_maximum_is_allowed(gitops, gradio_notebook, capsys):
    code, result, err = publish(capsys, gitops, gradio_notebook, "--memory", "16384Mi", "--cpu", "4", "--replicas", "3")
    assert code == 0, err
    assert result["resources"]["limits"] == {"cpu": "4", "memory": "16384Mi"}


# -- env values arrive as typed ----------------------------------------------------------------


def test_env_values_reach_the_pod_as_typed(gitops, gradio_notebook, capsys):
    typed = {
        "GREETING": "cost is $(HOME) today",
        "REF": "$(GREETING) and $(N2A_APP_OBJECT)",
        "DOLLARS": "$$5 or $5$",
        "ODD": "$(unclosed and $é",
    }
    args = [a for k, v in typed.items() for a in ("--env", f"{k}={v}")]
    code, result, err = publish(capsys, gitops, gradio_notebook, *args)
    assert code == 0, err
    rendered = (gitops / "apps" / APP / "patch-deployment.yaml").read_text()
    assert '"cost is $$(HOME) today"' in rendered
    container = app_container(built(gitops))
    env, _ = envvars.resolve(container, lambda item: None)  # what the kubelet makes of the list
    assert {k: env[k] for k in typed} == typed
    # Not escaped, the kubelet would have changed them (N2A_APP_OBJECT comes earlier in the list).
    raw = {
        **container,
        "env": [{"name": e["name"], "value": typed.get(e["name"], e.get("value", ""))} for e in container["env"]],
    }
    unescaped, _ = envvars.resolve(raw, lambda item: None)
    assert unescaped["REF"] != typed["REF"] and unescaped["DOLLARS"] != typed["DOLLARS"]


# -- the admin's part: quota and limit range ----------------------------------------------------


def test_init_writes_a_resource_quota_and_a_limit_range_from_n2a_yaml(gitops):
    settings = load_settings(gitops)
    docs = kustomize.build(gitops / "argocd")
    quota = next(d for d in docs if d["kind"] == "ResourceQuota")
    limits = next(d for d in docs if d["kind"] == "LimitRange")
    for doc in (quota, limits):
        kubernetes_validate.validate(doc, "1.32", strict=True)
        assert doc["metadata"]["namespace"] == settings.namespace
    assert quota["spec"]["hard"] == settings.quota
    [container] = limits["spec"]["limits"]
    assert container["max"] == {"cpu": "4", "memory": "16Gi"}
    assert container["default"] == settings.resources["limits"]
    assert container["defaultRequest"] == settings.resources["requests"]
    assert validate_repo(gitops, settings) == []


def test_maxima_raised_in_n2a_yaml_but_not_in_the_limit_range_are_flagged(tmp_path):
    root = make_repo(tmp_path, maxResources={"memory": "32Gi"})
    problems = validate_repo(root, load_settings(root))
    assert [(p.file, p.rule) for p in problems] == [("argocd/limitrange.yaml", "limitrange-max")]
    assert "32Gi" in problems[0].message and "16Gi" in problems[0].message


def test_an_app_cannot_bring_its_own_quota(gitops, gradio_notebook, capsys):
    assert publish(capsys, gitops, gradio_notebook)[0] == 0
    folder = gitops / "apps" / APP
    (folder / "quota.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": "mine"},
                "spec": {"hard": {"pods": "999"}},
            }
        )
    )
    kust = yaml.safe_load((folder / "kustomization.yaml").read_text())
    kust["resources"].append("quota.yaml")
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kust))
    problems = validate_repo(gitops, load_settings(gitops))
    assert [(p.resource, p.rule) for p in problems] == [(f"ResourceQuota/{APP}-mine", "appproject-kind")]


def test_settings_with_bad_maxima_are_one_clear_error(tmp_path, gradio_notebook, capsys):
    root = make_repo(tmp_path, maxResources={"memory": "16GB"})
    code, result, err = publish(capsys, root, gradio_notebook)
    assert (
        code == 1
        and "maxResources.memory '16GB' is not a positive Kubernetes quantity" in err
        and "Traceback" not in err
    )


# -- the same options from Python, the magic and the server extension ---------------------------


def test_magic_and_server_extension_take_the_same_options(gitops, gradio_notebook, tmp_path):
    from n2a_gitops.errors import PolicyError
    from n2a_gitops.jupyter import magic
    from n2a_gitops.jupyter.options import publish_kwargs

    line = (
        f"plan {gradio_notebook} --repo {gitops} --owner jane --memory 4Gi --cpu 2 --replicas 2 --gpu 0 "
        "--secret-env API_KEY=greeter-jane-keys/api"
    )
    shown = magic.run(line, {})
    assert shown.resources["limits"] == {"cpu": "2", "memory": "4Gi"} and shown.resources["replicas"] == 2
    assert shown.secret_env == [{"env": "API_KEY", "secret": "greeter-jane-keys", "key": "api"}]
    assert "API_KEY" in shown._repr_html_() and "4Gi" in shown._repr_html_()
    with pytest.raises(PolicyError) as refused:
        magic.run(f"plan {gradio_notebook} --repo {gitops} --owner jane --memory 64Gi", {})
    assert "16Gi" in refused.value.message

    root = gradio_notebook.parent
    _, kwargs = publish_kwargs(
        {
            "notebook": gradio_notebook.name,
            "secret_env": {"API_KEY": "greeter-jane-keys/api"},
            "memory": "4Gi",
            "cpu": 2,
            "gpu": 0,
            "replicas": 2,
        },
        root,
    )
    assert kwargs["secret_env"] == ["API_KEY=greeter-jane-keys/api"]
    assert (kwargs["memory"], kwargs["cpu"], kwargs["gpu"], kwargs["replicas"]) == ("4Gi", 2, 0, 2)
    from n2a_gitops.errors import UsageError

    for bad in ({"gpu": 1.5}, {"memory": ["4Gi"]}, {"secret_env": 3}, {"replicas": True}):
        with pytest.raises(UsageError):
            publish_kwargs({"notebook": gradio_notebook.name, **bad}, root)
