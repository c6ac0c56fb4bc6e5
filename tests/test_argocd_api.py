"""`n2a status`, `n2a logs` and `argocd.wait_for` against a stand-in for Argo CD.

The server in tests/fake_argocd.py is NOT Argo CD: it is a real HTTP server on loopback that
answers with documents shaped as Argo CD v3.5's swagger.json describes (checked below against
that swagger, with unknown fields rejected), including the NDJSON log stream and the
runtimeError bodies of 401/403/404.
"""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path

import git
import pytest
import yaml
from conftest import ARGOCD_CRDS
from fake_argocd import TOKEN, TOKEN_WITHOUT_LOGS, FakeArgoCD, application

from n2a_gitops import argocd
from n2a_gitops.cli import main
from n2a_gitops.errors import EXIT_AUTH, EXIT_NOT_FOUND, EXIT_UNREACHABLE, EXIT_USAGE, N2AError
from n2a_gitops.output import Output

SWAGGER = ARGOCD_CRDS / "swagger.json"
APP = "sales-jane"
SHA_OLD = "1" * 40
SHA_NEW = "2" * 40


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for var in ("N2A_REPO", "N2A_ARGOCD_URL", "N2A_ARGOCD_TOKEN", "N2A_ARGOCD_INSECURE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test User")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.com")


@pytest.fixture
def argo(monkeypatch):
    with FakeArgoCD() as fake:
        monkeypatch.setenv("N2A_ARGOCD_URL", fake.url)
        monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN)
        yield fake


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.shared("argocd")
def test_served_documents_match_the_argo_cd_swagger(argo, capsys):
    from jsonschema import Draft4Validator

    argo.add_app(
        APP,
        application(APP, revision=SHA_NEW),
        pods=["p1", "p2"],
        logs=[{"content": "hello", "podName": "p1", "timeStampStr": "2025-01-01T10:00:00Z"}],
    )
    run(capsys, "status", APP)
    run(capsys, "logs", APP)
    run(capsys, "status", "nope")
    definitions = _closed(_merge_all_of(copy.deepcopy(json.loads(SWAGGER.read_text())["definitions"])))
    kinds = set()
    for definition, doc in argo.served:
        if definition.startswith("stream:"):
            definition = definition[len("stream:") :]
            doc = doc["result"]
        kinds.add(definition)
        validator = Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": definitions})
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], (definition, errors)
    assert kinds == {"v1alpha1Application", "v1alpha1ApplicationTree", "applicationLogEntry", "runtimeError"}


def test_status_shows_sync_health_revision_message_and_urls(argo, capsys):
    argo.add_app(APP, application(APP, revision=SHA_NEW, message="successfully synced (all tasks run)"))
    code, out, _err = run(capsys, "status", APP, "--json")
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["app"] == APP
    assert result["sync"] == "Synced" and result["health"] == "Healthy"
    assert result["revision"] == SHA_NEW
    assert result["message"] == "successfully synced (all tasks run)"
    assert result["urls"] == [f"https://{APP}.apps.example.com/"]
    assert result["current"] is None  # no clone at hand: nothing to compare with
    request = argo.requests[-1]
    assert request["path"] == f"/api/v1/applications/{APP}"
    assert request["authorization"] == f"Bearer {TOKEN}"

    code, out, _err = run(capsys, "status", APP)
    assert code == 0
    assert "Synced" in out and "Healthy" in out and SHA_NEW[:12] in out


def test_status_says_whether_argo_cd_runs_the_last_pushed_commit(argo, capsys, tmp_path):
    repo, pushed = _clone_with_remote(tmp_path)
    argo.add_app(
        APP,
        application(APP, revision=pushed),
        application(APP, revision=SHA_OLD, sync="OutOfSync", health="Progressing"),
    )
    code, out, _ = run(capsys, "status", APP, "--repo", str(repo), "--json", "--refresh")
    result = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and result["current"] is True and result["pushed"] == pushed
    assert argo.requests[-1]["query"] == {"refresh": "normal"}
    code, out, _ = run(capsys, "status", APP, "--repo", str(repo))
    assert code == 0
    assert f"the last pushed commit is {pushed[:12]}" in out


