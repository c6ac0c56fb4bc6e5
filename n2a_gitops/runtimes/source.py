"""Facts about a converted notebook script, read from its syntax tree (never by running it).

Runtimes ask questions such as "which modules does it import, on which line?", "which names
hold an object built by ``gradio.Blocks``?" and "where is ``.launch()`` called, and is the
call guarded by ``if __name__ == "__main__":``?". Names are resolved through the script's own
imports, so ``import gradio as gr; gr.Blocks()`` and ``from gradio import Blocks; Blocks()``
both read as ``gradio.Blocks``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from n2a_gitops.errors import UsageError


@dataclass
class Call:
    qualname: str  # "gradio.Blocks", "demo.launch", "uvicorn.run"
    line: int
    guarded: bool  # inside `if __name__ == "__main__":`
    node: ast.Call

    @property
    def attr(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def receiver(self) -> str | None:
        return self.qualname.rsplit(".", 1)[0] if "." in self.qualname else None

    def constant_kwarg(self, name: str):
        for kw in self.node.keywords:
            if kw.arg == name and isinstance(kw.value, ast.Constant):
                return kw.value.value
        return None

    def text(self) -> str:
        """How the call reads in the source, shortened for evidence lines."""
        try:
            src = ast.unparse(self.node)
        except Exception:  # pragma: no cover - unparse handles every parsed node
            src = self.qualname + "(...)"
        return src if len(src) <= 70 else src[:67] + "..."


@dataclass
class Facts:
    imports: dict[str, int] = field(default_factory=dict)  # dotted module -> first line
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    # Every module-level `name = Ctor(...)` / `with Ctor() as name`, in order: (name, ctor, line).
    objects: list[tuple[str, str, int]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    functions: dict[str, int] = field(default_factory=dict)  # module-level def -> line
    decorated: list[tuple[str, str, int]] = field(default_factory=list)  # (func, decorator, line)

    def imported(self, top: str) -> int | None:
        """First line importing ``top`` or one of its submodules, else None."""
        lines = [line for mod, line in self.imports.items() if mod == top or mod.startswith(top + ".")]
        return min(lines) if lines else None

    def objects_of(self, ctors: set[str]) -> list[tuple[str, str, int]]:
        return [obj for obj in self.objects if obj[1] in ctors]

    def assigned(self, name: str) -> bool:
        return any(obj[0] == name for obj in self.objects)

    def calls_to(self, qualnames: set[str]) -> list[Call]:
        return [c for c in self.calls if c.qualname in qualnames]

    def method_calls(self, receivers: set[str] | None, attrs: set[str]) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.attr in attrs and c.receiver is not None and (receivers is None or c.receiver in receivers)
        ]

    def calls_under(self, top: str) -> list[Call]:
        return [c for c in self.calls if c.qualname == top or c.qualname.startswith(top + ".")]


def parse(code: str) -> ast.Module:
    """Parse the converted script; top-level ``await`` (legal in notebooks) is allowed."""
    try:
        return compile(code, "app.py", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as exc:
        raise UsageError(
            f"the notebook's code is not valid Python (line {exc.lineno}: {exc.msg})",
            "fix that cell so that it runs top to bottom in a fresh kernel, then try again",
        ) from None


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


class _Reader(ast.NodeVisitor):
    def __init__(self) -> None:
        self.facts = Facts()
        self._guarded = 0
        self._depth = 0  # function nesting: module-level objects only

    # -- names -------------------------------------------------------------------------
    def qualify(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.facts.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualify(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):  # gr.Blocks().queue() -> "gradio.Blocks().queue"
            base = self.qualify(node.func)
            return f"{base}()" if base else None
        return None

    # -- imports -----------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.facts.imports.setdefault(alias.name, node.lineno)
            if alias.asname:
                self.facts.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.facts.aliases.setdefault(top, top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        self.facts.imports.setdefault(node.module, node.lineno)
        for alias in node.names:
            if alias.name == "*":
                continue
            self.facts.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    # -- structure ---------------------------------------------------------------------
    def visit_If(self, node: ast.If) -> None:
        if _is_main_guard(node.test):
            self._guarded += 1
            for child in node.body:
                self.visit(child)
            self._guarded -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _visit_function(self, node) -> None:
        if self._depth == 0:
            self.facts.functions[node.name] = node.lineno
        for dec in node.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            qual = self.qualify(target)
            if qual:
                self.facts.decorated.append((node.name, qual, node.lineno))
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def _record_object(self, target: ast.AST, value: ast.AST, line: int) -> None:
        if self._depth or not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
            return
        ctor = self.qualify(value.func)
        if ctor:
            self.facts.objects.append((target.id, ctor, line))

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._record_object(target, node.value, node.lineno)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._record_object(node.target, node.value, node.lineno)
        self.generic_visit(node)

    def _visit_with(self, node) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._record_object(item.optional_vars, item.context_expr, node.lineno)
        self.generic_visit(node)

    visit_With = _visit_with
    visit_AsyncWith = _visit_with

    def visit_Call(self, node: ast.Call) -> None:
        qual = self.qualify(node.func)
        if qual:
            self.facts.calls.append(Call(qual, node.lineno, self._guarded > 0, node))
        self.generic_visit(node)


def read(code: str, tree: ast.Module | None = None) -> Facts:
    reader = _Reader()
    tree = tree if tree is not None else parse(code)
    # Imports first, wherever they are, so that names used above a late import still resolve.
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            reader.visit(node)
    reader.visit(tree)
    return reader.facts
