"""`--push` against a remote that moves, refuses, vanishes or races, and n2a killed half-way:
real bare remotes with pre-receive hooks, real n2a processes, SIGKILL. Every fault ends in one
message with a `fix:` and its own exit code, the user's work untouched and no commit lost."""

from __future__ import annotations

import os
import time

import pytest
from conftest import git, snapshot
from e2e.jupyter_server import free_port
from gitfaults import (
    clone,
    commit_file,
    hook_moving_the_branch,
    install_hook,
    kill_when_stalled,
    last_json,
    make_user_work,
    n2a,
    notebook,
    stalling_git,
    start_n2a,
    user_state,
)

from n2a_gitops.errors import (
    EXIT_BUSY,
    EXIT_CONFLICT,
    EXIT_FAILURE,
    EXIT_PUSH_REFUSED,
    EXIT_SUPERSEDED,
    EXIT_UNREACHABLE,
)
from n2a_gitops.gitrepo import pushreply
from n2a_gitops.kernel.notebook_env import SKIPPED

APP = "greeter-jane"


def publish(nb, repo, *extra, env=None):
    return n2a("publish", nb, "--repo", repo, "--owner", "jane", "--json", *extra, env=env)


def one_error(proc, code: int) -> dict:
    """The failure is one message with a fix, the given exit code, no traceback; its JSON object."""
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("error:") == 1 and "fix:" in proc.stderr, proc.stderr
    body = last_json(proc.stdout)
    assert body["exit_code"] == code and body["fix"]
    return body


def head(repo) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def remote_head(bare) -> str:
    return git(bare, "rev-parse", "main").strip()


def app_tree(repo, rev: str = "HEAD") -> str:
    return git(repo, "ls-tree", "-r", rev, "--", f"apps/{APP}", f"argocd/apps/{APP}.yaml")


# -- the answers of git and the common hosts ---------------------------------------------------

RACES = [
    (1, "!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone\n", "hint: Updates were rejected"),
    (1, "!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)\n", ""),
    (1, "!\trefs/heads/x:refs/heads/main\t[rejected] (stale info)\n", ""),
    (
        1,
        "!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)\n",
        "remote: error: cannot lock ref 'refs/heads/main': is at 66941e6 but expected cdec693\n",
    ),
    (
        1,
        "!\tHEAD:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': is at 98bf7e5 but expected 00da1b3)\n",
        "",
    ),
    (1, "!\tHEAD:refs/heads/main\t[remote rejected] (incorrect old value provided)\n", ""),  # GitLab (Gitaly), Gitee
    (
        1,
        "!\tHEAD:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': reference already exists)\n",
        "",
    ),
    (
        1,
        "",
        "error: failed to push some refs to 'x'\nhint: Updates were rejected because the remote contains work that you do\n",
    ),
]
REFUSALS = [  # (porcelain, stderr, protected branch?)
    (
        "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n",
        "remote: validation failed: apps/x\n",
        False,
    ),
    (
        "!\tHEAD:refs/heads/main\t[remote rejected] (protected branch hook declined)\n",
        "remote: error: GH006: Protected branch update failed for refs/heads/main.\n",
        True,
    ),
    (
        "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n",
        "remote: GitLab: You are not allowed to push code to protected branches on this project.\n",
        True,
    ),
    (
        "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n",
        "remote: Gitea: Not allowed to push to protected branch main\n",
        True,
    ),
    (
        "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n",
        "remote: Branch refs/heads/main can only be modified through pull requests.\n",
        True,
    ),  # Bitbucket
    (
        "!\tHEAD:refs/heads/main\t[remote rejected] (hook declined)\n",
        "remote: GH013: Repository rule violations found\n",
        True,
    ),
]


@pytest.mark.parametrize("status, stdout, stderr", RACES)
def test_every_lost_race_answer_is_retried(status, stdout, stderr):
    assert pushreply.classify(status, stdout, stderr).kind == "race"


@pytest.mark.parametrize("stdout, stderr, protected", REFUSALS)
def test_hook_and_protected_branch_refusals_are_never_retried(stdout, stderr, protected):
    answer = pushreply.classify(1, stdout, stderr)
    assert answer.kind == "refused" and answer.protected is protected
    assert stderr.removeprefix("remote: ").strip() in answer.server_says()


