"""The kubelet's dependent environment variables, as n2a reproduces them (envvars.py).

No kubelet runs here: the expected values below are what Kubernetes' own expansion
(third_party/forked/golang/expansion, used by kubelet_pods.go) gives for these inputs, read off
its rules: a reference to a variable defined earlier in the list is replaced, `$$` is one `$`,
an unknown or later reference and an unclosed `$(` stay as written, any other `$` keeps the
byte after it (widened to a character of its own).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from n2a_gitops.pod import envvars


def expand(value: str, **defined) -> str:
    return envvars.expand(value, defined.get)


@pytest.mark.parametrize(
    "value, defined, expected",
    [
        ("$(HOME)/data", {"HOME": "/home/app"}, "/home/app/data"),
        ("cost is $(HOME) today", {}, "cost is $(HOME) today"),  # not defined: verbatim
        ("$$(HOME)", {"HOME": "/home/app"}, "$(HOME)"),  # escaped
        ("$$$(HOME)", {"HOME": "/h"}, "$/h"),
        ("a$$b", {}, "a$b"),  # `$$` is one `$` anywhere
        ("$HOME and ${HOME}", {"HOME": "/h"}, "$HOME and ${HOME}"),  # shell syntax is not the kubelet's
        ("$(A", {"A": "x"}, "$(A"),  # unclosed
        ("$(A)$(B)", {"A": "1", "B": "2"}, "12"),
        ("$()", {}, "$()"),
        ("end$", {}, "end$"),
        ("$(A)", {"A": "$(B)"}, "$(B)"),  # a value is expanded once, not again
        ("$\u00e9", {}, "$\u00c3\udca9"),  # the kubelet widens the byte after `$`: non-ASCII is mangled
    ],
)
def test_expansion_follows_the_kubelet(value, defined, expected):
    assert envvars.expand(value, defined.get) == expected


def test_only_variables_defined_earlier_in_the_list_are_expanded():
    container = {
        "env": [
            {"name": "EARLY", "value": "early"},
            {"name": "A", "value": "$(EARLY)-$(LATE)-$(SELF)-$(A)"},
            {"name": "LATE", "value": "late"},
            {"name": "SELF", "value": "x$(SELF)"},
            {"name": "EARLY", "value": "again $(EARLY)"},  # redefined: sees its own earlier value
            {"name": "EMPTY", "value": ""},
            {"name": "USES_EMPTY", "value": "[$(EMPTY)]"},
        ]
    }
    env, secret = envvars.resolve(container, lambda item: None)
    assert env == {
        "EARLY": "again early",
        "A": "early-$(LATE)-$(SELF)-$(A)",
        "LATE": "late",
        "SELF": "x$(SELF)",
        "EMPTY": "",
        "USES_EMPTY": "[]",
    }
    assert secret == set()


def test_values_from_secrets_are_marked_and_so_is_what_expands_them():
    container = {
        "env": [
            {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "URL", "value": "https://x/?key=$(KEY)"},
            {"name": "PLAIN", "value": "$$(KEY)"},
            {"name": "GONE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "WANTS_GONE", "value": "$(GONE)"},
        ]
    }
    env, secret = envvars.resolve(container, lambda item: "s3cr3t" if "secretKeyRef" in item["valueFrom"] else None)
    assert env == {"KEY": "s3cr3t", "URL": "https://x/?key=s3cr3t", "PLAIN": "$(KEY)", "WANTS_GONE": "$(GONE)"}
    assert secret == {"KEY", "URL"}
    shown = envvars.expand_args(["run", "--key=$(KEY)", "$(PLAIN)"], env, secret)
    assert shown == ["run", "--key=$(KEY)", "$(KEY)"]  # for printing: no secret value
    assert envvars.expand_args(["--key=$(KEY)"], env) == ["--key=s3cr3t"]  # what runs


@hsettings(max_examples=400, deadline=None)
@given(
    value=st.text(
        alphabet=st.sampled_from("$()ab\u00e9\u2603 ") | st.characters(blacklist_categories=("Cs",)), max_size=30
    ),
    names=st.dictionaries(st.sampled_from(["a", "b", "HOME", "", "$", "a b"]), st.text(max_size=5)),
)
def test_escaped_values_arrive_as_typed_whatever_is_defined(value, names):
    """What n2a writes for --env: the kubelet's expansion of it is exactly what was typed."""
    assert envvars.expand(envvars.escape(value), names.get) == value


def test_escape_leaves_values_without_dollar_alone():
    assert envvars.escape("cost is $(HOME) today") == "cost is $$(HOME) today"
    assert envvars.escape("plain value") == "plain value"
    assert envvars.escape("$HOME") == "$HOME"
