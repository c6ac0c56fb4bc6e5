"""A small Argo CD REST client (stdlib only): app status, resource tree, pod logs, waiting.

The contract is Argo CD's own OpenAPI description (swagger.json of v3.5): ``GET
/api/v1/applications/{name}``, ``/resource-tree`` and ``/logs`` (newline-delimited JSON, one
``{"result": applicationLogEntry}`` or ``{"error": runtimeStreamError}`` per line). The token is a
project role token sent as ``Authorization: Bearer``; users never hold cluster credentials.
"""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

from n2a_gitops.errors import AuthError, N2AError, NotFoundError, UnreachableError, UsageError

URL_ENV = "N2A_ARGOCD_URL"
TOKEN_ENV = "N2A_ARGOCD_TOKEN"
INSECURE_ENV = "N2A_ARGOCD_INSECURE"
TIMEOUT = 15.0  # seconds for one request (connect + read) outside `logs --follow`

TOKEN_FIX = (
    "ask your platform admin for an Argo CD project role token (they create one with "
    "`argocd proj role create-token <project> <role>`), then set "
    f"{TOKEN_ENV}=<token> or `argocd_token: <token>` in ~/.config/n2a/config.yaml"
)


class ArgoCD:
    def __init__(self, url: str, token: str, insecure: bool = False, timeout: float = TIMEOUT):
        if not url:
            raise UsageError(
                "the Argo CD URL is not set",
                f"set {URL_ENV}=https://argocd.example.com or `argocd_url:` in ~/.config/n2a/config.yaml",
            )
        if not token:
            # An auth problem like a wrong token (exit 4), found before anything is sent.
            raise AuthError(f"no Argo CD token is set ({TOKEN_ENV})", TOKEN_FIX)
        if "://" not in url:
            url = "https://" + url
        self.url = url.rstrip("/")
        self.token = token
        self.insecure = insecure
        self.timeout = timeout
        self._ssl = ssl.create_default_context()
        if insecure:
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE

    @classmethod
    def from_settings(cls, out=None, url: str | None = None) -> ArgoCD:
        """Client from N2A_ARGOCD_URL/TOKEN (or the user's config); url overrides, e.g. n2a.yaml's."""
        from n2a_gitops.config import setting

        insecure = os.environ.get(INSECURE_ENV, "") not in ("", "0", "false", "no")
        if insecure and out is not None:
            out.warn(
                f"{INSECURE_ENV} is set: the Argo CD server's TLS certificate is NOT verified; "
                "anyone on the network path can read your token"
            )
        return cls(setting("argocd_url", URL_ENV) or url or "", setting("argocd_token", TOKEN_ENV) or "", insecure)

    # -- API calls -------------------------------------------------------------------------

    def get_app(self, name: str, refresh: str | None = None) -> dict:
        """The Application (v1alpha1Application); refresh "normal"/"hard" asks for a reconcile."""
        query = {"refresh": refresh} if refresh else None
        return self._json(f"/api/v1/applications/{_q(name)}", query, app=name)

    def resource_tree(self, name: str) -> dict:
        return self._json(f"/api/v1/applications/{_q(name)}/resource-tree", None, app=name)

    def logs(
        self,
        name: str,
        resource_name: str,
        tail: int | None = None,
        follow: bool = False,
        namespace: str | None = None,
        container: str | None = None,
        previous: bool = False,
    ) -> Iterator[dict]:
        """Log entries of every pod of Deployment ``resource_name``: dicts with content, podName,
        timeStampStr, last. With follow, the stream stays open until the server closes it.
        ``previous``: the output of each container's previous run (the one before a restart)."""
        query = {"group": "apps", "kind": "Deployment", "resourceName": resource_name, "follow": str(follow).lower()}
        if previous:
            query["previous"] = "true"
        if tail is not None:
            query["tailLines"] = str(tail)
        if namespace:
            query["namespace"] = namespace
        if container:
            query["container"] = container
        # A followed stream is legitimately silent for long stretches: no read timeout then.
        # (The caller has reached the server just before, so a dead host shows up there.)
        resp = self._open(
            f"/api/v1/applications/{_q(name)}/logs", query, app=name, timeout=None if follow else self.timeout
        )
        with resp:
            for raw in _lines(resp, self.url):
                line = raw.strip()
                if not line:
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    raise N2AError(
                        f"Argo CD sent a log line that is not JSON: {line[:120]!r}",
                        f"check that {URL_ENV} points at the Argo CD server itself",
                    ) from None
                if item.get("error"):
                    err = item["error"]
                    raise N2AError(
                        f"Argo CD log stream failed: {err.get('message') or err}",
                        "retry, or look at the pods in the Argo CD UI",
                    )
                result = item.get("result") or {}
                yield result
                if result.get("last") and not follow:
                    return

    # -- plumbing -------------------------------------------------------------------------

    def _json(self, path: str, query: dict | None, app: str | None) -> dict:
        with self._open(path, query, app=app, timeout=self.timeout) as resp:
            try:
                body = resp.read()
            except (TimeoutError, OSError) as exc:
                raise self._unreachable(exc) from None
        try:
            data = json.loads(body)
        except ValueError:
            raise N2AError(
                f"{self.url}{path} did not answer with JSON (is this the Argo CD server?)",
                f"set {URL_ENV} to the Argo CD server's base URL, e.g. https://argocd.example.com",
            ) from None
        if not isinstance(data, dict):
            raise N2AError(f"{self.url}{path} answered with unexpected JSON", f"check {URL_ENV}")
        return data

    def _open(self, path: str, query: dict | None, app: str | None, timeout: float | None):
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        req = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        )
        try:
            return urllib.request.urlopen(req, timeout=timeout, context=self._ssl)
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, app) from None
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc) from None

    def _http_error(self, exc: urllib.error.HTTPError, app: str | None) -> N2AError:
        detail = _error_message(exc)
        if exc.code == 401:
            return AuthError(f"Argo CD at {self.url} rejected the token (401 Unauthenticated: {detail})", TOKEN_FIX)
        if exc.code == 403:
            return AuthError(
                f"Argo CD at {self.url} denied access{f' to app {app!r}' if app else ''} (403: {detail})",
                "the project role behind your token needs `applications, get, <project>/*` and "
                "`logs, get, <project>/*` policies; a project token also gets 403 for an app outside "
                "its project or one that does not exist: check the name with `n2a list`",
            )
        if exc.code == 404:
            return NotFoundError(
                f"Argo CD has no application {app!r} ({detail})" if app else f"Argo CD answered 404: {detail}",
                "check the name with `n2a list`; a newly pushed app appears once the root app has "
                "synced (Argo CD polls git every 3 minutes)",
            )
        return N2AError(
            f"Argo CD at {self.url} answered {exc.code}: {detail}", "retry later, or look at the Argo CD UI"
        )

    def _unreachable(self, exc: BaseException) -> UnreachableError:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):
            return UnreachableError(
                f"cannot verify the TLS certificate of {self.url}: {reason.verify_message or reason}",
                f"point SSL_CERT_FILE at your company's CA bundle; only as a last resort set {INSECURE_ENV}=1",
            )
        return UnreachableError(
            f"cannot reach Argo CD at {self.url}: {reason}",
            f"check {URL_ENV}, your network or VPN, and that Argo CD is up",
        )