@pytest.mark.parametrize(
    "stderr, kind",
    [
        (
            "fatal: '/gone/remote.git' does not appear to be a git repository\nfatal: Could not read from remote repository.",
            "unreachable",
        ),
        (
            "fatal: unable to access 'http://127.0.0.1:9/x.git/': Failed to connect to 127.0.0.1 port 9: Connection refused",
            "unreachable",
        ),
        (
            "fatal: unable to access 'https://git.example.com/x.git/': Could not resolve host: git.example.com",
            "unreachable",
        ),
        ("fatal: could not read Username for 'https://git.example.com': terminal prompts disabled", "auth"),
        (
            "error: RPC failed; HTTP 503 curl 22 The requested URL returned error: 503\nfatal: the remote end hung up unexpectedly",
            "transient",
        ),
    ],
)
def test_transport_failures(stderr, kind):
    assert pushreply.classify(128, "", stderr).kind == kind


def test_a_host_failing_mid_push_is_transient_not_a_refusal():
    assert (
        pushreply.classify(1, "!\tHEAD:refs/heads/main\t[remote failure] (remote failed to report status)\n", "").kind
        == "transient"
    )
    assert (
        pushreply.classify(1, "!\tHEAD:refs/heads/main\t[remote rejected] (Internal Server Error)\n", "").kind
        == "transient"
    )


# -- the remote moves while we push -------------------------------------------------------------


def test_remote_moving_during_the_push_is_retried_until_the_commit_lands(remote_clone, tmp_path):
    """A pre-receive hook moves the branch while our push is being received (twice): the host
    answers `cannot lock ref ... is at X but expected Y`, and n2a fetches, replays and pushes again."""
    work, bare = remote_clone
    mover = clone(bare, tmp_path / "mover")
    hook_moving_the_branch(bare, mover, times=2)
    proc = publish(notebook(tmp_path / "nb"), work, "--push")
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert result["pushed"] is True and result["push_attempts"] == 3
    log = git(bare, "log", "--format=%s", "main").splitlines()
    assert log[:3] == [f"publish {APP} from greeter.ipynb", "move 2", "move 1"]
    # What the user is told is what the remote has, and the clone follows it.
    assert result["revision"] == result["commit"] == remote_head(bare) == head(work)
    assert app_tree(work) == app_tree(bare, "main")
    assert git(work, "status", "--porcelain") == ""
    assert "moved" in proc.stderr  # the retries are shown


def test_time_budget_spent_while_the_remote_keeps_moving(remote_clone, tmp_path):
    work, bare = remote_clone
    mover = clone(bare, tmp_path / "mover")
    hook_moving_the_branch(bare, mover, times=None)  # every push loses
    before = remote_head(bare)
    proc = publish(notebook(tmp_path / "nb"), work, "--push", "--push-timeout", "2")
    body = one_error(proc, EXIT_BUSY)
    assert body["attempts"] >= 2 and "--push-timeout" in body["fix"]
    # The commit is kept in the clone, on its branch; nothing of it reached the remote.
    assert body["commit"] == head(work)
    assert git(work, "log", "-1", "--format=%s").strip() == f"publish {APP} from greeter.ipynb"
    assert git(bare, "log", "--format=%s", "main").count("publish") == 0
    assert git(bare, "rev-list", "--count", f"{before}..main").strip() == str(body["attempts"])


