"""Which IPython magics n2a knows: those the stand-in runs, and those IPython's automagic runs
without a `%`.
"""

from __future__ import annotations

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
