"""What GET /n2a/repo tells the plan dialog (in process, on a repo made by `n2a init`): the
request keys the server accepts, who may open an app, the resources' maxima and defaults, and the
form a secret reference takes. The front end sends no key the server does not accept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import GRADIO_CELLS, write_notebook

from n2a_gitops.config import load_settings
from n2a_gitops.errors import UsageError
from n2a_gitops.jupyter.options import FLAGS, KEYS, accepted, dialog_settings, publish_kwargs

LABEXT = Path(__file__).resolve().parents[1] / "labextension" / "src"


def edit_settings(repo: Path, **changes) -> None:
    path = repo / "n2a.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))


def test_a_new_repo_offers_its_access_default_choices_and_maxima(gitops):
    offered = dialog_settings(load_settings(gitops))
    assert offered["accessDefault"] == "authenticated"
    assert offered["accessAllowed"] == ["public", "authenticated", "private", "users", "groups"]
    assert offered["accessIdentity"] == "email"
    assert offered["maxResources"] == {"cpu": "4", "memory": "16Gi", "gpu": 0, "replicas": 3}
    assert offered["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert offered["secretStore"] == "" and offered["secretsAllowed"] == ["{app}-*"]


def test_the_admins_choices_reach_the_dialog(gitops):
    edit_settings(
        gitops,
        accessDefault="private",
        accessAllowed=["private", "users"],
        accessEmailDomain="example.com",
        maxResources={"memory": "8Gi", "gpu": 2},
        secretStore="vault",
        secretStoreKeys=["{app}/*", "shared/llm-*"],
    )
    offered = dialog_settings(load_settings(gitops))
    assert offered["accessDefault"] == "private" and offered["accessAllowed"] == ["private", "users"]
    assert offered["accessEmailDomain"] == "example.com"
    # Keys left out keep their defaults, as publish applies them.
    assert offered["maxResources"] == {"cpu": "4", "memory": "8Gi", "gpu": 2, "replicas": 3}
    # With a store, the references are store keys, and the rule is the store's.
    assert offered["secretStore"] == "vault" and offered["secretsAllowed"] == ["{app}/*", "shared/llm-*"]


def test_every_key_offered_is_accepted_and_nothing_else(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", GRADIO_CELLS)
    assert accepted() == sorted(KEYS)
    # The hub's service takes no files or clone, and keeps its own push budget (hub_service.py).
    assert set(accepted(service=True)) == KEYS - {"include", "repo", "push_timeout"}
    body = {key: False if key in FLAGS else None for key in accepted()} | {"notebook": "nb.ipynb"}
    publish_kwargs(body, tmp_path)  # no "unknown option"
    with pytest.raises(UsageError, match="unknown option"):
        publish_kwargs({"notebook": "nb.ipynb", "not_an_option": True}, tmp_path)
    assert notebook.is_file()


def _interface_keys(source: str, name: str) -> set[str]:
    body = re.search(r"export interface " + name + r" \{(.*?)\n\}", source, re.S).group(1)
    return set(re.findall(r"^\s+(\w+)\??:", body, re.M))


def test_the_front_end_sends_only_keys_the_server_accepts_or_asks_first():
    """IPublishOptions is the body of /n2a/plan and /n2a/publish. A key the server may not know
    yet (check) is sent only when GET /n2a/repo lists it among the options."""
    api = (LABEXT / "api.ts").read_text()
    sent = _interface_keys(api, "IPublishOptions")
    assert {"notebook", "name", "framework", "access", "secret_env", "cpu", "memory", "gpu", "replicas"} <= sent
    gated = sent - KEYS
    assert gated <= {"check"}, f"the front end would send keys the server rejects: {sorted(gated)}"
    index = (LABEXT / "index.ts").read_text()
    for key in sent - {"notebook", "repo", "name", "framework"}:
        assert f"accepts('{key}')" in index, f"{key} is sent without asking whether the server accepts it"
