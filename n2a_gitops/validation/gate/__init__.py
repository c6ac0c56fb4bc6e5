"""The gate: an app's folder and build hold only what n2a renders for it (docs/gate.md).

``sources``: what a kustomization may name, before anything is built; ``recover``: the app's
inputs read back from its files; ``compare``: the app rendered again and compared; ``admin``: the
admin paths and the rules a change is judged by.
"""

# The allowlist's generic rules: left out where a specific rule already refuses the same app.
GATE_RULES = frozenset(
    {
        "not-rendered",
        "application-rendered",
        "folder-allowlist",
        "kustomize-source",
        "code-files",
        "configmap-not-rendered",
        "overlay-shape",
        "env-shape",
        "probe-shape",
        "resources-not-rendered",
        "base-modified",
        "bootstrap-modified",
        "app-id-owner",
        "framework-not-allowed",
        "access-not-rendered",
        "private-owner",
        "extra-configmap",
        "proxy-config",
    }
)
