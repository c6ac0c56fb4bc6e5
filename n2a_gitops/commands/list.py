"""`n2a list`: the published apps in the GitOps clone."""

from __future__ import annotations

NAME = "list"
HELP = "list published apps: owner, framework, access, URL, resources, last commit"
ORDER = 50
DESCRIPTION = """List the apps in the GitOps clone's working tree (apps/*/, except the shared base),
with owner, framework and URL from each app's child Application, who may open it (access, from
the app's overlay), the replicas, requests and limits of its container (--json: "resources"), whether it scales
to zero when idle and after how long (SCALING; --json: "scaleToZero", "idleAfter"), and the last
commit that touched the app. Whether an app is asleep right now: `n2a status APP`.

examples:
  n2a list
  n2a list --owner jane
  n2a list --json
"""


def add_arguments(parser) -> None:
    from n2a_gitops.commands import common

    common.add_repo(parser)
    parser.add_argument("--owner", help="only this owner's apps")
    common.add_json(parser, "print one JSON object: {apps: [...]}")


def run(args, out) -> int:
    from n2a_gitops.lifecycle import list_apps, open_repo

    repo, settings = open_repo(args.repo)
    rows = list_apps(repo, settings, args.owner)
    if not rows:
        out.info(
            "no apps published yet"
            + (f" by {args.owner}" if args.owner else "")
            + "; publish one with `n2a publish NOTEBOOK`"
        )
    else:
        table = [("APP", "OWNER", "FRAMEWORK", "ACCESS", "URL", "RESOURCES", "SCALING", "LAST COMMIT")]
        for r in rows:
            c = r["last_commit"]
            table.append(
                (
                    r["app"],
                    r["owner"] or "-",
                    r["framework"] or "-",
                    r["access"] or "-",
                    r["url"],
                    _resources(r["resources"]),
                    f"idle {r['idleAfter']}" if r.get("scaleToZero") else "always on",
                    f"{c['sha'][:12]} {c['date'][:10]} {c['message']}" if c else "(not committed)",
                )
            )
        widths = [max(len(row[i]) for row in table) for i in range(7)]
        for row in table:
            out.text("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:7])) + "  " + row[7])
    out.result({"apps": rows})
    return 0


def _resources(info: dict) -> str:
    """Compact: replicas x limits, e.g. "1x cpu 1, memory 4Gi, nvidia.com/gpu 1"."""
    limits = info.get("limits") or {}
    return f"{info.get('replicas', 1)}x " + (", ".join(f"{k} {v}" for k, v in limits.items()) or "-")
