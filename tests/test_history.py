"""Run history you can read: `runs` and `explain` on Jira Cloud and ZenTao simulators,
what a failed run records, and the state store's migration to it."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml
from tests.test_zentao_cli import zentao_config, zentao_sim  # noqa: F401 (fixture)

NOW = "2026-11-20T16:00:00Z"


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_runs_lists_outcome_counts_cost_and_team_state_on_cloud(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    assert cli("plan", "--config", config, "--now", NOW).exit_code == 0
    assert cli("sync", "--config", config, "--now", NOW).exit_code == 0
    bad = demo_config(sim.url, "s.sqlite", jira={"email": "intruder@example.com"})
    assert cli("sync", "--config", str(write_toml(tmp_path / "bad.toml", bad))).exit_code == 3

    doc = json.loads(cli("runs", "--json", "--config", config).stdout)
    failed, synced = doc["runs"]  # a dry run writes nothing to the state file
    assert synced["counts"]["applied"] == 40 and synced["requests"] > 0
    assert synced["duration_seconds"] > 0 and synced["started_at"].endswith("+00:00")
    assert synced["health"] == {"healthy": 136, "at-risk": 10, "off-track": 10}
    assert synced["families"]["redline"] == 6
    assert synced["goals"] == {"Release 1.4": "at-risk", "Beta": "on-track"}
    assert synced["team"]["bottleneck"] == "build"
    # A run the tracker failed still says what it cost and why it failed.
    assert failed["outcome"] == "failed" and "HTTP 401" in failed["error"]
    assert failed["requests"] is not None and failed["duration_seconds"] is not None

    assert len(json.loads(cli("runs", "--json", "--last", "1", "--config", config).stdout)
               ["runs"]) == 1  # fmt: skip
    text = cli("runs", "--config", config).stdout.splitlines()
    assert text[0].split()[:4] == ["run", "started", "mode", "outcome"]
    assert len([line for line in text if " sync ok " in line]) == 1
    assert any("error:" in line and "HTTP 401" in line for line in text)
    assert any("goals: Release 1.4 at-risk · Beta on-track" in line for line in text)


def test_explain_shows_timeline_findings_evidence_and_last_writes_on_cloud(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    before = cli("explain", "APP-108", "--config", config, "--now", NOW)
    assert before.exit_code == 0, before.output
    assert "No sync has written to this issue yet." in before.stdout
    assert cli("sync", "--config", config, "--now", NOW).exit_code == 0
    sim.reset_counts()
    text = cli("explain", "APP-108", "--config", config, "--now", NOW).stdout
    assert not any(method in ("PUT", "DELETE") for method, _ in sim.requests)  # reads only
    assert "Health as of 2026-11-20 16:00 UTC: off-track (2 findings)" in text
    timeline = text.split("Timeline\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert timeline[0].split() == ["status", "step", "entered", "business", "days"]
    assert timeline[-1].split()[:2] == ["Code", "Review"] and timeline[-1].endswith("(now)")
    assert "review" in timeline[-1] and "6.2 days" in timeline[-1]
    assert "[critical] stuck/not-moving: not moving: in review since 2026-11-12" in text
    assert "made of: stalled/time-in-step, aging/older-than-p95, stale/no-update" in text
    assert "threshold set by: workflow.steps[1].limit_days" in text
    assert "[warn] goal/must-finish:" in text
    assert "Last sync that wrote to it: run 1" in text
    assert "labels +chase-off-track" in text and "comment.create — done" in text

    doc = json.loads(cli("explain", "app-108", "--json", "--config", config, "--now", NOW).stdout)
    assert doc["key"] == "APP-108" and doc["health"] == "off-track"
    assert doc["timeline"][-1]["step"] == "review" and doc["timeline"][-1]["left"] is None
    assert {f["family"] for f in doc["findings"]} == {"stuck", "goal"}
    assert next(f for f in doc["findings"] if f["family"] == "stuck")["parts"] == [
        "stalled/time-in-step",
        "aging/older-than-p95",
        "stale/no-update",
    ]
    assert all(f["evidence"] for f in doc["findings"])
    assert {w["kind"] for w in doc["last_sync"]["writes"]} == {"labels", "comment.create"}

    missing = CliRunner().invoke(main, ["explain", "NOPE-1", "--config", config])
    assert missing.exit_code == 2
    assert "explain: NOPE-1 is not in the scope" in missing.stderr


def test_explain_shows_a_hygiene_finding_with_its_evidence(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    text = cli("explain", "APP-153", "--config", config, "--now", NOW).stdout
    # Hygiene is the team's to act on: a note, not a finding on the issue.
    assert "Health as of 2026-11-20 16:00 UTC: healthy (0 findings)" in text
    notes = text.split("Notes for the team (no label, not in the issue's comment)\n", 1)[1]
    assert "[warn] hygiene/backward-moves: moved backwards in the step order 3 times" in notes
    assert "threshold set by: hygiene.max_backward_moves" in notes
    doc = json.loads(cli("explain", "APP-156", "--json", "--config", config, "--now", NOW).stdout)
    assert doc["findings"] == []
    (finding,) = doc["notes"]
    assert (finding["family"], finding["rule"]) == ("hygiene", "resolution")
    assert finding["evidence"] == {"status": "To Do", "resolution": "Done"}


def test_runs_and_explain_on_zentao(tmp_path, zentao_sim):  # noqa: F811
    sim = zentao_sim()
    config = str(write_toml(tmp_path / "z.toml", zentao_config(sim.url, "s.sqlite")))
    synced = json.loads(cli("sync", "--config", config, "--now", NOW, "--json").stdout)
    assert synced["failed"] == []
    (run,) = json.loads(cli("runs", "--json", "--config", config).stdout)["runs"]
    assert run["mode"] == "sync" and run["outcome"] == "ok"
    assert run["counts"]["applied"] == len(synced["applied"]) and run["requests"] > 0
    assert run["health"]["off-track"] + run["health"]["at-risk"] == synced["summary"]["unhealthy"]

    task = next(i for i in synced["issues"] if i["key"].startswith("task-"))
    doc = json.loads(cli("explain", task["key"], "--json", "--config", config, "--now",
                         NOW).stdout)  # fmt: skip
    assert doc["health"] == task["health"]
    assert [f["rule"] for f in doc["findings"]] == [f["rule"] for f in task["findings"]]
    assert doc["timeline"][-1]["status"] == task["status"]
    # A task carries no keywords: the last sync wrote its managed comment only.
    assert [w["kind"] for w in doc["last_sync"]["writes"]] == ["comment.create"]
    text = cli("explain", task["key"], "--config", config, "--now", NOW).stdout
    assert text.startswith(f"{task['key']} ") and "comment.create — done" in text


def test_an_interrupted_sync_records_what_it_got_through(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from jira_chase.simulator import JiraSimulator

    with JiraSimulator(build_demo_dataset(), latency=0.02) as sim:
        config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "jira_chase", "sync", "--quiet", "--config",
             str(config), "--now", NOW],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if sum(1 for m, p in sim.requests if m == "POST" and p.endswith("/comment")) >= 5:
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.005)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; the next run finishes the job" in err
    (run,) = json.loads(cli("runs", "--json", "--config", str(config)).stdout)["runs"]
    assert run["outcome"] == "interrupted" and run["counts"]["issues"] == 156
    assert (
        run["counts"]["applied"] >= 5 and run["counts"]["planned"] == 40 > run["counts"]["applied"]
    )
    assert run["requests"] > 0 and run["duration_seconds"] > 0
