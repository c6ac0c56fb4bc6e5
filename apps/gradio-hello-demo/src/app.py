#!/usr/bin/env python
# coding: utf-8
# ---- n2a: stand-in for IPython (n2a_gitops/ipython_shim.py), used outside a kernel ----
"""n2a's stand-in for IPython, put in front of a converted notebook that uses magics.

nbconvert turns ``%pip install x``, ``files = !ls`` and ``%%writefile f`` into ``get_ipython()``
calls, and notebooks call ``display()``; both are undefined in plain Python. When no IPython shell
is running, this file defines a small ``get_ipython()`` that handles the magics a published app
meets, and a ``display()`` that prints reprs. Inside a real IPython shell it defines nothing new.

n2a pastes this file's text at the top of ``app.py``, so it uses only the standard library and
keeps its own names behind an ``_n2a`` prefix.
"""

import contextlib as _n2a_contextlib
import io as _n2a_io
import os as _n2a_os
import re as _n2a_re
import shlex as _n2a_shlex
import shutil as _n2a_shutil
import subprocess as _n2a_subprocess
import sys as _n2a_sys

# Package installs are no-ops: n2a turned them into requirements, installed before the app starts.
_N2A_INSTALL = _n2a_re.compile(
    r"^\s*(?:\S*python[\d.]*\s+-m\s+)?(?:pip[\d.]*|conda|mamba|micromamba|uv\s+pip)\s+install\b"
)
# Magics that only matter in an interactive session (plots inline, help, reloading).
_N2A_QUIET = {
    "matplotlib", "config", "load_ext", "reload_ext", "unload_ext", "autoreload", "aimport",
    "pinfo", "pinfo2", "who", "whos", "pip", "conda", "mamba", "micromamba", "uv",
    "html", "HTML", "markdown", "javascript", "js", "latex", "svg",
}


class _N2ASList(list):
    """What ``files = !ls`` returns: the output lines, plus IPython's ``.s``/``.n``/``.l``."""

    s = property(lambda self: " ".join(self))
    n = property(lambda self: "\n".join(self))
    l = property(lambda self: list(self))  # noqa: E741 (IPython's name)


class _N2ACapture:
    """The value ``%%capture out`` stores: what the cell printed."""

    def __init__(self, stdout, stderr):
        self.stdout, self.stderr, self.outputs = stdout, stderr, []

    def show(self):
        _n2a_sys.stdout.write(self.stdout)
        _n2a_sys.stderr.write(self.stderr)

    __call__ = show


