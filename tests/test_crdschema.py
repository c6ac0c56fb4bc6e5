"""Strict validation of Argo CD resources against the real Argo CD v3.5 CRDs (../shared/argocd)."""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import ARGOCD_CRDS

from n2a_gitops.validation.crdschema import crd_kinds, validate_against_crds

CRDS = ARGOCD_CRDS


def application() -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": "demo-jane",
            "namespace": "argocd",
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            "labels": {"n2a.dev/owner": "jane"},
            "annotations": {"argocd.argoproj.io/manifest-generate-paths": ".;../_base"},
        },
        "spec": {
            "project": "notebook-apps",
            "source": {
                "repoURL": "https://git.example.com/gitops.git",
                "path": "apps/demo-jane",
                "targetRevision": "main",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "notebook-apps"},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["ServerSideApply=true", "PruneLast=true"],
                "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
            },
            "info": [{"name": "owner", "value": "jane"}],
        },
    }


@pytest.mark.shared("argocd")
def test_a_well_formed_application_passes():
    assert validate_against_crds(application(), CRDS) == []


@pytest.mark.parametrize(
    "mutate, where, field",
    [
        (lambda a: a["spec"].__setitem__("syncPolicyy", {}), "spec", "syncPolicyy"),
        (lambda a: a["spec"]["source"].__setitem__("pathh", "x"), "spec.source", "pathh"),
        (lambda a: a["spec"]["syncPolicy"]["automated"].__setitem__("prun", True), "spec.syncPolicy.automated", "prun"),
        (lambda a: a["metadata"].__setitem__("labelz", {}), "metadata", "labelz"),
    ],
)
@pytest.mark.shared("argocd")
def test_unknown_fields_are_rejected_where_the_api_server_would_prune_them(mutate, where, field):
    doc = application()
    mutate(doc)
    problems = validate_against_crds(doc, CRDS)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"Application/demo-jane: {where}: unknown field(s) {field}")


@pytest.mark.shared("argocd")
def test_wrong_types_and_missing_required_fields_are_reported():
    doc = application()
    doc["spec"]["project"] = 7
    del doc["spec"]["destination"]
    problems = validate_against_crds(doc, CRDS)
    assert any("spec.project" in p and "not of type 'string'" in p for p in problems), problems
    assert any("'destination' is a required property" in p for p in problems), problems


@pytest.mark.shared("argocd")
def test_metadata_name_must_be_a_dns_subdomain():
    doc = application()
    doc["metadata"]["name"] = "Demo_Jane"
    problems = validate_against_crds(doc, CRDS)
    assert len(problems) == 1 and "metadata.name" in problems[0]


@pytest.mark.shared("argocd")
def test_fields_the_crd_leaves_open_stay_open():
    # helm valuesObject carries x-kubernetes-preserve-unknown-fields: anything goes there.
    doc = application()
    doc["spec"]["source"]["helm"] = {"valuesObject": {"anything": {"nested": [1, 2]}}}
    assert validate_against_crds(doc, CRDS) == []


@pytest.mark.shared("argocd")
def test_application_set_and_app_project_are_checked_against_their_own_crds():
    appset = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "notebook-apps", "namespace": "argocd"},
        "spec": {
            "goTemplate": True,
            "generators": [
                {
                    "git": {
                        "repoURL": "https://git.example.com/gitops.git",
                        "revision": "main",
                        "directories": [{"path": "apps/*"}, {"path": "apps/_base", "exclude": True}],
                    }
                }
            ],
            "template": {
                "metadata": {"name": "{{.path.basename}}"},
                "spec": {
                    "project": "notebook-apps",
                    "source": {
                        "repoURL": "https://git.example.com/gitops.git",
                        "path": "{{.path.path}}",
                        "targetRevision": "main",
                    },
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "notebook-apps"},
                },
            },
        },
    }
    assert validate_against_crds(appset, CRDS) == []
    broken = copy.deepcopy(appset)
    broken["spec"]["generators"][0]["git"]["directory"] = []
    assert any("unknown field(s) directory" in p for p in validate_against_crds(broken, CRDS))

    project = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "notebook-apps", "namespace": "argocd"},
        "spec": {
            "sourceRepos": ["https://git.example.com/gitops.git"],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "notebook-apps"}],
            "clusterResourceWhitelist": [],
            "namespaceResourceWhitelist": [{"group": "apps", "kind": "Deployment"}],
        },
    }
    assert validate_against_crds(project, CRDS) == []
    project["spec"]["clusterResourceWhitelist"] = [{"group": "", "knd": "Namespace"}]
    assert any("clusterResourceWhitelist.0" in p for p in validate_against_crds(project, CRDS))


@pytest.mark.shared("argocd")
def test_unknown_kind_or_version_is_a_problem_not_a_pass():
    doc = application()
    doc["kind"] = "Applicaton"
    assert "no CRD for Applicaton" in validate_against_crds(doc, CRDS)[0]
    doc = application()
    doc["apiVersion"] = "argoproj.io/v1beta9"
    assert "no CRD" in validate_against_crds(doc, CRDS)[0]


def test_reads_a_kubectl_exported_list_of_crds(tmp_path):
    # `kubectl get crd ... -o yaml` writes one List; a small CRD of our own stands in for it.
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                            },
                        }
                    },
                }
            ],
        },
    }
    (tmp_path / "exported.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [crd]}))
    assert ("example.com", "Widget") in crd_kinds(tmp_path)
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}}
    assert validate_against_crds(widget, tmp_path) == []
    widget["spec"]["colour"] = "red"
    assert "unknown field(s) colour" in validate_against_crds(widget, tmp_path)[0]