def wait_for(
    app: str,
    revision: str,
    timeout: float,
    out,
    client: ArgoCD | None = None,
    interval: float = 3.0,
    url: str | None = None,
) -> dict:
    """Poll until Argo CD has synced ``revision`` of ``app`` and the app is Healthy.

    Returns the final status summary (see ``summary``). On timeout (or a failed sync of that
    revision) raises N2AError carrying the operation message and the logs command to run.
    The first request asks for a refresh so Argo CD does not wait for its 3-minute poll.
    ``url`` is the fallback Argo CD URL (n2a.yaml's argocdURL) when the user has none set.
    """
    client = client or ArgoCD.from_settings(out, url=url)
    deadline = time.monotonic() + timeout
    refresh: str | None = "normal"
    last: dict | None = None
    seen: tuple | None = None
    out.step(f"waiting for Argo CD to sync {revision[:12]} of {app} (up to {int(timeout)} s) ...")
    while True:
        try:
            last = summary(client.get_app(app, refresh=refresh))
            refresh = None
        except NotFoundError:
            last = None  # the root app has not created the child Application yet
        if last:
            state = (last["sync"], last["health"], last["revision"][:12])
            if state != seen:
                out.info(f"  sync {last['sync']}, health {last['health']}, revision {last['revision'][:12] or '-'}")
                seen = state
            if _same_revision(last["revision"], revision):
                if last["sync"] == "Synced" and last["health"] == "Healthy":
                    return last
                if last["phase"] in ("Failed", "Error"):
                    raise _not_ready(app, revision, last, f"the sync of {revision[:12]} failed")
        if time.monotonic() >= deadline:
            raise _not_ready(app, revision, last, f"timed out after {int(timeout)} s")
        time.sleep(max(0.0, min(interval, deadline - time.monotonic())))


