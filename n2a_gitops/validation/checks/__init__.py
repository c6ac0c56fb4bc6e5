"""The rules `n2a validate` applies, one module per concern.

Every check takes plain data (parsed manifests, n2a.yaml settings) and returns
``validate.Problem`` objects; none of them touches git, the network or the cluster.
"""
