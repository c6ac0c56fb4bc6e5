"""Reading YAML fast with the data and the messages of ``yaml.safe_load``.

libyaml's parser (PyYAML's C extension) reads 15 times faster than PyYAML's own, which matters
on a repo of thousands of apps and on every publish. Where libyaml refuses a text, PyYAML's own
parser reads it again, so a broken file gets exactly the error it always got.
"""

from __future__ import annotations


def _fast():
    import yaml

    return getattr(yaml, "CSafeLoader", None)


def load(text: str):
    """``yaml.safe_load(text)``."""
    import yaml

    fast = _fast()
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def load_all(text: str) -> list:
    """``list(yaml.safe_load_all(text))``."""
    import yaml

    fast = _fast()
    if fast is not None:
        try:
            return list(yaml.load_all(text, Loader=fast))
        except yaml.YAMLError:
            pass
    return list(yaml.safe_load_all(text))