def summary(application: dict) -> dict:
    """The fields `n2a status --json` shows, from a v1alpha1Application."""
    status = application.get("status") or {}
    op = status.get("operationState") or {}
    conditions = [c.get("message", "") for c in status.get("conditions") or [] if c.get("message")]
    return {
        "app": (application.get("metadata") or {}).get("name", ""),
        "sync": (status.get("sync") or {}).get("status") or "Unknown",
        "health": (status.get("health") or {}).get("status") or "Unknown",
        "revision": (status.get("sync") or {}).get("revision") or "",
        "message": op.get("message") or "; ".join(conditions),
        "phase": op.get("phase") or "",
        "urls": list((status.get("summary") or {}).get("externalURLs") or []),
    }


def scaling_of(application: dict) -> dict:
    """{"scaleToZero", "idleAfter"} from the Application's info (`n2a publish` writes "scaling")."""
    from n2a_gitops.pod.scaling import from_annotation

    info = {
        i.get("name"): i.get("value") for i in (application.get("spec") or {}).get("info") or [] if isinstance(i, dict)
    }
    return from_annotation(info.get("scaling"))


def running_pods(tree: dict) -> list[str]:
    """The app's pods in a resource tree (v1alpha1ApplicationTree): none while it sleeps."""
    return [n.get("name", "") for n in tree.get("nodes") or [] if isinstance(n, dict) and n.get("kind") == "Pod"]


def _not_ready(app: str, revision: str, last: dict | None, why: str) -> N2AError:
    if last is None:
        state = "Argo CD does not know the app yet"
    else:
        state = f"sync {last['sync']}, health {last['health']}, revision {last['revision'][:12] or '-'}"
        if last["message"]:
            state += f"; operation: {last['message']}"
    return N2AError(
        f"{app} is not running revision {revision[:12]} yet: {why} ({state})",
        f"see what the pods say with `n2a logs {app}` and the state with `n2a status {app}`",
    )


def _same_revision(a: str, b: str) -> bool:
    return bool(a) and bool(b) and (a.startswith(b) or b.startswith(a))


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _lines(resp, url: str) -> Iterator[bytes]:
    try:
        yield from resp
    except (TimeoutError, OSError) as exc:
        raise UnreachableError(f"the log stream from {url} broke off: {exc}", "run the command again") from None


def _error_message(exc: urllib.error.HTTPError) -> str:
    """The message of Argo CD's runtimeError body, else the HTTP reason."""
    try:
        body = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        body = {}
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or exc.reason)
    return str(exc.reason)
