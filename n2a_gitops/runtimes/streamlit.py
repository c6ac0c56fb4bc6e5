"""Streamlit: ``streamlit run app.py``; the script runs once per browser session.

The warm-up (``n2a_streamlit.py``) runs the script once in streamlit's AppTest before the
server starts: the health route says ok even when the script raises."""

from __future__ import annotations

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes.base import BaseRuntime, imports_line, launcher

WARMUP = "n2a_streamlit.py"


class Streamlit(BaseRuntime):
    name = "streamlit"
    title = "Streamlit"
    packages = ["streamlit"]
    startup_seconds = 90  # measured 1.0 s; the warm-up gives the script up to 35 s more

    def examine(self, facts):
        if facts.imported("streamlit") is None:
            return "no `import streamlit`"
        calls = facts.calls_under("streamlit")
        evidence = [imports_line(facts, "streamlit")]
        if calls:
            evidence.append(f"{len(calls)} streamlit call(s), first `{calls[0].text()}` (line {calls[0].line})")
        return self.detection(evidence, strong=bool(calls))

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:
        command = [
            "streamlit",
            "run",
            "app.py",
            "--server.address",
            "0.0.0.0",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        return self.spec(
            command,
            Probe("http", "/_stcore/health"),
            port,
            env={"STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"},
            warmup=["python", WARMUP],
            warmup_files={WARMUP: launcher(WARMUP)},
        )