def test_logs_prints_every_pods_lines_from_the_deployment(argo, capsys):
    entries = [
        {"content": "starting gradio", "podName": f"{APP}-web-a", "timeStampStr": "2025-01-01T10:00:00Z"},
        {"content": "Running on 0.0.0.0:8080", "podName": f"{APP}-web-a", "timeStampStr": "2025-01-01T10:00:01Z"},
        {"content": "starting gradio", "podName": f"{APP}-web-b", "timeStampStr": "2025-01-01T10:00:02Z"},
    ]
    argo.add_app(
        APP,
        application(APP, revision=SHA_NEW, namespace="team-apps"),
        pods=[f"{APP}-web-a", f"{APP}-web-b"],
        logs=entries,
    )
    code, out, _ = run(capsys, "logs", APP)
    assert code == 0
    assert out.splitlines() == [
        f"[{APP}-web-a] starting gradio",
        f"[{APP}-web-a] Running on 0.0.0.0:8080",
        f"[{APP}-web-b] starting gradio",
    ]
    query = argo.requests[-1]["query"]
    assert argo.requests[-1]["path"] == f"/api/v1/applications/{APP}/logs"
    assert query["group"] == "apps" and query["kind"] == "Deployment" and query["resourceName"] == f"{APP}-web"
    assert query["namespace"] == "team-apps" and query["follow"] == "false"

    code, out, _ = run(capsys, "logs", APP, "--tail", "1", "--json")
    result = json.loads(out.strip().splitlines()[-1])
    assert argo.requests[-1]["query"]["tailLines"] == "1"
    assert [line["content"] for line in result["lines"]] == ["Running on 0.0.0.0:8080", "starting gradio"]


def test_logs_of_a_single_pod_are_printed_bare_and_follow_reads_to_the_end(argo, capsys):
    entries = [{"content": f"line {i}", "podName": "only", "timeStampStr": "t"} for i in range(3)]
    argo.add_app(APP, application(APP, revision=SHA_NEW), pods=["only"], logs=entries)
    code, out, _ = run(capsys, "logs", APP, "--follow")
    assert code == 0 and out.splitlines() == ["line 0", "line 1", "line 2"]
    assert argo.requests[-1]["query"]["follow"] == "true"


def test_wrong_token_is_an_auth_error(argo, capsys, monkeypatch):
    argo.add_app(APP, application(APP, revision=SHA_NEW))
    monkeypatch.setenv("N2A_ARGOCD_TOKEN", "stolen-or-expired")
    code, _out, err = run(capsys, "status", APP)
    assert code == EXIT_AUTH == 4
    assert "rejected the token (401" in err and "argocd proj role create-token" in err


def test_missing_token_is_an_auth_error_naming_the_variable(argo, capsys, monkeypatch):
    monkeypatch.delenv("N2A_ARGOCD_TOKEN")
    code, _out, err = run(capsys, "status", APP)
    assert code == EXIT_AUTH
    assert "N2A_ARGOCD_TOKEN" in err
    assert argo.requests == []  # nothing was sent without a token


def test_missing_url_is_a_usage_error_naming_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN)
    code, _out, err = run(capsys, "logs", APP)
    assert code == EXIT_USAGE and "N2A_ARGOCD_URL" in err


def test_token_from_the_users_config_file(argo, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("N2A_ARGOCD_TOKEN")
    monkeypatch.delenv("N2A_ARGOCD_URL")
    config = tmp_path / "config" / "n2a" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({"argocd_url": argo.url, "argocd_token": TOKEN}))
    argo.add_app(APP, application(APP, revision=SHA_NEW))
    assert run(capsys, "status", APP)[0] == 0


def test_token_without_logs_policy_gets_a_clear_403(argo, capsys, monkeypatch):
    argo.add_app(APP, application(APP, revision=SHA_NEW))
    monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN_WITHOUT_LOGS)
    assert run(capsys, "status", APP)[0] == 0  # may read the app ...
    code, _out, err = run(capsys, "logs", APP)  # ... but not its logs
    assert code == EXIT_AUTH
    assert "403" in err and "logs, get" in err


def test_unknown_app_is_not_found(argo, capsys):
    code, out, err = run(capsys, "status", "nobody-here", "--json")
    assert code == EXIT_NOT_FOUND == 5
    assert "no application 'nobody-here'" in err
    assert json.loads(out.strip().splitlines()[-1])["exit_code"] == EXIT_NOT_FOUND
    assert run(capsys, "logs", "nobody-here")[0] == EXIT_NOT_FOUND


def test_unreachable_argo_cd(capsys, monkeypatch):
    with socket.socket() as s:  # a loopback port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("N2A_ARGOCD_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("N2A_ARGOCD_TOKEN", TOKEN)
    code, _out, err = run(capsys, "status", APP)
    assert code == EXIT_UNREACHABLE == 6
    assert "cannot reach Argo CD" in err and "N2A_ARGOCD_URL" in err


