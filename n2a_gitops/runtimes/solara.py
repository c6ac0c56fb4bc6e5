"""Solara: ``solara run app.py`` renders the ``Page`` component (or ``page`` element)."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import BaseRuntime, imports_line


class Solara(BaseRuntime):
    name = "solara"
    title = "Solara"
    # [assets] bundles the front-end: with no egress, the default CDN proxy 404s every asset.
    packages = ["solara[assets]"]
    startup_seconds = 90  # measured 4.1 s

    def examine(self, facts):
        if facts.imported("solara") is None:
            return "no `import solara`"
        evidence = [imports_line(facts, "solara")]
        components = [(f, line) for f, dec, line in facts.decorated if dec in ("solara.component", "reacton.component")]
        evidence += [f"component `{f}` (line {line})" for f, line in components]
        page = "Page" if "Page" in facts.functions else ("page" if facts.assigned("page") else None)
        if page:
            evidence.append(f"defines `{page}`, which `solara run` serves")
        elif components:
            evidence.append("no `Page` component: solara run shows the last component it finds")
        return self.detection(evidence, app_object=page, strong=bool(page or components))

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        # --no-check-version: otherwise every start asks pypi.org for the latest solara.
        command = [
            "solara",
            "run",
            "app.py",
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
            "--production",
            "--no-open",
            "--no-check-version",
        ]
        env = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}  # no usage reports from the cluster
        return self.spec(command, Probe("http", "/readyz"), port, env=env)
