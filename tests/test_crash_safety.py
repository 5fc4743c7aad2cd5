"""Kill `jira-chase sync` at random moments; a clean rerun must converge exactly.

The simulator runs in this process; each sync runs as a real subprocess and is killed
with SIGKILL right after the simulator has served a randomly chosen request, so the
kill points spread over the whole run: before any write, between a write and its
record in the state store, between writes.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator import JiraSimulator
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
KILL_POINTS = 50


def tracker_state(sim, keys):
    """Every issue's labels, and the bot's comments with their tag, as a manager sees it."""
    state = {}
    for key in keys:
        comments = [
            (json.dumps(c["body"], sort_keys=True), json.dumps(unsealed(c), sort_keys=True))
            for c in sim.comments(key)
            if c["author"] == "u-bot"
        ]
        state[key] = (sorted(sim.labels(key)), sorted(comments))
    return state


def unsealed(comment):
    """A comment's properties without the seal's value: each state file has a secret
    of its own, so each run's seals differ; that there is one is what counts."""
    return {
        key: {**value, "seal": bool(value.get("seal"))} if isinstance(value, dict) else value
        for key, value in comment["properties"].items()
    }


def clean_sync(config):
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", NOW])
    assert result.exit_code == 0, result.output + result.stderr


def test_killed_syncs_converge_to_the_fault_free_result(tmp_path):
    keys = [issue["key"] for issue in build_demo_dataset()["issues"]]
    with JiraSimulator(build_demo_dataset()) as sim:
        config = write_toml(tmp_path / "ref.toml", demo_config(sim.url, "ref.sqlite"))
        clean_sync(config)
        expected = tracker_state(sim, keys)
        total_requests = sim.request_count

    rng = random.Random(20261120)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    killed_mid_run = 0
    for trial in range(KILL_POINTS):
        kill_after = rng.randint(0, total_requests)
        with JiraSimulator(build_demo_dataset()) as sim:
            config = write_toml(
                tmp_path / f"c{trial}.toml", demo_config(sim.url, f"s{trial}.sqlite")
            )
            proc = subprocess.Popen(
                [sys.executable, "-m", "jira_chase", "sync", "--config", str(config),
                 "--now", NOW],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if sim.request_count >= kill_after:
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.0005)
            if proc.wait(timeout=60) == -signal.SIGKILL:
                killed_mid_run += 1
            clean_sync(config)
            assert tracker_state(sim, keys) == expected, f"kill after request {kill_after}"
            # And the run after that has nothing left to do.
            rerun = CliRunner().invoke(
                main, ["plan", "--config", str(config), "--now", NOW, "--json"]
            )
            assert json.loads(rerun.stdout)["operations"] == []
    assert killed_mid_run >= KILL_POINTS * 0.8
