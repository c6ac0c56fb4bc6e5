"""Errors that reach the user as one message plus a fix, never a traceback.

Each subclass fixes the process exit code; ``cli.main`` is the only place that maps them.
"""

EXIT_OK = 0
EXIT_FAILURE = 1  # could not do it: bad notebook, kustomize failed, git refused ...
EXIT_USAGE = 2  # the command line or its arguments are wrong
EXIT_POLICY = 3  # refused by the GitOps repo's policy (n2a.yaml) or a security rule
EXIT_AUTH = 4  # Argo CD refused the token
EXIT_NOT_FOUND = 5  # Argo CD (or the repo) does not know the app
EXIT_UNREACHABLE = 6  # Argo CD or the git remote could not be reached
EXIT_PUSH_REFUSED = 7  # the git host refused the push (a server hook, a protected branch)
EXIT_SUPERSEDED = 8  # a newer publish of the same app reached the remote; ours is kept, not live
EXIT_CONFLICT = 9  # the remote changed the same files: only a person can merge them
EXIT_BUSY = 10  # the time budget ran out: the remote kept moving, or another publish held the clone
EXIT_CHECK = 11  # the app failed its check run (publish --check): its code raised; nothing committed


class N2AError(Exception):
    exit_code = EXIT_FAILURE

    def __init__(self, message: str, fix: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.details = details or {}  # extra fields for --json and the HTTP APIs (e.g. the kept commit)


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


class LockError(N2AError):
    """Resolving the app's lock failed (no such version for the image's Python, index unreachable)."""

    exit_code = EXIT_FAILURE


class PushRefusedError(N2AError):
    exit_code = EXIT_PUSH_REFUSED


class SupersededError(N2AError):
    exit_code = EXIT_SUPERSEDED


class ConflictError(N2AError):
    exit_code = EXIT_CONFLICT


class BusyError(N2AError):
    exit_code = EXIT_BUSY


class CheckError(N2AError):
    exit_code = EXIT_CHECK


def error_class(exit_code) -> type[N2AError]:
    """The error class for an exit code (an error that crossed HTTP keeps its exit code)."""
    for cls in (
        UsageError,
        PolicyError,
        AuthError,
        NotFoundError,
        UnreachableError,
        PushRefusedError,
        SupersededError,
        ConflictError,
        BusyError,
        CheckError,
    ):
        if cls.exit_code == exit_code:
            return cls
    return N2AError