def test_push_timeout_from_the_environment_and_n2a_yaml(gitops, monkeypatch):
    from n2a_gitops.config import load_settings, push_timeout
    from n2a_gitops.errors import UsageError

    settings = load_settings(gitops)
    assert settings.pushTimeout == 120 and push_timeout(settings) == 120
    settings.pushTimeout = 30
    assert push_timeout(settings) == 30
    monkeypatch.setenv("N2A_PUSH_TIMEOUT", "45")
    assert push_timeout(settings) == 45
    assert push_timeout(settings, 5) == 5
    monkeypatch.setenv("N2A_PUSH_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="N2A_PUSH_TIMEOUT"):
        push_timeout(settings)


# -- the remote refuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said, protected",
    [
        ("n2a validate failed: apps/greeter-jane: [host] greeter-jane.apps.example.com is taken", False),
        ("GitLab: You are not allowed to push code to protected branches on this project.", True),
    ],
)
def test_hook_refusal_shows_the_servers_reason_and_keeps_the_commit(remote_clone, tmp_path, said, protected):
    work, bare = remote_clone
    calls = tmp_path / "calls"
    install_hook(bare, f'printf x >> {calls}\necho "{said}" >&2\nexit 1\n')
    before = remote_head(bare)
    proc = publish(notebook(tmp_path / "nb"), work, "--push")
    body = one_error(proc, EXIT_PUSH_REFUSED)
    assert said in proc.stderr and said in body["server"]  # the server's own words
    assert calls.read_text() == "x"  # refused once: a hook's no is not a lost race
    assert remote_head(bare) == before
    commit = head(work)
    assert body["commit"] == commit and commit[:12] in body["fix"]
    assert git(work, "log", "-1", "--format=%s").strip() == f"publish {APP} from greeter.ipynb"
    if protected:
        assert (
            f"push origin HEAD:refs/heads/n2a/publish-{commit[:12]}" in body["fix"] and "merge request" in body["fix"]
        )
    else:
        assert f"git -C {work} push origin main:main" in body["fix"]
    # The exact next step works once the server agrees.
    (bare / "hooks" / "pre-receive").unlink()
    if not protected:
        git(work, "push", "origin", "main:main")
        assert remote_head(bare) == commit


@pytest.mark.parametrize("where", ["missing path", "closed port"])
def test_unreachable_remote_keeps_the_commit_and_says_how_to_push_later(remote_clone, tmp_path, where):
    work, bare = remote_clone
    url = str(tmp_path / "gone.git") if where == "missing path" else f"http://127.0.0.1:{free_port()}/remote.git"
    git(work, "remote", "set-url", "origin", url)
    proc = publish(notebook(tmp_path / "nb"), work, "--push")
    body = one_error(proc, EXIT_UNREACHABLE)
    assert "cannot reach the git remote origin" in body["error"] and url in body["error"]
    assert body["commit"] == head(work) and f"git -C {work} push origin main:main" in body["fix"]
    assert git(work, "status", "--porcelain") == ""
    git(work, "remote", "set-url", "origin", str(bare))
    git(work, "push", "-q", "origin", "main:main")  # the fix, once the remote is back
    assert remote_head(bare) == body["commit"]


def test_push_without_credentials_is_refused_with_how_to_give_them(remote_clone, tmp_path):
    """Smart HTTP through the real `git http-backend`: fetching is anonymous, pushing needs a token."""
    from e2e import git_http

    work, bare = remote_clone
    url, server = git_http.serve(bare.parent, "jane", "s3cret")
    try:
        git(work, "remote", "set-url", "origin", f"{url}/{bare.name}")
        nb = notebook(tmp_path / "nb")
        for helper in (None, "wrong"):
            if helper:
                git(work, "config", "credential.helper", f"!f() {{ echo username=jane; echo password={helper}; }}; f")
            body = one_error(publish(nb, work, "--push"), EXIT_PUSH_REFUSED)
            assert "credentials" in body["error"] and "credential helper" in body["fix"]
            assert body["commit"] == head(work) != remote_head(bare)
        git(work, "config", "credential.helper", "!f() { echo username=jane; echo password=s3cret; }; f")
        proc = publish(nb, work, "--push")  # the same content: no new commit, the kept one is pushed
        assert proc.returncode == 0, proc.stderr
        assert remote_head(bare) == head(work) == last_json(proc.stdout)["revision"]
    finally:
        server.shutdown()


# -- the user's clone ------------------------------------------------------------------------


def test_rebase_conflict_stops_with_both_commits_kept(remote_clone, tmp_path):
    """An unpushed commit of the user's own edits a file that someone else changed on the remote:
    n2a does not guess a merge. Nothing is rewritten, no rebase is left half-way."""
    work, bare = remote_clone
    other = clone(bare, tmp_path / "other")
    commit_file(other, "docs/owners.md", "platform team\n", "owners: platform", push=True)
    mine = commit_file(work, "docs/owners.md", "data team\n", "owners: data")
    before = remote_head(bare)
    proc = publish(notebook(tmp_path / "nb"), work, "--push")
    body = one_error(proc, EXIT_CONFLICT)
    assert "docs/owners.md" in body["error"] and "pull --rebase" in body["fix"]
    assert remote_head(bare) == before
    assert git(work, "rev-parse", "HEAD~1").strip() == mine  # the publish on top of the user's commit
    assert git(work, "log", "-1", "--format=%s").strip() == f"publish {APP} from greeter.ipynb"
    assert not (work / ".git" / "rebase-merge").exists() and not (work / ".git" / "rebase-apply").exists()
    assert git(work, "status", "--porcelain") == ""


