"""The small part of CEL that CRDs' ``x-kubernetes-validations`` rules mostly use, evaluated offline.

The API server checks these rules when an object is applied; a JSON schema validator ignores
them. KEDA's CRDs use a handful of shapes: ``has(self.port) != has(self.portName)``,
``has(self.a) || has(self.b)``, ``!(has(self.a) && has(self.b))`` and ``!has(self.min) ||
self.min <= (has(self.max) ? self.max : 100)``. This evaluates that grammar: ``has()``, field
paths on ``self``, integer, string and boolean literals, ``! && || == != < <= > >= ?:`` and
parentheses. A rule outside it is not guessed at: ``evaluate`` returns None (unchecked).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(?:(\d+)|'([^']*)'|\"([^\"]*)\"|(&&|\|\||==|!=|<=|>=|[<>!?:().])|([A-Za-z_][A-Za-z_0-9]*))")
_MISSING = object()
_ERROR = object()  # CEL's error value: `true || error` is true, `false && error` is false


def _or(a, b):
    if a is True or b is True:
        return True
    return _ERROR if _ERROR in (a, b) else bool(a) or bool(b)


def _and(a, b):
    if a is False or b is False:
        return False
    return _ERROR if _ERROR in (a, b) else bool(a) and bool(b)


class Unsupported(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, object]]:
    # (kind, value): ("lit", int | str | bool), ("op", str) or ("name", str)
    out: list[tuple[str, object]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise Unsupported(text[pos:])
        num, s1, s2, op, name = m.groups()
        if num is not None:
            out.append(("lit", int(num)))
        elif s1 is not None or s2 is not None:
            out.append(("lit", s1 if s1 is not None else s2))
        elif op is not None:
            out.append(("op", op))
        elif name in ("true", "false"):
            out.append(("lit", name == "true"))
        else:
            out.append(("name", name))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent, CEL's precedence: ?: below ||, below &&, below comparisons, below !."""

    def __init__(self, tokens, obj):
        self.t, self.i, self.obj = tokens, 0, obj

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self, op=None):
        tok = self.peek()
        if op is not None and tok != ("op", op):
            raise Unsupported(f"expected {op}")
        self.i += 1
        return tok

    def expr(self):
        cond = self.disjunction()
        if self.peek() == ("op", "?"):
            self.take("?")
            yes = self.expr()
            self.take(":")
            no = self.expr()
            return _ERROR if cond is _ERROR else (yes if cond else no)
        return cond

    def disjunction(self):
        value = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            value = _or(value, self.conjunction())
        return value

    def conjunction(self):
        value = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            value = _and(value, self.comparison())
        return value

    def comparison(self):
        left = self.unary()
        kind, op = self.peek()
        if kind == "op" and op in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.unary()
            if left in (_MISSING, _ERROR) or right in (_MISSING, _ERROR) or type(left) is not type(right):
                return _ERROR  # no such field, or mixed types: CEL's error, absorbed by || and &&
            return {
                "==": left == right,
                "!=": left != right,
                "<": left < right,
                "<=": left <= right,
                ">": left > right,
                ">=": left >= right,
            }[op]
        return left

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            value = self.unary()
            return _ERROR if value in (_ERROR, _MISSING) else not value
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == "lit":
            return value
        if (kind, value) == ("op", "("):
            inner = self.expr()
            self.take(")")
            return inner
        if (kind, value) == ("name", "has"):
            self.take("(")
            found = self.path(self.take())
            self.take(")")
            return found is not _MISSING
        return self.path((kind, value))

    def path(self, first):
        if first != ("name", "self"):
            raise Unsupported(str(first))
        node = self.obj
        while self.peek() == ("op", "."):
            self.take()
            kind, name = self.take()
            if kind != "name":
                raise Unsupported(str(name))
            node = node.get(name, _MISSING) if isinstance(node, dict) else _MISSING
        return node


def evaluate(rule: str, obj) -> bool | None:
    """True/False for a rule in the supported grammar, None when it is outside it."""
    try:
        parser = _Parser(_tokens(rule), obj)
        value = parser.expr()
        if parser.i != len(parser.t) or not isinstance(value, bool):
            return None
        return value
    except (Unsupported, TypeError, IndexError):
        return None


def violations(schema, obj, where: str = "") -> list[tuple[str, str]]:
    """(path, message) of every x-kubernetes-validations rule of ``schema`` that ``obj`` breaks."""
    found: list[tuple[str, str]] = []
    if not isinstance(schema, dict):
        return found
    for rule in schema.get("x-kubernetes-validations") or []:
        if isinstance(rule, dict) and evaluate(str(rule.get("rule", "")), obj) is False:
            found.append((where or "(root)", str(rule.get("message") or f"rule {rule.get('rule')} fails")))
    if isinstance(obj, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key in obj:
                found += violations(sub, obj[key], f"{where}.{key}" if where else key)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(obj):
            found += violations(schema["items"], item, f"{where}.{i}")
    return found
