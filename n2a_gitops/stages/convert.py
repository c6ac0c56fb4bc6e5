"""The convert stage: nbconvert, the framework and how it is served, the files the app brings
(--include, %run), its secrets by reference, and the scan that keeps secrets out of git."""

from __future__ import annotations

from pathlib import Path

from n2a_gitops.errors import PolicyError, UsageError
from n2a_gitops.model import CONTAINER_PORT
from n2a_gitops.request import RESERVED_ENV
from n2a_gitops.stages import Draft


def convert(d: Draft) -> None:
    from n2a_gitops import runtimes
    from n2a_gitops.blobs import store as blob_store
    from n2a_gitops.kernel import notebook_env
    from n2a_gitops.lifecycle import app_names
    from n2a_gitops.notebook import convert as nbconv
    from n2a_gitops.notebook import includes, reads
    from n2a_gitops.pod import secretrefs

    nb_path, settings = d.request.notebook, d.settings
    # The kernel's environment is asked in the background (a subprocess, cached) while nbconvert works.
    d.kernel_env_job = notebook_env.start(nb_path, d.kernel)
    d.included = includes.collect(d.request.include, nb_path, d.limits)
    d.out.step(f"converting {nb_path.name} with nbconvert")
    d.converted = converted = nbconv.convert(nb_path, d.included, d.limits)
    # Files the code reads beside it; one above maxFileSize is refused (exit 3) before any work.
    d.read = reads.find(converted, nb_path, d.included, d.limits, blob_store.max_file_size(settings))
    blob_store.refuse_too_large(d.read.entries, settings)
    d.included = {**d.read.ship, **d.included}
    d.warnings += converted.warnings + d.read.warnings
    d.notes += d.read.notes
    if converted.shell_escapes and not settings.allowShellEscapes:
        raise PolicyError(
            f"the notebook runs shell commands, which n2a.yaml forbids: {', '.join(converted.shell_escapes[:3])}",
            "move them out of the notebook or tag their cells n2a-skip",
        )
    d.runtime, d.detection = runtimes.choose(
        converted.source, d.request.framework, settings.frameworks, converted.cellmap
    )
    d.warm, d.why_warm = warmup_wanted(d.request.warmup, nb_path, d.limits)
    d.declared = d.runtime.launch(d.detection, CONTAINER_PORT)
    d.launch = d.declared.served(d.warm)
    d.secret_refs = secretrefs.parse(
        d.secret_env,
        settings,
        d.app,
        d.ident.owner,
        taken=set(d.env) | set(d.launch.env) | RESERVED_ENV,
        apps=app_names(d.root) if d.root else (),
    )
    d.extra = {rel: f.read_bytes() for rel, f in d.included.items()}
    d.served = d.launch.entry.endswith(".ipynb")  # voila: the notebook itself, and the notebooks %run brings in
    d.brought = {p: c.encode() for p, c in (converted.served_files if d.served else converted.files).items()}
    d.source_notebook = source_notebook(nb_path, d.limits)
    refuse_secrets(
        {"the notebook": d.source_notebook, "the converted code": converted.source.encode(), **d.extra, **d.brought},
        settings,
        d.app,
        d.ident.owner,
    )


def warmup_wanted(warmup: bool | None, path: Path, limits=None) -> tuple[bool, str]:
    """(run the warm-up?, why): --no-warmup, else the notebook's `metadata.n2a.warmup`, else on."""
    from n2a_gitops.notebook.convert import read_notebook

    if warmup is not None:
        return warmup, "--no-warmup" if not warmup else "asked for"
    value = (read_notebook(path, limits).metadata.get("n2a") or {}).get("warmup", True)
    if not isinstance(value, bool):
        raise UsageError(
            f"the notebook's metadata n2a.warmup is {value!r}, not true or false",
            'set "n2a": {"warmup": false} in the notebook\'s metadata, or remove it',
        )
    return value, "metadata n2a.warmup: false" if not value else "default"


def source_notebook(path: Path, limits=None) -> bytes:
    """The notebook as committed beside the app: outputs cleared (they can be large or sensitive)."""
    import nbformat

    from n2a_gitops.notebook.convert import read_notebook

    nb = read_notebook(path, limits)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(nb).encode()


def refuse_secrets(texts: dict[str, bytes], settings, app: str, owner: str) -> None:
    """Everything publish commits is scanned: a secret in git is a secret leaked. When the secret
    is assigned to a variable, the message names the --secret-env option that replaces it."""
    from n2a_gitops.notebook import secrets_scan
    from n2a_gitops.pod import secretrefs

    for where, content in texts.items():
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary data files
        findings = secrets_scan.scan(text)
        if findings:
            lines = "; ".join(
                f"line {f.line}: {f.kind}" + (f" in {f.variable}" if f.variable else "") for f in findings[:5]
            )
            variables = list(dict.fromkeys(f.variable for f in findings if f.variable))
            if variables:
                names = [secretrefs.env_name(v) for v in variables]
                options = " ".join(f"--secret-env {n}=" for n in names)
                reads = ", ".join(f"os.environ[{n!r}]" for n in names)
                raise PolicyError(
                    f"{where} seems to contain secrets ({lines}); publishing would commit them to git. "
                    f"Use {options} instead",
                    f"remove the value and read it with {reads}; publish with "
                    + "; ".join(secretrefs.suggestion(settings, app, owner, v) for v in variables)
                    + ". `n2a preview` takes the value from your own environment (export it there)",
                )
            raise PolicyError(
                f"{where} seems to contain secrets ({lines}); publishing would commit them to git",
                "read them from the environment (os.environ[...]) and publish with --secret-env NAME=... "
                "(see `n2a publish --help`); then remove them from the notebook",
            )
