"""The gate: an app's folder and build hold only what n2a renders for it (docs/gate.md).

``sources``: what a kustomization may name, before anything is built; ``recover``: the app's
inputs read back from its files; ``compare``: the app rendered again and compared; ``admin``: the
admin paths and the rules a change is judged by.
"""
