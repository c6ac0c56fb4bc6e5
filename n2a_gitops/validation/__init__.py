"""Validation: `n2a validate`, batched kustomize builds, CRD schemas and the rules in `checks/`."""
