"""The CLI end to end: real simulator, real sockets, real SQLite, as a user runs it."""

import json

import pytest
from click.testing import CliRunner

from jira_chase.cli import main
from jira_chase.simulator.demo import DEMO_PLANTED, build_demo_dataset
from jira_chase.state import StateStore
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"


def cli(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def demo_sim(jira_sim):
    return jira_sim(build_demo_dataset())


@pytest.fixture
def config_file(tmp_path, demo_sim):
    return write_toml(tmp_path / "chase.toml", demo_config(demo_sim.url, "state.sqlite"))


def foreign_labels(sim, keys):
    return {key: [lbl for lbl in sim.labels(key) if not lbl.startswith("chase-")] for key in keys}


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_demo_flags_exactly_the_planted_problems_and_writes_them(deployment):
    result = cli("demo", "--json", "--deployment", deployment)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    flagged = {i["key"]: {f["family"] for f in i["findings"]} for i in doc["plan"]["issues"]}
    assert flagged == {key: set(families) for key, families in DEMO_PLANTED.items()}
    assert set(doc["labels_in_tracker"]) == set(DEMO_PLANTED)
    # A label change and a managed comment per unhealthy issue.
    assert doc["sync"]["summary"]["applied"] == 2 * len(DEMO_PLANTED)
    assert doc["second_sync"]["operations"] == []
    assert doc["second_sync"]["summary"]["applied"] == 0
    # every finding can be checked: the setting behind it and its evidence
    for issue in doc["plan"]["issues"]:
        for finding in issue["findings"]:
            assert finding["config_key"] and finding["evidence"], (issue["key"], finding)
    team = doc["plan"]["team"]
    release, beta = team["goals"]
    assert (release["name"], release["status"], beta["status"]) == ("Release 1.4", "at-risk",
                                                                      "on-track")  # fmt: skip
    assert release["checkpoints"][0]["forecast_p85"] and release["planned_today"] > 0.75
    assert {s["name"]: s["wip"] for s in team["steps"]} == {"build": 7, "review": 7, "test": 3}
    assert team["bottleneck"]["step"] == "build"
    assert team["metrics"]["cycle_time_days"]["p85"] > 4
    assert {f["rule"] for f in team["findings"]} == {
        "wip-limit",
        "checkpoint-at-risk",
        "cycle-time-p85",
    }


def test_demo_text_names_the_findings():
    result = cli("demo")
    assert result.exit_code == 0
    assert "APP-108" in result.output and "Second sync over unchanged data: 0" in result.output
    assert "bottleneck: build" in result.output
    assert "Release 1.4 [at-risk]" in result.output and "forecast p85" in result.output
    assert "note: set but not acted on" not in result.stderr
    # The demo bot does not administer APP: its label writes there notify watchers.
    assert "label writes could not be silent and notified watchers (APP " in result.output


def test_demo_shows_the_managed_comment_and_findings_by_severity_in_plain_words():
    text = cli("demo").stdout
    findings = text.split("Findings (most severe first, then the oldest issue)\n", 1)[1]
    findings = findings.split("\n\n", 1)[0].splitlines()
    severities = [line.split()[1] for line in findings]
    assert severities == sorted(severities)  # every critical before any warn
    assert "critical" in severities and "warn" in severities
    assert "reopened twice, at most once allowed" in text
    assert "due date is not set (priority Highest)" in text and "duedate" not in text
    comment = text.split("as the team reads it there:\n\n", 1)[1].split("\n\n", 1)[0]
    lines = comment.splitlines()
    assert lines[0].startswith("  | jira-chase: APP-108 ") and "(4 findings)" in lines[0]
    assert any("threshold set by: workflow.steps[1].limit_days" in line for line in lines)
    assert lines[-1].startswith("  | As of 2026-11-20 16:00 UTC.")


def test_plan_is_exactly_what_sync_performs(config_file, demo_sim):
    keys = [i["key"] for i in build_demo_dataset()["issues"]]
    before = foreign_labels(demo_sim, keys)
    planned = json.loads(cli("plan", "--config", str(config_file), "--now", NOW, "--json").stdout)
    assert demo_sim.labels("APP-108") == ["customer"]  # the dry run wrote nothing
    synced = cli("sync", "--config", str(config_file), "--now", NOW, "--json")
    assert synced.exit_code == 0
    doc = json.loads(synced.stdout)
    assert doc["applied"] == planned["operations"] and doc["failed"] == []
    for op in doc["applied"]:
        assert set(op["add"]) <= set(demo_sim.labels(op["issue"]))
    assert foreign_labels(demo_sim, keys) == before
    demo_sim.reset_counts()
    again = json.loads(cli("sync", "--config", str(config_file), "--now", NOW, "--json").stdout)
    assert again["operations"] == [] and again["applied"] == []
    assert not any(method == "PUT" for method, _ in demo_sim.requests)


def test_recovered_issue_loses_its_labels(config_file, demo_sim):
    cli("sync", "--config", str(config_file), "--now", NOW)
    assert "chase-stalled" in demo_sim.labels("APP-139")
    # As of Tuesday noon APP-139 had entered review only hours before: healthy, so the
    # labels written for Friday's state are removed.
    result = cli("sync", "--config", str(config_file), "--now", "2026-11-17T12:00:00Z", "--json")
    doc = json.loads(result.stdout)
    removed = {op["issue"] for op in doc["applied"] if op["remove"]}
    assert "APP-139" in removed
    assert not [lbl for lbl in demo_sim.labels("APP-139") if lbl.startswith("chase-")]


def test_runs_are_recorded_in_the_state_store_and_a_dry_run_writes_nothing(config_file, tmp_path):
    cli("plan", "--config", str(config_file), "--now", NOW)
    assert not (tmp_path / "state.sqlite").exists()
    cli("sync", "--config", str(config_file), "--now", NOW)
    before = (tmp_path / "state.sqlite").read_bytes()
    assert cli("plan", "--config", str(config_file), "--now", NOW).exit_code == 0
    assert (tmp_path / "state.sqlite").read_bytes() == before
    with StateStore(tmp_path / "state.sqlite") as store:
        (sync_run,) = store.runs()
        assert (sync_run.mode, sync_run.outcome) == ("sync", "ok")
        assert sync_run.applied == sync_run.planned == 2 * len(DEMO_PLANTED)
        assert all(op["status"] == "done" for op in store.operations(sync_run.id))


def test_bad_jql_exits_3_with_one_line(tmp_path, demo_sim):
    data = demo_config(demo_sim.url, "s.sqlite", jira={"scope": "project = APP AND summary ~ x"})
    config = write_toml(tmp_path / "c.toml", data)
    for command in ("plan", "sync"):
        result = cli(command, "--config", str(config))
        assert result.exit_code == 3
        (line,) = result.stderr.strip().splitlines()
        assert "jira.scope" in line and "HTTP 400" in line
    with StateStore(tmp_path / "s.sqlite") as store:
        (run,) = store.runs()
        assert run.outcome == "failed" and "jira.scope" in (run.error or "")


def test_wrong_credentials_exit_3(tmp_path, demo_sim):
    data = demo_config(demo_sim.url, "s.sqlite", jira={"email": "intruder@example.com"})
    result = cli("sync", "--config", str(write_toml(tmp_path / "c.toml", data)))
    assert result.exit_code == 3
    assert "HTTP 401" in result.stderr and "demo-token" not in result.stderr + result.output


def test_config_problems_exit_2_naming_the_key(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('tracker = "jira"\n[jira]\nurl = "x"\nemail = "a"\nscope = "p"\nsecret = 1\n')
    result = cli("plan", "--config", str(bad))
    assert result.exit_code == 2
    assert "config error: jira.secret: unknown key" in result.stderr
    assert "config error: workflow: required key is missing" in result.stderr


def test_missing_config_and_bad_now_exit_2(config_file):
    assert cli("plan", env={"JIRA_CHASE_CONFIG": ""}).exit_code == 2
    result = cli("plan", "--config", str(config_file), "--now", "yesterday")
    assert result.exit_code == 2 and "--now" in result.stderr


def test_check_reports_tracker_and_scope(config_file):
    result = cli("check", "--config", str(config_file))
    assert result.exit_code == 0, result.stderr
    assert "signed in as chase-bot@example.com" in result.output
    matched = len([i for i in build_demo_dataset()["issues"] if i["project"] == "APP"])
    assert f"scope ok: the scope query is accepted and matches {matched} issues" in result.output


def test_budget_defers_the_rest_to_the_next_run(tmp_path, demo_sim):
    data = demo_config(demo_sim.url, "s.sqlite", writeback={"max_writes": 5})
    config = str(write_toml(tmp_path / "c.toml", data))
    first = json.loads(cli("sync", "--config", config, "--now", NOW, "--json").stdout)
    assert len(first["applied"]) == 5 and len(first["deferred"]) == 2 * len(DEMO_PLANTED) - 5
    assert all(op["severity"] == "critical" for op in first["applied"][:4])
    second = json.loads(cli("sync", "--config", config, "--now", NOW, "--json").stdout)
    assert [op["issue"] for op in second["applied"]] == [op["issue"] for op in first["deferred"]][
        :5
    ]


def test_simulator_command_serves_a_dataset_file(tmp_path):
    import subprocess
    import sys

    import requests

    path = tmp_path / "data.json"
    path.write_text(json.dumps(build_demo_dataset()))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jira_chase.cli",
            "simulator",
            "--dataset",
            str(path),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" at ")[1].strip()
        answer = requests.get(
            f"{url}/rest/api/3/myself", auth=("ann.lee@example.com", "x"), timeout=10
        )
        assert answer.status_code == 200 and answer.json()["displayName"] == "Ann Lee"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_simulator_rejects_a_bad_dataset_naming_the_issue(tmp_path):
    data = build_demo_dataset()
    data["issues"][0]["status"] = "Done" if data["issues"][0]["status"] != "Done" else "To Do"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    result = cli("simulator", "--dataset", str(path), "--port", "0")
    assert result.exit_code == 2
    assert data["issues"][0]["key"] in result.stderr
