"""A workshop's last five minutes: twenty people publish at the same moment. Twenty clones of one
bare remote, twenty real `n2a publish --push` processes; a pre-receive hook holds the first
twenty pushes until all have arrived and lets them go together, so nineteen lose the first race
for certain. Every commit must land, and the result must pass `n2a validate`."""

from __future__ import annotations

import os
import time

import pytest
from conftest import git
from gitfaults import clone, hook_barrier, last_json, n2a, notebook, start_n2a

pytestmark = pytest.mark.slow
PUBLISHERS = 20


def test_twenty_clones_publish_at_once_and_every_commit_lands(remote_clone, tmp_path):
    _, bare = remote_clone
    hook_barrier(bare, PUBLISHERS)
    people = []
    for i in range(PUBLISHERS):
        work = clone(bare, tmp_path / f"clone{i}")
        people.append((f"user{i}", work, notebook(tmp_path / f"nb{i}", f"Workshop app {i}")))
    started = time.monotonic()
    procs = [
        start_n2a(
            "publish",
            nb,
            "--repo",
            work,
            "--owner",
            user,
            "--name",
            "workshop",
            "--push",
            "--json",
            env=dict(os.environ),
        )
        for user, work, nb in people
    ]
    results = []
    for (user, _, _), proc in zip(people, procs):
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"{user}: {err}"
        results.append(last_json(out))
    elapsed = time.monotonic() - started

    log = git(bare, "log", "--format=%s", "main")
    landed = [user for user, _, _ in people if log.count(f"publish workshop-{user} ") == 1]
    assert len(landed) == PUBLISHERS, f"{len(landed)}/{PUBLISHERS} landed"
    on_remote = set(git(bare, "rev-list", "main").split())
    assert all(r["pushed"] and r["commit"] in on_remote for r in results)
    attempts = [r["push_attempts"] for r in results]
    # All twenty pushes met at the barrier: one won, nineteen lost and had to retry.
    assert sum(attempts) >= 2 * PUBLISHERS - 1 and attempts.count(1) <= 1
    assert len(git(bare, "rev-list", "--merges", "main").split()) == 0  # a straight history

    final = clone(bare, tmp_path / "final")
    assert sorted(p.name for p in (final / "apps").iterdir() if p.name != "_base") == sorted(
        f"workshop-{user}" for user, _, _ in people
    )
    check = n2a("validate", "--repo", final, "--json")
    assert check.returncode == 0, check.stderr
    print(
        f"\n{PUBLISHERS}/{PUBLISHERS} landed in {elapsed:.1f} s; push attempts {sorted(attempts)} "
        f"(total {sum(attempts)}, retries {sum(attempts) - PUBLISHERS})"
    )
