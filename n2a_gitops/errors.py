"""Errors that reach the user as one message plus a fix, never a traceback.

Each subclass fixes the process exit code; ``cli.main`` is the only place that maps them.
"""

EXIT_OK = 0
EXIT_FAILURE = 1  # could not do it: bad notebook, kustomize failed, git refused ...
EXIT_USAGE = 2  # the command line or its arguments are wrong
EXIT_POLICY = 3  # refused by the GitOps repo's policy (n2a.yaml) or a security rule
EXIT_AUTH = 4  # Argo CD refused the token
EXIT_NOT_FOUND = 5  # Argo CD (or the repo) does not know the app
EXIT_UNREACHABLE = 6  # Argo CD could not be reached


class N2AError(Exception):
    exit_code = EXIT_FAILURE

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix


class UsageError(N2AError):
    exit_code = EXIT_USAGE


class PolicyError(N2AError):
    exit_code = EXIT_POLICY


class AuthError(N2AError):
    exit_code = EXIT_AUTH


class NotFoundError(N2AError):
    exit_code = EXIT_NOT_FOUND


class UnreachableError(N2AError):
    exit_code = EXIT_UNREACHABLE
