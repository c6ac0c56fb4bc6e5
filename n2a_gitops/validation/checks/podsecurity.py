"""Pod Security Standards, "restricted" profile (what the apps namespace enforces), plus n2a's
own rules: no service-account token and a read-only root filesystem.

Checked offline so that a pod the namespace would refuse never reaches git: Argo CD would
report the Deployment as synced while its ReplicaSet silently fails to create pods.
"""

from __future__ import annotations

RULE = "pod-security"
ALLOWED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
WORKLOAD_TEMPLATE = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


def pod_spec(doc: dict) -> dict | None:
    path = WORKLOAD_TEMPLATE.get(doc.get("kind", ""))
    if path is None:
        return None
    node: object = doc
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def violations(spec: dict) -> list[tuple[str, str]]:
    """(message, fix) for every way ``spec`` (a PodSpec) breaks the restricted profile or n2a's rules."""
    found: list[tuple[str, str]] = []
    add = lambda message, fix: found.append((message, fix))  # noqa: E731
    pod_sc = spec.get("securityContext") or {}

    if spec.get("automountServiceAccountToken") is not False:
        add(
            "automountServiceAccountToken is not false: the pod would get a Kubernetes API token",
            "set spec.template.spec.automountServiceAccountToken: false",
        )
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            add(f"{field} is true", f"remove {field}")
    for vol in spec.get("volumes") or []:
        kinds = [k for k in vol if k != "name"]
        bad = [k for k in kinds if k not in ALLOWED_VOLUMES]
        if bad:
            add(
                f"volume {vol.get('name')!r} is of type {', '.join(bad)}, not allowed by the restricted profile",
                f"use one of: {', '.join(sorted(ALLOWED_VOLUMES))}",
            )
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            add(f"sysctl {sysctl.get('name')!r} is not in the safe set", "remove it from securityContext.sysctls")
    _check_common(pod_sc, "the pod", add)

    pod_non_root = pod_sc.get("runAsNonRoot") is True
    pod_seccomp = _seccomp_ok(pod_sc)
    containers = [("initContainers", c) for c in spec.get("initContainers") or []]
    containers += [("containers", c) for c in spec.get("containers") or []]
    containers += [("ephemeralContainers", c) for c in spec.get("ephemeralContainers") or []]
    for _group, c in containers:
        who = f"container {c.get('name')!r}"
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            add(f"{who} is privileged", "remove securityContext.privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            add(
                f"{who} does not set allowPrivilegeEscalation: false",
                "set securityContext.allowPrivilegeEscalation: false",
            )
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            add(f"{who} does not drop ALL capabilities", "set securityContext.capabilities.drop: [ALL]")
        added = set(caps.get("add") or []) - ALLOWED_CAPABILITIES
        if added:
            add(f"{who} adds capabilities {', '.join(sorted(added))}", "add none (only NET_BIND_SERVICE is allowed)")
        if sc.get("runAsNonRoot") is False or not (pod_non_root or sc.get("runAsNonRoot") is True):
            add(
                f"{who} may run as root (runAsNonRoot is not true)", "set securityContext.runAsNonRoot: true on the pod"
            )
        if not (pod_seccomp or _seccomp_ok(sc)) or _seccomp_unconfined(sc):
            add(
                f"{who} has no seccomp profile RuntimeDefault or Localhost",
                "set spec.template.spec.securityContext.seccompProfile.type: RuntimeDefault",
            )
        if sc.get("readOnlyRootFilesystem") is not True:
            add(
                f"{who} has a writable root filesystem",
                "set securityContext.readOnlyRootFilesystem: true (write to /app/work, /tmp or HOME)",
            )
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                add(
                    f"{who} uses hostPort {port['hostPort']}", "remove hostPort; the Service and Ingress expose the app"
                )
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            add(f"{who} is a Windows host process", "remove windowsOptions.hostProcess")
        if sc.get("procMount") not in (None, "Default"):
            add(f"{who} sets procMount {sc['procMount']}", "remove procMount")
        _check_common(sc, who, add)
    return found


def _check_common(sc: dict, who: str, add) -> None:
    if sc.get("runAsUser") == 0:
        add(f"{who} runs as uid 0 (root)", "set runAsUser: 1000")
    se = sc.get("seLinuxOptions") or {}
    if se.get("type", "") not in SELINUX_TYPES or se.get("user") or se.get("role"):
        add(f"{who} sets custom SELinux options", "remove seLinuxOptions")
    if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
        add(f"{who} runs AppArmor unconfined", "remove appArmorProfile or use RuntimeDefault")
    if (sc.get("windowsOptions") or {}).get("hostProcess") and who == "the pod":
        add("the pod is a Windows host process", "remove windowsOptions.hostProcess")


def _seccomp_ok(sc: dict) -> bool:
    return (sc.get("seccompProfile") or {}).get("type") in ("RuntimeDefault", "Localhost")


def _seccomp_unconfined(sc: dict) -> bool:
    return (sc.get("seccompProfile") or {}).get("type") == "Unconfined"