def test_wait_for_returns_once_the_pushed_revision_is_synced_and_healthy(argo):
    argo.add_app(
        APP,
        application(APP, revision=SHA_OLD),
        application(
            APP,
            revision=SHA_NEW,
            sync="Synced",
            health="Progressing",
            phase="Running",
            message="waiting for healthy state",
        ),
        application(APP, revision=SHA_NEW),
    )
    client = argocd.ArgoCD(argo.url, TOKEN)
    result = argocd.wait_for(APP, SHA_NEW, timeout=30, out=Output(quiet=True), client=client, interval=0.01)
    assert result["revision"] == SHA_NEW and result["health"] == "Healthy"
    assert argo.requests[0]["query"] == {"refresh": "normal"}
    assert len(argo.requests) == 3


def test_wait_for_waits_while_the_child_application_does_not_exist_yet(argo):
    argo.add_app(APP, application(APP, revision=SHA_NEW))
    real = argo.apps.pop(APP)
    client = argocd.ArgoCD(argo.url, TOKEN)
    calls = []

    class AppearsLater(argocd.ArgoCD):
        def get_app(self, name, refresh=None):
            calls.append(name)
            if len(calls) == 2:
                argo.apps[APP] = real
            return super().get_app(name, refresh)

    result = argocd.wait_for(
        APP, SHA_NEW[:7], timeout=30, out=Output(quiet=True), client=AppearsLater(client.url, TOKEN), interval=0.01
    )
    assert result["sync"] == "Synced" and len(calls) == 2
    # The first answer was a 404, so the refresh is asked for again.
    assert [r["query"] for r in argo.requests] == [{"refresh": "normal"}, {"refresh": "normal"}]


def test_wait_for_times_out_with_the_operation_message_and_the_logs_command(argo):
    argo.add_app(
        APP,
        application(
            APP,
            revision=SHA_NEW,
            health="Degraded",
            phase="Running",
            message="waiting for healthy state of apps/Deployment/sales-jane-web",
        ),
    )
    client = argocd.ArgoCD(argo.url, TOKEN)
    with pytest.raises(N2AError) as info:
        argocd.wait_for(APP, SHA_NEW, timeout=0.2, out=Output(quiet=True), client=client, interval=0.01)
    assert "timed out" in info.value.message
    assert "waiting for healthy state of apps/Deployment/sales-jane-web" in info.value.message
    assert info.value.fix.startswith(f"see what the pods say with `n2a logs {APP}`")


def test_wait_for_stops_at_a_failed_sync_of_the_revision(argo):
    argo.add_app(
        APP,
        application(
            APP,
            revision=SHA_NEW,
            sync="OutOfSync",
            health="Missing",
            phase="Failed",
            message="one or more objects failed to apply",
        ),
    )
    with pytest.raises(N2AError) as info:
        argocd.wait_for(
            APP, SHA_NEW, timeout=30, out=Output(quiet=True), client=argocd.ArgoCD(argo.url, TOKEN), interval=0.01
        )
    assert "sync of 222222222222 failed" in info.value.message
    assert "one or more objects failed to apply" in info.value.message


def test_insecure_mode_is_announced(argo, capsys, monkeypatch):
    monkeypatch.setenv("N2A_ARGOCD_INSECURE", "1")
    argo.add_app(APP, application(APP, revision=SHA_NEW))
    code, _out, err = run(capsys, "status", APP)
    assert code == 0 and "NOT verified" in err


# -- helpers ----------------------------------------------------------------------------------


def _merge_all_of(definitions: dict) -> dict:
    """Fold `allOf: [$ref]` (ResourceNode embeds ResourceRef) into the schema's own properties."""
    for schema in definitions.values():
        for part in schema.pop("allOf", []):
            ref = definitions[part["$ref"].rsplit("/", 1)[1]]
            schema.setdefault("properties", {}).update(ref.get("properties", {}))
    return definitions


def _closed(schema):
    """Reject fields the swagger does not describe (objects without allOf composition)."""
    if isinstance(schema, dict):
        for value in schema.values():
            _closed(value)
        if "properties" in schema and "additionalProperties" not in schema and "allOf" not in schema:
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        for value in schema:
            _closed(value)
    return schema


def _clone_with_remote(tmp_path) -> tuple[Path, str]:
    bare = tmp_path / "remote.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = tmp_path / "clone"
    repo = git.Repo.init(work, initial_branch="main")
    (work / "n2a.yaml").write_text(yaml.safe_dump({"appsDomain": "apps.example.com"}))
    repo.index.add(["n2a.yaml"])
    repo.index.commit("init")
    repo.create_remote("origin", str(bare))
    repo.git.push("-u", "origin", "main")
    return work, repo.head.commit.hexsha
