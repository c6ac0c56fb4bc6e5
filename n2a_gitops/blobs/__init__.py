"""Files too big for a ConfigMap: content-addressed blobs in the GitOps repo (docs/files.md, "Large files").

``store``: which files become blobs, their place in the repo, the size policy; ``manifest``: the
small (path, sha256, size) list an app's manifests carry; ``fetch``: the stand-alone script the
pod's blobs step and `n2a preview` run to get the bytes.
"""
