"""Streamlit: ``streamlit run app.py``; the script runs once per browser session."""

from __future__ import annotations

from ..model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from .base import BaseRuntime, imports_line


class Streamlit(BaseRuntime):
    name = "streamlit"
    title = "Streamlit"
    packages = ["streamlit"]
    startup_seconds = 45  # measured 1.0 s

    def examine(self, facts):
        if facts.imported("streamlit") is None:
            return "no `import streamlit`"
        calls = facts.calls_under("streamlit")
        evidence = [imports_line(facts, "streamlit")]
        if calls:
            evidence.append(f"{len(calls)} streamlit call(s), first `{calls[0].text()}` (line {calls[0].line})")
        return self.detection(evidence, strong=bool(calls))

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        command = ["streamlit", "run", "app.py", "--server.address", "0.0.0.0",
                   "--server.port", str(port), "--server.headless", "true",
                   "--browser.gatherUsageStats", "false"]
        return self.spec(command, Probe("http", "/_stcore/health"), port,
                         env={"STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"})
