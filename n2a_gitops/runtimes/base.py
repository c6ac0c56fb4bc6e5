"""What every runtime shares: evidence sentences, launcher files, the detect() wrapper."""

from __future__ import annotations

import ast
from importlib import resources

from n2a_gitops.model import CONTAINER_PORT, Detection, LaunchSpec, Probe
from n2a_gitops.runtimes import source
from n2a_gitops.runtimes.source import Call, Facts

# Port arguments notebook authors hard-code in launch calls (they would bypass our port).
PORT_KWARGS = ("server_port", "port")


def launcher(filename: str) -> str:
    """The text of a launcher shipped in ``n2a_gitops/launchers/`` (it goes into the ConfigMap)."""
    return resources.files("n2a_gitops.launchers").joinpath(filename).read_text(encoding="utf-8")


def imports_line(facts: Facts, module: str) -> str:
    return f"imports {module} (line {facts.imported(module)})"


def object_line(name: str, ctor: str, line: int) -> str:
    return f"app object `{name}` = {ctor}(...) (line {line})"


def launch_line(call: Call, what: str = "") -> str:
    where = 'guarded by `if __name__ == "__main__"`' if call.guarded else "unguarded"
    text = f"launch call `{call.text()}` (line {call.line}, {where})"
    port = next((call.constant_kwarg(k) for k in PORT_KWARGS if call.constant_kwarg(k) is not None), None)
    if port is not None:
        text += f"; its hard-coded port {port} is replaced by the container port"
    if what:
        text += f"; {what}"
    return text


class BaseRuntime:
    """A runtime: ``examine(facts)`` returns a Detection or the reason it does not match."""

    name = ""
    title = ""
    packages: list[str] = []
    startup_seconds = 60
    # Runtimes this one is built on: when both match, this one wins (panel serves bokeh).
    subsumes: tuple[str, ...] = ()

    def examine(self, facts: Facts) -> Detection | str:  # pragma: no cover - abstract
        raise NotImplementedError

    def detect(self, code: str, tree: ast.Module | None = None) -> Detection | None:
        found = self.examine(source.read(code, tree))
        return found if isinstance(found, Detection) else None

    def launch(self, detection: Detection, port: int = CONTAINER_PORT) -> LaunchSpec:  # pragma: no cover
        raise NotImplementedError

    # helpers for subclasses
    def spec(self, command: list[str], probe: Probe, port: int, **kw) -> LaunchSpec:
        return LaunchSpec(
            framework=self.name,
            command=command,
            packages=list(self.packages),
            port=port,
            probe=probe,
            startup_seconds=self.startup_seconds,
            **kw,
        )

    def detection(self, evidence: list[str], app_object: str | None = None, strong: bool = True) -> Detection:
        return Detection(framework=self.name, evidence=evidence, app_object=app_object, strong=strong)

    def __repr__(self) -> str:
        return f"<runtime {self.name}>"


class ObjectRuntime(BaseRuntime):
    """Frameworks whose app is one object built by a known class (Gradio, Dash, Flask, ...)."""

    module = ""  # the import that must be present
    classes: set[str] = set()  # qualified constructor names of the app object
    launch_methods: set[str] = set()  # methods on the app object that start a server
    launch_functions: set[str] = set()  # module functions that start a server
    launch_note = "n2a starts the server itself"

    def examine(self, facts: Facts) -> Detection | str:
        if facts.imported(self.module) is None:
            return f"no `import {self.module}`"
        evidence = [imports_line(facts, self.module)]
        objects = facts.objects_of(self.classes)
        evidence += [object_line(*o) for o in objects]
        names = {name for name, _, _ in objects}
        launches = facts.method_calls(names, self.launch_methods) if names else []
        launches += facts.calls_to(self.launch_functions)
        # `gr.Interface(fn, ...).launch()`: an app object that never gets a name.
        chained = [
            c
            for c in facts.calls
            if c.receiver
            and c.receiver.endswith("()")
            and c.receiver[:-2] in self.classes
            and c.attr in self.launch_methods
        ]
        evidence += [launch_line(c, self.launch_note) for c in launches + chained]
        if not objects:
            if chained:
                return self.detection(evidence + ["the launched app object is found when the app starts"])
            return self.detection(evidence + [self.missing_object()], strong=False)
        # The last object built is the app in notebooks that build several (tabs, sub-apps).
        launched = [c.receiver for c in launches if c.receiver in names]
        app = launched[-1] if launched else objects[-1][0]
        return self.detection(evidence, app_object=app)

    def missing_object(self) -> str:
        classes = ", ".join(sorted(c.rsplit(".", 1)[-1] for c in self.classes))
        return f"but builds no {classes} object at module level"
