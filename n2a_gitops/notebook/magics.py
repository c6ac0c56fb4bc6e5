"""Which IPython magics n2a knows: those the stand-in runs, and those IPython's automagic runs
without a `%`.
"""

from __future__ import annotations

import builtins
import functools
import keyword

# Cell magics that just run their body: the body is converted too, so the stand-in can run it.
RUNNING_CELL_MAGICS = {"capture", "time", "timeit", "prun"}
SHELL_CELL_MAGICS = {"bash", "sh", "script"}
# What the stand-in handles without a word (tests check the two agree).
QUIET_MAGICS = {
    "matplotlib",
    "config",
    "load_ext",
    "reload_ext",
    "unload_ext",
    "autoreload",
    "aimport",
    "pinfo",
    "pinfo2",
    "who",
    "whos",
    "pip",
    "conda",
    "mamba",
    "micromamba",
    "uv",
    "html",
    "HTML",
    "markdown",
    "javascript",
    "js",
    "latex",
    "svg",
}
LINE_MAGICS = QUIET_MAGICS | {"time", "timeit", "env", "set_env", "cd", "pwd", "system", "sx", "run"}
CELL_MAGICS = QUIET_MAGICS | RUNNING_CELL_MAGICS | SHELL_CELL_MAGICS | {"writefile", "file"}


@functools.cache
def automagic_names() -> dict[str, str]:
    """Every line magic IPython's automagic runs without a `%`, as a kernel has them: IPython's
    own (its declared table, or its Magics classes before 9.x), its magic aliases, the shell
    aliases (`ls`, `cp` ...) and ipykernel's. Name -> "magic", or for a shell alias the command
    it runs. tests/test_automagic.py checks this against a live shell's registry."""
    from IPython.core import magics
    from IPython.core.alias import default_aliases

    table = getattr(magics, "BUILTIN_LAZY_MAGICS", None)
    if table is not None:
        names = set(table["line"])
    else:  # IPython 8: the classes carry their tables
        classes = [getattr(magics, n) for n in dir(magics)]
        names = {m for c in classes if isinstance(getattr(c, "magics", None), dict) for m in c.magics.get("line", ())}
    names |= MAGIC_ALIASES
    try:
        from ipykernel.zmqshell import KernelMagics

        names |= set(KernelMagics.magics["line"])
    except ImportError:  # no kernel package: the terminal's set
        pass
    found = dict.fromkeys(names, "magic")
    found.update({name: command for name, command in default_aliases() if name not in names})
    return found


# InteractiveShell.init_magics registers these line aliases by hand.
MAGIC_ALIASES = {"ed", "hist", "rep"}


def automagic(line: str, bound: set[str]) -> tuple[str, str] | None:
    """(name, rest) when IPython's prefilter would run LINE, a one-line cell as IPython's input
    transformers left it, as the line magic NAME (automagic: `pip install x` is `%pip install x`).
    BOUND: names the notebook's earlier cells define, which shadow a magic as they do in a kernel.
    Mirrors IPython's AssignmentChecker, AutoMagicChecker and MagicHandler."""
    from IPython.core.splitinput import LineInfo

    info = LineInfo(line)
    if info.esc or info.continue_prompt or info.ifun not in automagic_names():
        return None
    if info.the_rest[:1] in ("=", ","):  # `ls = 1`, `ls, x = 1, 2`: Python always wins
        return None
    head = info.ifun.split(".", 1)[0]
    if head in bound or head in dir(builtins) or keyword.iskeyword(head):
        return None
    name, _, rest = f"{info.ifun} {info.the_rest}".partition(" ")
    return name, rest


def automagic_call(name: str, rest: str) -> str:
    """The Python IPython runs for an automagic line. A shell alias runs its command through
    system(), as IPython's Alias does, so it is treated as the shell command it is."""
    command = automagic_names()[name]
    if command == "magic":
        return f"get_ipython().run_line_magic({name!r}, {rest!r})\n"
    if "%l" in command:
        command = command.replace("%l", rest)
    elif rest:
        command = f"{command} {rest}"
    return f"get_ipython().system({command!r})\n"


def bound_names(tree) -> set[str]:
    """Names a cell defines (assigned, imported, def, class): in a kernel they shadow a magic."""
    import ast

    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return found
