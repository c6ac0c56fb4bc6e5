"""n2a's stand-in for IPython, shipped beside app.py when the converted notebook uses magics.

nbconvert turns ``%pip install x``, ``files = !ls``, ``%%writefile f`` and ``%run helpers.ipynb``
into ``get_ipython()`` calls, and notebooks call ``display()``; both are undefined in plain Python.
app.py imports them from here (``from n2a_ipython import get_ipython``). Outside a kernel,
``get_ipython()`` returns a small shell that handles the magics a published app meets and
``display()`` prints reprs; inside a real IPython shell both are IPython's own, decided at each
call (solara's server installs a shell without magics, so that one counts as none).

This file runs in the app's environment, whatever it holds: standard library only.
"""

import contextlib
import getopt
import io
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import types

__all__ = ["display", "get_ipython"]

# Package installs are no-ops: n2a turned them into requirements, installed before the app starts.
INSTALL = re.compile(r"^\s*(?:\S*python[\d.]*\s+-m\s+)?(?:pip[\d.]*|conda|mamba|micromamba|uv\s+pip)\s+install\b")
# Magics that only matter in an interactive session (plots inline, help, reloading).
QUIET = {
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
# IPython's %run options, as its getopt spec (n2a_gitops/notebook/runs.py reads them the same way).
RUN_OPTIONS = "nidtN:b:pD:l:rs:T:em:G"
# n2a converts a notebook that %run brings in to this file beside it: helpers.ipynb -> helpers.ipynb.py
CONVERTED_SUFFIX = ".py"


class SList(list):
    """What ``files = !ls`` returns: the output lines, plus IPython's ``.s``/``.n``/``.l``."""

    s = property(lambda self: " ".join(self))
    n = property(lambda self: "\n".join(self))
    l = property(lambda self: list(self))  # noqa: E741 (IPython's name)


class Capture:
    """The value ``%%capture out`` stores: what the cell printed."""

    def __init__(self, stdout, stderr):
        self.stdout, self.stderr, self.outputs = stdout, stderr, []

    def show(self):
        sys.stdout.write(self.stdout)
        sys.stderr.write(self.stderr)

    __call__ = show


class Shell:
    """The part of IPython's shell that nbconvert's output calls, for a plain interpreter."""

    def run_line_magic(self, name, line, _stack_depth=1):
        frame = sys._getframe(_stack_depth)
        ns = (frame.f_globals, frame.f_locals)
        if name == "timeit":  # run the statement once (dropping -n/-r options): timing is for humans
            line = re.sub(r"^(\s*-[a-z]+(\s+\d+)?)*\s*", "", line)
        if name in ("time", "timeit"):
            return self._exec(line, ns)
        line = self._expand(line, ns)
        if name == "run":
            return self._run(line, frame.f_globals)
        if name in ("env", "set_env"):
            return self._env(line)
        if name == "cd":
            os.chdir(os.path.expanduser(line.strip().strip("'\"") or "~"))
        elif name == "pwd":
            return os.getcwd()
        elif name in ("system", "sx"):
            return self._getoutput(line)
        elif name not in QUIET:
            self._ignored("%" + name)
        return None

    def run_cell_magic(self, name, line, cell):
        frame = sys._getframe(1)
        ns = (frame.f_globals, frame.f_locals)
        line = self._expand(line, ns)
        if name in ("writefile", "file"):
            args = shlex.split(line)
            append = "-a" in args or "--append" in args
            path = [a for a in args if a not in ("-a", "--append")][-1]
            with open(os.path.expanduser(path), "a" if append else "w", encoding="utf-8") as f:
                f.write(cell)
        elif name == "capture":
            names = [a for a in line.split() if not a.startswith("-")]
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                self._exec(cell, ns)
            if names:
                ns[1][names[0]] = Capture(out.getvalue(), err.getvalue())
        elif name in ("time", "timeit", "prun"):
            self._exec(cell, ns)
        elif name in ("bash", "sh", "script"):
            shell = line.split()[0] if name == "script" and line.split() else name
            self._flush()
            subprocess.run([shutil.which(shell) or "sh"], input=cell, text=True)
        elif name not in QUIET:
            self._ignored("%%" + name)

    def system(self, cmd):
        """``!cmd``: run it in a shell, like IPython (output goes straight to the terminal)."""
        frame = sys._getframe(1)
        cmd = self._expand(cmd, (frame.f_globals, frame.f_locals))
        if not INSTALL.match(cmd):
            self._flush()
            frame.f_globals["_exit_code"] = subprocess.run(cmd, shell=True).returncode

    def getoutput(self, cmd, split=True, depth=0):
        """``x = !cmd``: the command's output (stdout and stderr), as a list of lines."""
        frame = sys._getframe(1)
        return self._getoutput(self._expand(cmd, (frame.f_globals, frame.f_locals)), split)

    def _getoutput(self, cmd, split=True):
        if INSTALL.match(cmd):
            return SList() if split else ""
        done = subprocess.run(cmd, shell=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return SList(done.stdout.splitlines()) if split else done.stdout

    # -- %run ------------------------------------------------------------------------------

    def _run(self, line, user_ns):
        """``%run FILE [args]`` as IPython runs it: a notebook's cells in the caller's namespace;
        a script in a fresh ``__main__`` namespace copied into the caller's afterwards (``-i``: in
        the caller's own). Unlike IPython, an error in a script is not just printed: the app
        stops, so a broken helper cannot leave a half-defined app running."""
        try:
            args = shlex.split(line)
            for i, arg in enumerate(args):  # as IPython: what follows `-m MODULE` is the module's
                if arg == "-m" and "--" not in args and i + 1 < len(args):
                    args.insert(i + 2, "--")
                if arg == "-m" or not arg.startswith("-") or arg == "-":
                    break
            opts, args = getopt.getopt(args, RUN_OPTIONS)
        except (getopt.GetoptError, ValueError) as exc:
            raise RuntimeError(f"%run {line}: {exc}") from None
        opts = dict(opts)
        if "-m" in opts:
            return self._run_module(opts, args, user_ns)
        if not args:
            raise RuntimeError("%run: you must provide at least a filename")
        target = os.path.expanduser(args[0])
        if target.endswith(".ipynb"):
            return self._run_notebook(target, user_ns)
        if not os.path.isfile(target) and not target.endswith(".py") and os.path.isfile(target + ".py"):
            target += ".py"
        if not os.path.isfile(target):
            raise FileNotFoundError(f"%run {args[0]}: file {target!r} not found (ship it with the app)")
        name = os.path.splitext(os.path.basename(target))[0] if "-n" in opts else "__main__"
        with open(target, "rb") as f:
            code = compile(f.read(), os.path.abspath(target), "exec")
        with self._argv([target, *args[1:]]), self._path(target):
            if "-i" in opts:
                saved = user_ns.get("__name__")
                user_ns.update(__name__=name, __file__=target)
                try:
                    self._exit_ok(lambda: exec(code, user_ns), "-e" in opts)
                finally:
                    user_ns["__name__"] = saved
                return None
            module = types.ModuleType(name)
            # A kernel offers these to every script it runs; they go back only if it rebound them.
            given = {"__file__": target, "get_ipython": get_ipython, "display": display}
            module.__dict__.update(given)
            with self._main_module(name, module):
                self._exit_ok(lambda: exec(code, module.__dict__), "-e" in opts)
        prog_ns = {k: v for k, v in module.__dict__.items() if k != "__name__" and given.get(k, self) is not v}
        user_ns.update(prog_ns)
        return None

    def _run_notebook(self, target, user_ns):
        converted = target + CONVERTED_SUFFIX
        if not os.path.isfile(converted):
            raise FileNotFoundError(
                f"%run {target}: {converted!r} not found; publish the notebook with n2a, which "
                "converts the notebooks it runs and ships them with the app"
            )
        with open(converted, "rb") as f:
            code = compile(f.read(), os.path.abspath(converted), "exec")
        saved = user_ns.get("__file__", self)
        user_ns["__file__"] = target
        try:
            with self._path(target):
                exec(code, user_ns)
        finally:
            if saved is self:
                user_ns.pop("__file__", None)
            else:
                user_ns["__file__"] = saved

    def _run_module(self, opts, args, user_ns):
        name = opts["-m"]
        with self._argv([name, *args]):
            result = runpy.run_module(name, run_name=name if "-n" in opts else "__main__", alter_sys=True)
        for key in ("__name__", "__file__"):
            result.pop(key, None)
        user_ns.update(result)

    @staticmethod
    @contextlib.contextmanager
    def _argv(argv):
        saved = sys.argv
        sys.argv = list(argv)
        try:
            yield
        finally:
            sys.argv = saved

    @staticmethod
    @contextlib.contextmanager
    def _path(target):
        """The file's folder first on sys.path while it runs, as when Python runs a script."""
        folder = os.path.dirname(os.path.abspath(target))
        sys.path.insert(0, folder)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)

    @staticmethod
    @contextlib.contextmanager
    def _main_module(name, module):
        saved = sys.modules.get(name)
        sys.modules[name] = module
        try:
            yield
        finally:
            if saved is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = saved

    @staticmethod
    def _exit_ok(run, ignore):
        """sys.exit() in a %run script ends the script, not the app (IPython: `-e` hushes a
        non-zero status, otherwise it is reported)."""
        try:
            run()
        except SystemExit as status:
            if status.code and not ignore:
                print(f"n2a: %run script exited: SystemExit: {status.code}", file=sys.stderr)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _exec(code, ns):
        """Run CODE in the caller's namespace; an expression's value is returned, like %time."""
        try:
            compiled = compile(code, "<n2a magic>", "eval")
        except SyntaxError:
            exec(compile(code, "<n2a magic>", "exec"), *ns)
            return None
        return eval(compiled, *ns)

    @staticmethod
    def _env(line):
        """``%env`` (all), ``%env NAME`` (one), ``%env NAME=value`` / ``%env NAME value`` (set)."""
        line = line.strip()
        if not line:
            return dict(os.environ)
        name, sep, value = line.partition("=") if "=" in line else line.partition(" ")
        if not sep:
            return os.environ.get(name)
        os.environ[name.strip()] = value.strip()
        return None

    @staticmethod
    def _expand(text, ns):
        """IPython's variable expansion in commands: ``{expr}`` and ``$name``; ``$$`` is ``$``."""

        def expr(match):
            try:
                return str(eval(match.group(1), *ns))
            except Exception:  # not Python (awk's {print $1}, ${HOME}): leave it to the shell
                return match.group(0)

        def name(match):
            value = ns[1].get(match.group(1), ns[0].get(match.group(1), match))
            return match.group(0) if value is match else str(value)

        text = re.sub(r"\{([^{}]+)\}", expr, text)
        text = re.sub(r"(?<!\$)\$([A-Za-z_]\w*)", name, text)
        return text.replace("$$", "$")

    @staticmethod
    def _flush():
        sys.stdout.flush()
        sys.stderr.flush()

    @staticmethod
    def _ignored(magic):
        print(f"n2a: ignoring {magic}: it only works inside IPython", file=sys.stderr)


_STAND_IN = Shell()


def _running_shell():
    """The real IPython shell, if this code runs inside one (a kernel always imported IPython)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def get_ipython():
    shell = _running_shell()
    # No IPython, or a server's stand-in for it without magics (solara run's FakeIPython).
    return shell if shell is not None and hasattr(shell, "run_line_magic") else _STAND_IN


def display(*objs, **kwargs):
    if _running_shell() is not None:  # a kernel, or a server that renders outputs (solara)
        from IPython.display import display as shown

        return shown(*objs, **kwargs)
    for obj in objs:
        print(repr(obj))
    return None
