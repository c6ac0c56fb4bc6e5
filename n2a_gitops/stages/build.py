"""The build-and-check stage: `kustomize build` in a scratch copy (the repo is not touched), then
the validation CI runs on the GitOps repo, applied to this one app before anything is committed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from n2a_gitops.errors import PolicyError
from n2a_gitops.layout import BASE_DIR
from n2a_gitops.stages import Draft


def build_and_check(d: Draft) -> None:
    d.out.step("building the overlay with kustomize")
    d.manifests = build(d.files, d.folder, d.root, d.settings)
    application = d.files.get(d.application_path) if d.application_path else None
    problems = check(d.settings, d.app, d.manifests, application, d.root)
    if problems:
        raise PolicyError(
            "the rendered app breaks the platform's rules:\n  " + "\n  ".join(problems),
            "adjust n2a.yaml or the shared base (apps/_base), or report it",
        )


def build(files: dict[str, bytes], folder: str, root: Path | None, settings) -> list[dict]:
    """Build the overlay in a scratch copy (the repo's base, or n2a's own without a repo, plus
    the new files)."""
    from n2a_gitops import kustomize, render

    with tempfile.TemporaryDirectory(prefix="n2a-build-") as tmp:
        scratch = Path(tmp)
        if root and (root / BASE_DIR).is_dir():
            shutil.copytree(root / BASE_DIR, scratch / BASE_DIR)
        else:
            files = {**{f"{BASE_DIR}/{rel}": c for rel, c in render.render_base(settings).items()}, **files}
        for rel, content in files.items():
            if rel.startswith((folder + "/", BASE_DIR + "/")):
                (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
                (scratch / rel).write_bytes(content)
        return kustomize.build(scratch / folder)


def check(settings, app, manifests, application_yaml, root) -> list[str]:
    from n2a_gitops import yamlio
    from n2a_gitops.validation import validate

    application = yamlio.load(application_yaml) if application_yaml else None
    crds = validate.crds_folder(root, settings, None) if root else None
    # The repo's own AppProject, as CI will use it (e.g. it may predate a secret store in n2a.yaml).
    project = validate.repo_project(root, settings) if root else None
    return [str(p) for p in validate.check_app(settings, app, manifests, application, crds, project=project)]
