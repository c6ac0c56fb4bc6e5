"""Property: no single-field mutation of a rendered overlay validates yet changes what the pod
may do, reach or read (issue 15). Hypothesis picks a file of the signed-in app (the one with the
sign-in proxy in its pod), a field in it, and a mutation (a new value, the field removed, or a
dangerous field added beside it); the real kustomize builds it and `validate_repo` judges it
against the CRDs in ../shared. Whenever it passes, the built manifests must equal the original
ones but for what a user may choose (env values, command, probes, resources, replicas, the
display labels and annotations).
"""

from __future__ import annotations

import copy
import json
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gate import PRIV, SIGNED, crds, three_apps  # noqa: F401  (session fixtures)

from n2a_gitops import kustomize
from n2a_gitops.config import load_settings
from n2a_gitops.validation.validate import validate_repo

pytestmark = [pytest.mark.shared("argocd", "gateway-api"), pytest.mark.slow]

FILES = [
    f"apps/{SIGNED}/patch-deployment.yaml",
    f"apps/{SIGNED}/patch-service.yaml",
    f"apps/{SIGNED}/patch-networkpolicy.yaml",
    f"apps/{SIGNED}/patch-httproute.yaml",
    f"apps/{SIGNED}/kustomization.yaml",
    f"argocd/apps/{SIGNED}.yaml",
]
VALUES = [
    True,
    0,
    80,
    "http",
    "proxy",
    "*",
    "0.0.0.0/0",
    "default",
    f"{PRIV}",
    f"{PRIV}-web",
    f"{PRIV}.apps.example.com",
    "n2a-oauth2-proxy",
    "/var/run/secrets",
    "../_base",
    {},
    [],
    {"port": 8080},
    {"matchLabels": {"app.kubernetes.io/instance": PRIV}},
]
DANGEROUS = {
    "hostNetwork": True,
    "hostPID": True,
    "serviceAccountName": "default",
    "automountServiceAccountToken": True,
    "privileged": True,
    "hostPort": 8080,
    "externalIPs": ["10.0.0.1"],
    "type": "NodePort",
    "sessionAffinity": "ClientIP",
    "podSelector": {},
    "namespaceSelector": {},
    "ipBlock": {"cidr": "0.0.0.0/0"},
    "envFrom": [{"secretRef": {"name": "n2a-oauth2-proxy"}}],
    "targetRevision": "dev",
    "filters": [{"type": "RequestHeaderModifier"}],
    "volumes": [{"name": "x", "hostPath": {"path": "/"}}],
}
CHOSEN = {"command", "resources", "startupProbe", "readinessProbe", "livenessProbe"}
DISPLAY_LABELS = {"app.kubernetes.io/name", "n2a.dev/framework"}


def paths(doc, prefix=()):
    """Every field and list entry of ``doc``, as key paths."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from paths(value, (*prefix, i))


def mutate(doc, path, kind: str, value, extra: str):
    doc = copy.deepcopy(doc)
    if not path:
        return doc
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if kind == "replace":
        parent[last] = value
    elif kind == "delete":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last][extra] = DANGEROUS[extra]
    else:
        parent[last] = {extra: DANGEROUS[extra]}
    return doc


def capabilities(manifests: list[dict]) -> str:
    """The manifests without what a user may choose freely: what is left is what the pod may do,
    reach or read."""
    out = []
    for doc in copy.deepcopy(manifests):
        for meta in _metadatas(doc):
            meta.pop("annotations", None)
            for label in DISPLAY_LABELS:
                (meta.get("labels") or {}).pop(label, None)
        if doc.get("kind") == "Deployment":
            doc["spec"].pop("replicas", None)
            for c in doc["spec"]["template"]["spec"]["containers"]:
                if c.get("name") == "app":
                    for key in CHOSEN:
                        c.pop(key, None)
                    c["env"] = [e for e in c.get("env") or [] if "value" not in e]
        out.append(doc)
    return json.dumps(sorted(out, key=lambda d: (d.get("kind"), d["metadata"].get("name"))), sort_keys=True)


def _metadatas(doc):
    if isinstance(doc, dict):
        if isinstance(doc.get("metadata"), dict):
            yield doc["metadata"]
        for value in doc.values():
            yield from _metadatas(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from _metadatas(value)


@pytest.fixture(scope="module")
def world(three_apps, crds, tmp_path_factory):
    root = tmp_path_factory.mktemp("property") / "repo"
    shutil.copytree(three_apps[0], root, symlinks=True)
    originals = {f: (root / f).read_text() for f in FILES}
    docs = {f: yaml.safe_load(t) for f, t in originals.items()}
    baseline = capabilities(kustomize.build(root / "apps" / SIGNED))
    assert validate_repo(root, load_settings(root), apps=[SIGNED], crds_dir=crds) == []
    return root, originals, docs, baseline


@st.composite
def mutations(draw, docs):
    file = draw(st.sampled_from(FILES))
    path = draw(st.sampled_from(list(paths(docs[file]))[1:]))
    kind = draw(st.sampled_from(["replace", "delete", "add"]))
    return file, path, kind, draw(st.sampled_from(VALUES)), draw(st.sampled_from(sorted(DANGEROUS)))


def test_no_mutation_of_a_rendered_overlay_validates_and_changes_what_the_pod_may_do(world, crds):
    root, originals, docs, baseline = world

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    @given(mutations(docs))
    def check(case):
        file, path, kind, value, extra = case
        mutated = mutate(docs[file], path, kind, value, extra)
        try:
            (root / file).write_text(yaml.safe_dump(mutated, sort_keys=False))
            problems = validate_repo(root, load_settings(root), apps=[SIGNED], crds_dir=crds)
            if not problems:
                assert capabilities(kustomize.build(root / "apps" / SIGNED)) == baseline, case
        finally:
            (root / file).write_text(originals[file])

    check()


def test_the_property_can_fail_both_ways(world, crds):
    """A chosen field (an env value) passes with the same capabilities; a dangerous one
    (hostNetwork beside it) is refused: the check above is neither vacuous nor blind."""
    root, originals, docs, baseline = world
    file = FILES[0]
    env_path = ("spec", "template", "spec", "containers", 0, "env", 0, "value")
    for path, kind, expect_ok in ((env_path, "replace", True), (("spec", "template", "spec"), "add", False)):
        mutated = mutate(docs[file], path, kind, "0.0.0.0/0", "hostNetwork")
        try:
            (root / file).write_text(yaml.safe_dump(mutated, sort_keys=False))
            problems = validate_repo(root, load_settings(root), apps=[SIGNED], crds_dir=crds)
            assert (problems == []) is expect_ok, problems
            if expect_ok:
                assert capabilities(kustomize.build(root / "apps" / SIGNED)) == baseline
        finally:
            (root / file).write_text(originals[file])
