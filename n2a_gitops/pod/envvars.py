"""The kubelet's dependent environment variables: how a container's ``env`` becomes its
environment, so that n2a writes values that arrive as typed and `n2a preview` runs with exactly
the environment the pod gets.

The kubelet (pkg/kubelet/kubelet_pods.go, third_party/forked/golang/expansion) walks ``env`` in
order. A ``value`` has every ``$(NAME)`` replaced by NAME's value *if NAME was defined earlier in
the list* (or by ``envFrom``, or is a service variable); an unknown reference stays verbatim.
``$$`` becomes ``$``. Any other ``$`` and the one byte after it are copied, that byte widened to a
character of its own: ``$é`` arrives mangled. ``command`` and ``args`` are expanded the same way
against the finished environment. The expansion works on bytes, so this module does too.
"""

from __future__ import annotations

from collections.abc import Callable, Set

_DOLLAR, _OPEN, _CLOSE = ord("$"), ord("("), ord(")")


def escape(value: str) -> str:
    """``value`` written so that the kubelet's expansion gives back exactly ``value``.

    Every ``$`` that the kubelet would read as the start of something (before ``(``, ``$`` or a
    non-ASCII character) is doubled; ``$HOME`` or a trailing ``$`` are left as they are.
    """
    out = []
    for i, ch in enumerate(value):
        out.append(ch)
        if ch == "$" and i + 1 < len(value) and (value[i + 1] in "($" or ord(value[i + 1]) > 0x7F):
            out.append("$")
    return "".join(out)


def expand(value: str, mapping: Callable[[str], str | None]) -> str:
    """The kubelet's ``expansion.Expand``: ``mapping(name)`` gives a defined variable's value or None."""
    data = value.encode("utf-8", "surrogateescape")
    buf = bytearray()
    checkpoint = cursor = 0
    while cursor < len(data):
        if data[cursor] == _DOLLAR and cursor + 1 < len(data):
            buf += data[checkpoint:cursor]
            read, is_var, advance = _read_name(data[cursor + 1 :])
            if is_var:
                name = read.decode("utf-8", "surrogateescape")
                found = mapping(name)
                buf += (found if found is not None else f"$({name})").encode("utf-8", "surrogateescape")
            else:
                buf += read
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    buf += data[checkpoint:]
    return bytes(buf).decode("utf-8", "surrogateescape")


def _read_name(rest: bytes) -> tuple[bytes, bool, int]:
    """``tryReadVariableName``: (what to write or the name, whether it is a name, bytes consumed)."""
    first = rest[0]
    if first == _DOLLAR:
        return b"$", False, 1
    if first == _OPEN:
        end = rest.find(b")", 1)
        if end != -1:
            return rest[1:end], True, end + 1
        return b"$(", False, 1
    # Go's string(input[0]) turns the byte into the rune of that number (UTF-8 encoded).
    return b"$" + chr(first).encode("utf-8"), False, 1


def resolve(container: dict, value_from: Callable[[dict], str | None]) -> tuple[dict[str, str], set[str]]:
    """The container's environment as the kubelet builds it, in order: (variables, secret-derived).

    ``value_from(item)`` answers an item with ``valueFrom`` (None: the variable is not set). A
    name in the second set holds, or was expanded from, a value that came from ``valueFrom``;
    callers must never print those values.
    """
    env: dict[str, str] = {}
    tainted: set[str] = set()
    for item in container.get("env") or ():
        name = str(item.get("name", ""))
        if item.get("value") not in (None, ""):
            used: set[str] = set()

            def lookup(ref: str, _used=used) -> str | None:
                if ref in env:
                    _used.add(ref)
                return env.get(ref)

            env[name] = expand(str(item["value"]), lookup)
            tainted.discard(name)
            if used & tainted:
                tainted.add(name)
        elif item.get("valueFrom"):
            found = value_from(item)
            if found is None:
                env.pop(name, None)
                continue
            env[name] = found
            tainted.add(name)
        else:
            env[name] = ""
            tainted.discard(name)
    return env, tainted


def expand_args(args, env: dict[str, str], hidden: Set[str] = frozenset()) -> list[str]:
    """``ExpandContainerCommandAndArgs``; names in ``hidden`` stay as ``$(NAME)`` (for display)."""
    return [expand(str(a), lambda n: None if n in hidden else env.get(n)) for a in args]
