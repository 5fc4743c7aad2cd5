"""Safe to leave running: one run at a time, duplicates collapse, nothing outlives the
scope, a collapsed scope is not believed, and the state file fails loudly and cleanly.

Real simulator, real sockets, real SQLite, real processes where concurrency matters.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
import requests
from click.testing import CliRunner
from filelock import FileLock

from jira_chase.cli.commands import main
from jira_chase.engine.comment import FORMAT_VERSION, PROPERTY_KEY
from jira_chase.simulator import JiraSimulator
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.store.state import StateStore
from tests.factories import demo_config, demo_flagged, write_toml
from tests.test_crash_safety import tracker_state

NOW = "2026-11-20T16:00:00Z"
LATER = "2026-11-20T16:30:00Z"
ROUNDS = 20


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def sync(config, *extra, now=NOW):
    result = invoke("sync", "--config", str(config), "--now", now, "--json", *extra)
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def writes(sim):
    """The requests that change something (Cloud searches are POSTs too)."""
    reads = ("/search/jql", "/changelog/bulkfetch", "/search")
    return [(m, p) for m, p in sim.requests
            if m in ("PUT", "POST", "DELETE") and not p.split("?")[0].endswith(reads)]  # fmt: skip


def bot_comments(sim, key):
    return [c for c in sim.comments(key) if c["author"] == "u-bot"]


def ours(sim, key):
    return [label for label in sim.labels(key) if label.startswith("chase-")]


@pytest.fixture
def demo_sim(jira_sim):
    return jira_sim(build_demo_dataset())


def config_for(tmp_path, sim, name="c.toml", state="s.sqlite", **overrides):
    return write_toml(tmp_path / name, demo_config(sim.url, state, **overrides))


# -- one run at a time -------------------------------------------------------------------


def test_two_syncs_started_together_end_as_one_run_would(tmp_path):
    keys = [issue["key"] for issue in build_demo_dataset()["issues"]]
    with JiraSimulator(build_demo_dataset()) as sim:
        sync(config_for(tmp_path, sim, "ref.toml", "ref.sqlite"))
        expected = tracker_state(sim, keys)
    rng = random.Random(20261130)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    codes: list[int] = []
    for trial in range(ROUNDS):
        with JiraSimulator(build_demo_dataset()) as sim:
            config = config_for(tmp_path, sim, f"c{trial}.toml", f"s{trial}.sqlite")
            procs = []
            for _ in range(2):
                wait = ["--wait", "60"] if rng.random() < 0.5 else []
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "jira_chase",
                            "sync",
                            "--config",
                            str(config),
                            "--now",
                            NOW,
                            *wait,
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        env=env,
                        text=True,
                    )  # fmt: skip
                )
                time.sleep(rng.uniform(0, 0.3))
            results = [(proc.wait(timeout=120), proc.stderr.read()) for proc in procs]
            for proc in procs:
                proc.stderr.close()
            for code, err in results:
                assert code in (0, 5), err
                if code == 5:
                    assert "another jira-chase run is active" in err
            assert 0 in [code for code, _ in results]
            codes += [code for code, _ in results]
            assert tracker_state(sim, keys) == expected, f"round {trial}"
            for key in demo_flagged():
                assert len(bot_comments(sim, key)) == 1
    assert 5 in codes  # the rounds did overlap


def test_a_held_lock_makes_sync_exit_5_without_writing_and_wait_outlasts_it(tmp_path, demo_sim):
    config = config_for(tmp_path, demo_sim)
    lock = FileLock(str(tmp_path / "s.sqlite.lock"), thread_local=False)
    with lock:
        result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", NOW])
        assert result.exit_code == 5
        assert "state.path" in result.stderr and "--wait" in result.stderr
        assert not demo_sim.requests
        assert not (tmp_path / "s.sqlite").exists()
        # A dry run needs no lock.
        assert invoke("plan", "--config", str(config), "--now", NOW).exit_code == 0
    lock.acquire()
    release = threading.Timer(0.5, lock.release)
    release.start()
    doc = sync(config, "--wait", "10")
    release.join()
    assert doc["summary"]["applied"] > 0


# -- duplicates collapse -----------------------------------------------------------------


def post_tagged_bot_comment(sim, key, text, deployment):
    http = requests.Session()
    if deployment == "cloud":
        http.auth = ("chase-bot@example.com", "demo-token")
        body = {
            "body": {"type": "doc", "version": 1,
                     "content": [{"type": "paragraph", "content": [{"type": "text",
                                                                   "text": text}]}]},
            "properties": [{"key": PROPERTY_KEY,
                            "value": {"version": FORMAT_VERSION, "digest": "old"}}],
        }  # fmt: skip
        url = f"{sim.url}/rest/api/3/issue/{key}/comment"
    else:
        http.headers["Authorization"] = "Bearer demo-token"
        body = {"body": "{anchor:jira-chase-1-old}" + text}
        url = f"{sim.url}/rest/api/2/issue/{key}/comment"
    response = http.post(url, json=body, timeout=10)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_two_tagged_bot_comments_collapse_into_one(tmp_path, jira_sim, deployment):
    sim = jira_sim(build_demo_dataset(), deployment=deployment)
    for text in ("first copy", "second copy"):
        post_tagged_bot_comment(sim, "APP-108", text, deployment)
    data = demo_config(sim.url, "s.sqlite")
    if deployment == "datacenter":
        data["jira"].update({"deployment": "datacenter", "email": ""})
    config = write_toml(tmp_path / "c.toml", data)
    first = bot_comments(sim, "APP-108")[0]["id"]
    doc = sync(config)
    (left,) = bot_comments(sim, "APP-108")
    assert left["id"] == first  # the oldest stays and is brought up to date
    assert "first copy" not in json.dumps(left["body"])
    assert doc["summary"]["applied"] > 0
    assert sync(config)["operations"] == []


# -- nothing outlives the scope ----------------------------------------------------------


NARROW = "project = APP AND key != APP-108 ORDER BY key"


@pytest.mark.parametrize("lose_state", [False, True])
@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_an_issue_that_left_the_scope_loses_our_labels(tmp_path, jira_sim, deployment, lose_state):
    sim = jira_sim(build_demo_dataset(), deployment=deployment)

    def config(scope):
        data = demo_config(sim.url, "s.sqlite", jira={"scope": scope})
        if deployment == "datacenter":
            data["jira"].update({"deployment": "datacenter", "email": ""})
        return write_toml(tmp_path / "c.toml", data)

    sync(config("project = APP ORDER BY key"))
    assert ours(sim, "APP-108") and bot_comments(sim, "APP-108")
    foreign = [label for label in sim.labels("APP-108") if not label.startswith("chase-")]
    if lose_state:
        (tmp_path / "s.sqlite").unlink()
    doc = sync(config(NARROW), now=LATER)
    assert ours(sim, "APP-108") == []
    assert [label for label in sim.labels("APP-108") if label not in foreign] == []
    (comment,) = bot_comments(sim, "APP-108")
    assert "left the scope" in json.dumps(comment["body"])
    assert any(op["issue"] == "APP-108" and op["reason"] == "left the scope"
               for op in doc["applied"])  # fmt: skip
    assert sync(config(NARROW), now=LATER)["operations"] == []


def test_blocking_label_comes_off_after_a_lost_state_once_the_block_ends(tmp_path, demo_sim):
    config = config_for(tmp_path, demo_sim, cooperation={"label_blockers": True})
    sync(config)
    assert "chase-blocking" in demo_sim.labels("OPS-24")
    (tmp_path / "s.sqlite").unlink()
    demo_sim.move("OPS-24", "Done", "u-emeka")
    doc = sync(config, now=LATER)
    assert "chase-blocking" not in demo_sim.labels("OPS-24")
    assert any(op["issue"] == "OPS-24" and op["remove"] == ["chase-blocking"]
               for op in doc["applied"])  # fmt: skip


def test_a_collapsed_scope_is_not_believed_until_forced(tmp_path, demo_sim):
    sync(config_for(tmp_path, demo_sim))
    empty = config_for(tmp_path, demo_sim, jira={"scope": "project = APP AND key = APP-1"})
    before = len(writes(demo_sim))
    result = CliRunner().invoke(main, ["sync", "--config", str(empty), "--now", NOW])
    assert result.exit_code == 3
    (line,) = result.stderr.strip().splitlines()
    assert "--force" in line and "jira.scope" in line and "nothing was written" in line
    assert len(writes(demo_sim)) == before
    assert ours(demo_sim, "APP-108")
    doc = sync(empty, "--force")
    assert ours(demo_sim, "APP-108") == [] and doc["summary"]["failed"] == 0


# -- the state file ----------------------------------------------------------------------


def test_a_state_file_is_refused_against_another_tracker(tmp_path, demo_sim):
    config = config_for(tmp_path, demo_sim)
    sync(config)
    with JiraSimulator(build_demo_dataset()) as other:
        moved = config_for(tmp_path, other, "moved.toml")
        result = CliRunner().invoke(main, ["sync", "--config", str(moved), "--now", NOW])
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert "state.path" in line and "another tracker" in line and other.url.casefold() in line
        assert not writes(other)


@pytest.mark.parametrize("damage", ["garbage", "directory", "truncated"])
def test_a_broken_state_file_exits_2_naming_state_path(tmp_path, demo_sim, damage):
    config = config_for(tmp_path, demo_sim)
    state = tmp_path / "s.sqlite"
    if damage == "garbage":
        state.write_bytes(b"this is not a database at all\n" * 200)
    elif damage == "directory":
        state.mkdir()
    else:
        sync(config)
        (tmp_path / "s.sqlite-wal").unlink(missing_ok=True)
        state.write_bytes(state.read_bytes()[:1500])
    for command in ("plan", "sync"):
        result = CliRunner().invoke(main, [command, "--config", str(config), "--now", NOW])
        assert result.exit_code == 2, (command, result.output, result.stderr)
        (line,) = result.stderr.strip().splitlines()
        assert "state.path" in line and str(state) in line and "move it aside" in line


@contextmanager
def read_only(path):
    """A file the process cannot write: mode 0444, and for root (who writes anyway) the
    immutable attribute."""
    os.chmod(path, 0o444)
    immutable = os.geteuid() == 0
    if immutable and subprocess.run(["chattr", "+i", str(path)], check=False).returncode:
        pytest.skip("root cannot make a file read-only here (no chattr +i)")
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        os.chmod(path, 0o644)


def test_a_read_only_state_file_exits_2(tmp_path, demo_sim):
    config = config_for(tmp_path, demo_sim)
    sync(config)
    with StateStore(tmp_path / "s.sqlite"):
        pass  # checkpoint: everything is in the main file now
    with read_only(tmp_path / "s.sqlite"):
        result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", LATER])
        assert result.exit_code == 2, result.output + result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "state.path" in line and "readonly" in line and "move it aside" in line
        assert invoke("plan", "--config", str(config), "--now", LATER).exit_code == 0


def test_an_interrupted_sync_records_the_writes_it_made(tmp_path):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with JiraSimulator(build_demo_dataset(), latency=0.05) as sim:
        config = config_for(tmp_path, sim)
        proc = subprocess.Popen(
            [sys.executable, "-m", "jira_chase", "sync", "--config", str(config),
             "--now", NOW],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(1 for m, p in sim.requests if m == "POST" and p.endswith("/comment")) >= 3:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
        assert "interrupted" in proc.stderr.read()
        proc.stderr.close()
        with StateStore(tmp_path / "s.sqlite") as store:
            (record,) = store.runs()
            done = [op for op in store.operations(record.id) if op["status"] == "done"]
            assert record.outcome == "interrupted" and record.applied == len(done) >= 3
        # The next run finishes the job with nothing duplicated.
        sync(config)
        for key in demo_flagged():
            assert len(bot_comments(sim, key)) == 1


def test_zentao_items_of_a_product_dropped_from_the_scope_lose_our_keywords(tmp_path):
    from jira_chase.simulator.zentao import ZenTaoSimulator
    from tests.test_zentao_cli import zentao_config

    def config(products):
        data = zentao_config(sim.url, "s.sqlite", zentao={"products": products,
                                                          "executions": products})  # fmt: skip
        return write_toml(tmp_path / "c.toml", data)

    with ZenTaoSimulator(build_demo_dataset()) as sim:
        doc = sync(config([1, 2]))
        keys = [issue["key"] for issue in doc["issues"]]
        ops_team = [key for key in keys if sim.dataset_key(key).startswith("OPS-")]
        labelled = [key for key in ops_team if ours(sim, key)]
        commented = [key for key in ops_team
                     if any(c["actor"] == "chase_bot" for c in sim.comments(key))]  # fmt: skip
        assert any(key.startswith("bug-") for key in labelled)
        assert any(key.startswith("task-") for key in commented)
        sync(config([1]), now=LATER)
        assert [key for key in ops_team if ours(sim, key)] == []
        for key in commented:
            (remark,) = [c for c in sim.comments(key) if c["actor"] == "chase_bot"]
            assert "left the scope" in remark["comment"]
        assert sync(config([1]), now=LATER)["operations"] == []