def test_detached_head_with_push_changes_nothing(remote_clone, tmp_path):
    work, bare = remote_clone
    git(work, "checkout", "-q", "--detach", "HEAD")
    before, remote_before = snapshot(work), remote_head(bare)
    proc = publish(notebook(tmp_path / "nb"), work, "--push")
    body = one_error(proc, EXIT_FAILURE)
    assert "detached" in body["error"] and "git switch main" in body["fix"]
    assert snapshot(work) == before and remote_head(bare) == remote_before


def test_users_staged_and_unstaged_work_survives_a_replay_byte_for_byte(remote_clone, tmp_path):
    work, bare = remote_clone
    paths = make_user_work(work)
    other = clone(bare, tmp_path / "other")
    commit_file(other, "docs/moves.md", "someone else was first\n", "docs", push=True)  # the remote moves
    before = user_state(work, paths)
    proc = publish(notebook(tmp_path / "nb"), work, "--push")
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    # No warning about the replay; from the CLI the only one is that the run-time import step was skipped.
    assert result["push_attempts"] == 2 and not [w for w in result["warnings"] if not w.startswith(SKIPPED)]
    assert head(work) == remote_head(bare) == result["revision"]
    assert user_state(work, paths) == before
    assert (work / "docs/moves.md").read_text() == "someone else was first\n"  # the clone caught up
    status = git(work, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert sorted(status) == sorted(before["status"].splitlines())  # nothing else appeared


def test_users_work_in_a_file_the_remote_changed_is_kept_and_the_clone_stays(remote_clone, tmp_path):
    """The commit is delivered, but the clone cannot follow without touching the user's edit:
    it stays where it was, and the warning says how to catch up."""
    work, bare = remote_clone
    paths = make_user_work(work)
    other = clone(bare, tmp_path / "other")
    commit_file(other, "notes/todo.md", "rewritten upstream\n", "todo upstream", push=True)
    before = user_state(work, paths)
    proc = publish(notebook(tmp_path / "nb"), work, "--push")
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert result["revision"] == remote_head(bare) != head(work)
    assert any("pull --rebase" in w and "notes/todo.md" in w for w in result["warnings"])
    assert user_state(work, paths) == before
    assert app_tree(work) == app_tree(bare, "main")  # the same app on both sides


# -- the same app from two clones -----------------------------------------------------------------


def _two_versions(bare, tmp_path):
    a, b = clone(bare, tmp_path / "a"), clone(bare, tmp_path / "b")
    # Different files too: a file-by-file merge would leave a mixed folder holding both.
    (tmp_path / "nb-a").mkdir()
    (tmp_path / "nb-a" / "only-a.txt").write_text("a\n")
    (tmp_path / "nb-b").mkdir()
    (tmp_path / "nb-b" / "only-b.txt").write_text("b\n")
    return (a, notebook(tmp_path / "nb-a", "Version A")), (b, notebook(tmp_path / "nb-b", "Version B"))


def _commit_at(repo, nb, include, when: int):
    env = {**os.environ, "GIT_AUTHOR_DATE": f"@{when} +0000"}
    proc = n2a("publish", nb, "--repo", repo, "--owner", "jane", "--include", include, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    return last_json(proc.stdout)["commit"]


def test_same_app_older_version_is_superseded_and_kept(remote_clone, tmp_path):
    _, bare = remote_clone
    (a, nb_a), (b, nb_b) = _two_versions(bare, tmp_path)
    now = int(time.time())
    older = _commit_at(a, nb_a, nb_a.parent / "only-a.txt", now - 60)
    newer = _commit_at(b, nb_b, nb_b.parent / "only-b.txt", now)
    version_b = app_tree(b)
    assert git(b, "push", "-q", "origin", "main") == ""  # B reaches the remote first
    # A publishes again with --push (same content: no new commit) and learns that B's is live.
    proc = n2a(
        "publish", nb_a, "--repo", a, "--owner", "jane", "--include", nb_a.parent / "only-a.txt", "--push", "--json"
    )
    body = one_error(proc, EXIT_SUPERSEDED)
    assert body["superseded_by"]["sha"] == newer and body["superseded_by"]["author"] == "Test Author"
    assert body["commit"] == older and body["revision"] == remote_head(bare) == newer
    assert f"n2a rollback {APP} {older[:12]} --push" in body["fix"]
    # The older version is kept, not lost; the clone serves what the remote serves, whole.
    assert git(a, "rev-parse", body["kept_as"]).strip() == older
    assert head(a) == newer and app_tree(a) == version_b == app_tree(bare, "main")
    assert not (a / f"apps/{APP}/src/only-a.txt").exists()
    assert git(a, "status", "--porcelain") == ""


def test_same_app_newer_version_replaces_the_older_one_whole(remote_clone, tmp_path):
    _, bare = remote_clone
    (a, nb_a), (b, nb_b) = _two_versions(bare, tmp_path)
    older = _commit_at(a, nb_a, nb_a.parent / "only-a.txt", int(time.time()) - 60)
    git(a, "push", "-q", "origin", "main")  # the older version reaches the remote first
    proc = n2a(
        "publish", nb_b, "--repo", b, "--owner", "jane", "--include", nb_b.parent / "only-b.txt", "--push", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert result["commit"] == result["revision"] == remote_head(bare) == head(b)
    assert git(bare, "rev-parse", "main~1").strip() == older  # replayed onto A's commit
    # B's version, whole, as B's publish wrote it (HEAD@{1}: before the clone followed the remote).
    assert app_tree(bare, "main") == app_tree(b, "HEAD@{1}")
    assert "only-b.txt" in app_tree(bare, "main") and "only-a.txt" not in app_tree(bare, "main")
    assert any("replaced" in n and older[:12] in n for n in result["notes"])


def _with_a_blob(folder, seed: int):
    """A data file beyond the ConfigMaps' budget (blobs/store.py), and the blob path it gets."""
    import hashlib
    import random

    from n2a_gitops.blobs.store import blob_path

    data = random.Random(seed).randbytes(700 * 1024)
    (folder / f"table-{seed}.bin").write_bytes(data)
    return folder / f"table-{seed}.bin", blob_path(hashlib.sha256(data).hexdigest())


def _blob_paths(repo, rev: str = "HEAD") -> set[str]:
    return set(git(repo, "ls-tree", "-r", "--name-only", rev, "--", "blobs").split())


def test_an_older_version_with_blobs_is_superseded_and_kept_whole(remote_clone, tmp_path):
    """A set-aside commit also adds blobs/ (content-addressed, owned by no app): that does not
    make it a mixed commit, so it is superseded and kept like one that changes its app only."""
    _, bare = remote_clone
    (a, nb_a), (b, nb_b) = _two_versions(bare, tmp_path)
    table, _ = _with_a_blob(nb_a.parent, 1)
    now = int(time.time())
    env = {**os.environ, "GIT_AUTHOR_DATE": f"@{now - 60} +0000"}
    proc = n2a("publish", nb_a, "--repo", a, "--owner", "jane", "--include", table, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    older = last_json(proc.stdout)["commit"]
    assert _blob_paths(a), "the table was expected to be a blob"
    newer = _commit_at(b, nb_b, nb_b.parent / "only-b.txt", now)
    assert git(b, "push", "-q", "origin", "main") == ""  # B reaches the remote first
    proc = n2a("publish", nb_a, "--repo", a, "--owner", "jane", "--include", table, "--push", "--json")
    body = one_error(proc, EXIT_SUPERSEDED)
    assert body["commit"] == older and body["revision"] == remote_head(bare) == newer
    assert git(a, "rev-parse", body["kept_as"]).strip() == older
    assert _blob_paths(a, body["kept_as"]) and not _blob_paths(bare, "main")  # kept aside, not pushed
    assert head(a) == newer and app_tree(a) == app_tree(bare, "main")
    assert git(a, "status", "--porcelain") == ""


def test_a_newer_version_with_blobs_replaces_the_older_one_with_its_blobs(remote_clone, tmp_path):
    _, bare = remote_clone
    (a, nb_a), (b, nb_b) = _two_versions(bare, tmp_path)
    older = _commit_at(a, nb_a, nb_a.parent / "only-a.txt", int(time.time()) - 60)
    git(a, "push", "-q", "origin", "main")
    table, blob = _with_a_blob(nb_b.parent, 2)
    proc = n2a("publish", nb_b, "--repo", b, "--owner", "jane", "--include", table, "--push", "--json")
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert result["revision"] == remote_head(bare) and git(bare, "rev-parse", "main~1").strip() == older
    pushed = _blob_paths(bare, "main")
    assert pushed and all(p == blob for p in pushed)  # B's blob went with B's version
    assert app_tree(bare, "main") == app_tree(b, "HEAD@{1}")
    assert "blobs.json" in app_tree(bare, "main")


def test_same_app_from_two_clones_at_the_same_moment_ends_whole(remote_clone, tmp_path):
    """Both pushes are held by a barrier and released together: whoever wins, the remote serves
    one version whole, and what each publisher is told matches it."""
    from gitfaults import hook_barrier

    _, bare = remote_clone
    (a, nb_a), (b, nb_b) = _two_versions(bare, tmp_path)
    hook_barrier(bare, 2)
    procs = {
        name: start_n2a(
            "publish",
            nb,
            "--repo",
            repo,
            "--owner",
            "jane",
            "--include",
            nb.parent / f"only-{name}.txt",
            "--push",
            "--json",
            env=dict(os.environ),
        )
        for name, repo, nb in (("a", a, nb_a), ("b", b, nb_b))
    }
    reports = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode in (0, EXIT_SUPERSEDED), err
        reports[name] = (proc.returncode, last_json(out))
    files = app_tree(bare, "main")
    live = [name for name in "ab" if f"only-{name}.txt" in files]
    assert len(live) == 1, files  # one version, never a mix of both
    winner, loser = live[0], "b" if live[0] == "a" else "a"
    app_py = git(bare, "show", f"main:apps/{APP}/src/app.py")
    assert f"Version {winner.upper()}" in app_py and f"Version {loser.upper()}" not in app_py
    assert reports[winner][0] == 0
    last = git(bare, "log", "-1", "--format=%H", "main", "--", f"apps/{APP}").strip()
    assert reports[winner][1]["commit"] == last
    code, body = reports[loser]
    if code == EXIT_SUPERSEDED:  # it came second and was older: told by what, and kept
        assert body["superseded_by"]["sha"] == last
        loser_clone = a if loser == "a" else b
        assert git(loser_clone, "rev-parse", body["kept_as"]).strip() == body["commit"]
    else:  # it landed first and the newer one replaced it, whole
        assert any("replaced" in n for n in reports[winner][1]["notes"])


# -- killed half-way ------------------------------------------------------------------------------


def _stall_env(tmp_path, step: str) -> tuple[dict, object]:
    mark = tmp_path / f"stalled-{step}"
    env = {
        **os.environ,
        "GIT_PYTHON_GIT_EXECUTABLE": str(stalling_git(tmp_path)),
        "N2A_TEST_STALL": step,
        "N2A_TEST_MARK": str(mark),
    }
    return env, mark


def test_publish_killed_between_writing_and_committing_is_recovered(remote_clone, tmp_path):
    work, bare = remote_clone
    paths = make_user_work(work)
    before = user_state(work, paths)
    nb = notebook(tmp_path / "nb")
    env, mark = _stall_env(tmp_path, "write-tree")
    kill_when_stalled(start_n2a("publish", nb, "--repo", work, "--owner", "jane", "--push", env=env), mark)
    # What SIGKILL left: the app's files written but not committed, the temporary index, the journal.
    start = head(work)
    assert (work / f"apps/{APP}/kustomization.yaml").exists()
    assert git(work, "log", "-1", "--format=%s").strip() != f"publish {APP} from greeter.ipynb"
    assert list((work / ".git").glob("n2a-index-*")) and (work / ".git" / "n2a-journal.json").exists()

    proc = publish(nb, work, "--push")
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert any("interrupted" in w for w in result["warnings"]) and "interrupted" in proc.stderr
    assert not list((work / ".git").glob("n2a-index-*")) and not (work / ".git" / "n2a-journal.json").exists()
    assert git(work, "rev-parse", "HEAD~1").strip() == start and head(work) == remote_head(bare)
    assert git(work, "show", "--name-only", "--format=", "HEAD").split() == sorted(
        git(work, "ls-tree", "-r", "--name-only", "HEAD", "--", f"apps/{APP}", f"argocd/apps/{APP}.yaml").split()
    )
    assert user_state(work, paths) == before


def test_interrupted_write_edited_since_is_not_thrown_away(remote_clone, tmp_path):
    work, _ = remote_clone
    nb = notebook(tmp_path / "nb")
    env, mark = _stall_env(tmp_path, "write-tree")
    kill_when_stalled(start_n2a("publish", nb, "--repo", work, "--owner", "jane", env=env), mark)
    (work / f"apps/{APP}/kustomization.yaml").write_text("# my own edit after the crash\n")
    before = snapshot(work)
    proc = publish(nb, work)
    body = one_error(proc, EXIT_FAILURE)
    assert "interrupted" in body["error"] and f"apps/{APP}/kustomization.yaml" in body["error"]
    assert f"checkout HEAD -- apps/{APP}" in body["fix"] and "commit" in body["fix"]
    assert snapshot(work) == before
    # Following the fix (dropping the leftovers) lets the next publish through.
    git(work, "checkout", "HEAD", "--", ".")
    git(work, "clean", "-fdq", "--", f"apps/{APP}", f"argocd/apps/{APP}.yaml")
    assert publish(nb, work).returncode == 0


def test_publish_killed_after_its_push_before_the_clone_followed(remote_clone, tmp_path):
    work, bare = remote_clone
    other = clone(bare, tmp_path / "other")
    commit_file(other, "docs/moves.md", "first\n", "docs", push=True)  # forces a replay, then a move
    nb = notebook(tmp_path / "nb")
    env, mark = _stall_env(tmp_path, "read-tree")
    kill_when_stalled(start_n2a("publish", nb, "--repo", work, "--owner", "jane", "--push", env=env), mark)
    pushed = remote_head(bare)
    assert git(bare, "log", "-1", "--format=%s", "main").strip() == f"publish {APP} from greeter.ipynb"
    assert head(work) != pushed and (work / ".git" / "n2a-journal.json").exists()

    second = notebook(tmp_path / "nb2", "Second")
    proc = n2a("publish", second, "--repo", work, "--owner", "jane", "--name", "second", "--push", "--json")
    assert proc.returncode == 0, proc.stderr
    assert any("interrupted" in w for w in last_json(proc.stdout)["warnings"])
    assert head(work) == remote_head(bare) and git(work, "rev-parse", "HEAD~1").strip() == pushed
    log = git(bare, "log", "--format=%s", "main")
    assert log.count(f"publish {APP} ") == 1 and log.count("publish second-jane ") == 1
    assert git(work, "status", "--porcelain") == ""


# -- one clone, several publishers ----------------------------------------------------------------


def test_the_clone_lock_makes_a_second_publish_wait_then_give_up(remote_clone, tmp_path):
    from n2a_gitops.gitrepo.lock import RepoLock

    work, bare = remote_clone
    nb = notebook(tmp_path / "nb")
    with RepoLock(work / ".git", 5):
        before = snapshot(work)
        proc = publish(nb, work, "--push", "--push-timeout", "1")
        body = one_error(proc, 10)
        assert f"pid {os.getpid()}" in body["error"]
        assert snapshot(work) == before
    assert publish(nb, work, "--push").returncode == 0


def test_concurrent_publishes_in_one_clone_are_serialised(remote_clone, tmp_path):
    """Three publishes (two tabs and the magic, say) in one clone at once: each waits its turn;
    every commit lands, the index stays sound, the user's work stays as it was."""
    work, bare = remote_clone
    paths = make_user_work(work)
    before = user_state(work, paths)
    procs = [
        start_n2a(
            "publish",
            notebook(tmp_path / f"nb{i}", f"tab {i}"),
            "--repo",
            work,
            "--owner",
            "jane",
            "--name",
            f"tab{i}",
            "--push",
            "--json",
            env=dict(os.environ),
        )
        for i in range(3)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(last_json(out))
    log = git(bare, "log", "--format=%s", "main")
    for i in range(3):
        assert log.count(f"publish tab{i}-jane ") == 1
    assert {r["commit"] for r in results} <= set(git(bare, "rev-list", "main").split())
    assert head(work) == remote_head(bare)
    git(work, "fsck", "--no-progress")
    assert user_state(work, paths) == before
    status = git(work, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert sorted(status) == sorted(before["status"].splitlines())
