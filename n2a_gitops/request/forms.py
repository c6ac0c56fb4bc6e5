"""The forms an option's value may arrive in (a CLI string, a JSON number, a mapping or a list),
turned into the one form a PublishRequest holds; UsageError with the CLI's message otherwise."""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.errors import UsageError


def text(key: str, value) -> str:
    if isinstance(value, Path):
        return str(value)
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a string, not {type(value).__name__}", f"pass {key} as text")
    return value


def amount(key: str, value) -> str:
    """cpu, memory (a quantity), gpu, replicas (whole numbers): kept as text, the CLI's form; the
    resources stage checks the amount against n2a.yaml with the CLI's own messages."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageError(
            f"{key} must be a number or a quantity such as 500m or 4Gi, not {type(value).__name__}",
            f"pass {key} as text, e.g. {'4Gi' if key == 'memory' else '1'}",
        )
    return str(value)


def pairs(value, flag: str, check_name: bool = True) -> tuple[str, ...]:
    """A mapping or a list of "KEY=VALUE" strings (the CLI's repeated --env) -> the strings."""
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise UsageError(f"--{flag} must map names to string values", f'e.g. {{"KEY": "value"}} for --{flag}')
            items.append(f"{k}={v}")
        return tuple(items)
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(i, str) for i in value):
        return tuple(value)
    raise UsageError(f"--{flag} must be KEY=VALUE strings or a mapping", f"e.g. --{flag} KEY=value")


def paths(value) -> tuple[str, ...]:
    if isinstance(value, (str, Path)):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(p, (str, Path)) for p in value):
        return tuple(str(p) for p in value)
    raise UsageError("include must be a list of paths", 'e.g. include=["data/x.csv"]')


def seconds(value) -> float:
    """--push-timeout as a number, with config.push_timeout's message (it also checks the range
    when the push starts, as it does for N2A_PUSH_TIMEOUT and n2a.yaml)."""
    from n2a_gitops.config import push_timeout

    if isinstance(value, bool):
        value = "true"
    return push_timeout(None, value)