class _N2AShell:
    """The part of IPython's shell that nbconvert's output calls, for a plain interpreter."""

    def run_line_magic(self, name, line, _stack_depth=1):
        frame = _n2a_sys._getframe(_stack_depth)
        ns = (frame.f_globals, frame.f_locals)
        if name == "timeit":  # run the statement once (dropping -n/-r options): timing is for humans
            line = _n2a_re.sub(r"^(\s*-[a-z]+(\s+\d+)?)*\s*", "", line)
        if name in ("time", "timeit"):
            return self._run(line, ns)
        line = self._expand(line, ns)
        if name in ("env", "set_env"):
            return self._env(line)
        if name == "cd":
            _n2a_os.chdir(_n2a_os.path.expanduser(line.strip().strip("'\"") or "~"))
        elif name == "pwd":
            return _n2a_os.getcwd()
        elif name in ("system", "sx"):
            return self._getoutput(line)
        elif name not in _N2A_QUIET:
            self._ignored("%" + name)

    def run_cell_magic(self, name, line, cell):
        frame = _n2a_sys._getframe(1)
        ns = (frame.f_globals, frame.f_locals)
        line = self._expand(line, ns)
        if name in ("writefile", "file"):
            args = _n2a_shlex.split(line)
            append = "-a" in args or "--append" in args
            path = [a for a in args if a not in ("-a", "--append")][-1]
            with open(_n2a_os.path.expanduser(path), "a" if append else "w", encoding="utf-8") as f:
                f.write(cell)
        elif name == "capture":
            names = [a for a in line.split() if not a.startswith("-")]
            out, err = _n2a_io.StringIO(), _n2a_io.StringIO()
            with _n2a_contextlib.redirect_stdout(out), _n2a_contextlib.redirect_stderr(err):
                self._run(cell, ns)
            if names:
                ns[1][names[0]] = _N2ACapture(out.getvalue(), err.getvalue())
        elif name in ("time", "timeit", "prun"):
            self._run(cell, ns)
        elif name in ("bash", "sh", "script"):
            shell = line.split()[0] if name == "script" and line.split() else name
            self._flush()
            _n2a_subprocess.run([_n2a_shutil.which(shell) or "sh"], input=cell, text=True)
        elif name not in _N2A_QUIET:
            self._ignored("%%" + name)

    def system(self, cmd):
        """``!cmd``: run it in a shell, like IPython (output goes straight to the terminal)."""
        frame = _n2a_sys._getframe(1)
        cmd = self._expand(cmd, (frame.f_globals, frame.f_locals))
        if not _N2A_INSTALL.match(cmd):
            self._flush()
            frame.f_globals["_exit_code"] = _n2a_subprocess.run(cmd, shell=True).returncode

    def getoutput(self, cmd, split=True, depth=0):
        """``x = !cmd``: the command's output (stdout and stderr), as a list of lines."""
        frame = _n2a_sys._getframe(1)
        return self._getoutput(self._expand(cmd, (frame.f_globals, frame.f_locals)), split)

    def _getoutput(self, cmd, split=True):
        if _N2A_INSTALL.match(cmd):
            return _N2ASList() if split else ""
        done = _n2a_subprocess.run(
            cmd, shell=True, text=True, stdout=_n2a_subprocess.PIPE, stderr=_n2a_subprocess.STDOUT
        )
        return _N2ASList(done.stdout.splitlines()) if split else done.stdout

    @staticmethod
    def _run(code, ns):
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
            return dict(_n2a_os.environ)
        name, sep, value = line.partition("=") if "=" in line else line.partition(" ")
        if not sep:
            return _n2a_os.environ.get(name)
        _n2a_os.environ[name.strip()] = value.strip()
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

        text = _n2a_re.sub(r"\{([^{}]+)\}", expr, text)
        text = _n2a_re.sub(r"(?<!\$)\$([A-Za-z_]\w*)", name, text)
        return text.replace("$$", "$")

    @staticmethod
    def _flush():
        _n2a_sys.stdout.flush()
        _n2a_sys.stderr.flush()

    @staticmethod
    def _ignored(magic):
        print(f"n2a: ignoring {magic}: it only works inside IPython", file=_n2a_sys.stderr)


def _n2a_running_shell():
    """The real IPython shell, if this code runs inside one (a kernel always imported IPython)."""
    ipython = _n2a_sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


_n2a_shell = _n2a_running_shell()
if _n2a_shell is None or not hasattr(_n2a_shell, "run_line_magic"):
    # No IPython, or a server's stand-in for it without magics (solara run's FakeIPython).
    _n2a_stand_in = _N2AShell()

    def get_ipython():
        return _n2a_stand_in

    if _n2a_shell is None:
        def display(*objs, **kwargs):
            for obj in objs:
                print(repr(obj))
    else:
        from IPython.display import display  # noqa: F401 (the server's own)

else:
    from IPython import get_ipython  # noqa: F401 (the real kernel's)
    from IPython.display import display  # noqa: F401
# ---- n2a: end of the stand-in; the notebook's code follows ----

# In[ ]:


get_ipython().system('pip install -q gradio')


#  Gradio hello
# Type a name, get a greeting.

# In[ ]:


import gradio as gr

def greet(name):
    return f"Hello, {name}!"


# In[ ]:


with gr.Blocks(title="Gradio Hello") as demo:
    gr.Markdown("# Hello from Gradio")
    name = gr.Textbox(label="Your name")
    greeting = gr.Textbox(label="Greeting")
    name.submit(greet, name, greeting)


# In[ ]:


if __name__ == "__main__":
    demo.launch()

