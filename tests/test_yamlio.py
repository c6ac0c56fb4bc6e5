"""yamlio reads with libyaml but answers exactly what yaml.safe_load answers: data and errors."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO_ROOT

from n2a_gitops import yamlio

TEXTS = [
    "a: 1\nb: [x, 'y', \"z\"]\nc: {d: null, e: 2024-01-02, f: 0o17, g: yes, h: ~}\n",
    "- &anchor {k: v}\n- *anchor\n- !!str 12\n- 1.5e3\n- .inf\n",
    "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
    "---\nfirst: 1\n---\nsecond: 2\n...\n",
    "",
    "key: 'unterminated\n",  # broken: the message must be PyYAML's own
    "a: b: c\n",
    "- [1, 2\n",
    "\tkey: tab\n",
]


def answer(fn, text):
    try:
        return "ok", fn(text)
    except yaml.YAMLError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("text", TEXTS + [p.read_text() for p in sorted((REPO_ROOT / "apps").rglob("*.yaml"))][:20])
def test_same_data_and_errors_as_safe_load(text):
    assert answer(yamlio.load_all, text) == answer(lambda t: list(yaml.safe_load_all(t)), text)
    assert answer(yamlio.load, text) == answer(yaml.safe_load, text)
