"""The CLI end to end: real simulator, real sockets, real SQLite, as a user runs it."""

import json

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.store.state import StateStore
from tests.factories import demo_config, demo_flagged, write_toml

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
    assert "chase-stuck" in demo_sim.labels("APP-139")
    # As of Tuesday noon APP-139 had entered review only hours before: no longer stuck
    # (only pulled into a full review), so the stuck label written for Friday's state
    # comes off.
    result = cli("sync", "--config", str(config_file), "--now", "2026-11-17T12:00:00Z", "--json")
    doc = json.loads(result.stdout)
    removed = {op["issue"] for op in doc["applied"] if op["remove"]}
    assert "APP-139" in removed
    ours = [lbl for lbl in demo_sim.labels("APP-139") if lbl.startswith("chase-")]
    assert "chase-stuck" not in ours and ours == ["chase-at-risk", "chase-habits"]


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
        assert sync_run.applied == sync_run.planned == 2 * len(demo_flagged())
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


def test_budget_defers_the_rest_to_the_next_run(tmp_path, demo_sim):
    data = demo_config(demo_sim.url, "s.sqlite", writeback={"max_writes": 5})
    config = str(write_toml(tmp_path / "c.toml", data))
    first = json.loads(cli("sync", "--config", config, "--now", NOW, "--json").stdout)
    assert len(first["applied"]) == 5 and len(first["deferred"]) == 2 * len(demo_flagged()) - 5
    assert all(op["severity"] == "critical" for op in first["applied"][:4])
    second = json.loads(cli("sync", "--config", config, "--now", NOW, "--json").stdout)
    assert [op["issue"] for op in second["applied"]] == [op["issue"] for op in first["deferred"]][
        :5
    ]


def test_runs_in_an_empty_directory_creates_no_state_file(tmp_path):
    config = write_toml(tmp_path / "c.toml", demo_config("http://127.0.0.1:9", "s.sqlite"))
    result = CliRunner().invoke(main, ["runs", "--config", str(config)])
    assert result.exit_code == 0, result.output + result.stderr
    assert not (tmp_path / "s.sqlite").exists()


def test_every_exit_code_is_documented_also_130():
    result = CliRunner().invoke(main, ["--help"])
    assert "130  interrupted" in result.output
