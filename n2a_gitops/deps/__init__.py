"""Dependencies: requirements and their policy, import names, the package index, the lock, conda."""
