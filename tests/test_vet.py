"""`jira-chase check` and the configuration checked against the tracker: every status
and resolution `[workflow]` names must exist there; what check says it read. Over real
sockets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tomllib

from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.zentao import ZenTaoSimulator
from tests.factories import demo_config, write_toml
from tests.test_cli import config_file, demo_sim  # noqa: F401 (fixtures)
from tests.test_tracker_checks import DC, NOW, cli
from tests.test_zentao_cli import zentao_config


def with_review_status(data: dict[str, Any], status: str) -> dict[str, Any]:
    data["workflow"]["steps"][1]["statuses"] = [status]
    return data


def test_check_names_a_misspelt_step_status_and_suggests_the_right_one(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    data = with_review_status(demo_config(sim.url, "s.sqlite"), "Code Reveiw")
    config = write_toml(tmp_path / "c.toml", data)
    result = cli("check", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "config error: workflow.steps[1].statuses: status 'Code Reveiw' does not exist in "
        "the jira tracker; did you mean 'Code Review'?"
    )
    assert "config ok" not in result.stdout


def test_sync_with_a_misspelt_done_status_writes_nothing(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    data = demo_config(sim.url, "s.sqlite")
    data["workflow"]["done"] = ["Donee"]
    config = write_toml(tmp_path / "c.toml", data)
    before = {i["key"]: sim.labels(i["key"]) for i in build_demo_dataset()["issues"]}
    result = cli("sync", "--config", str(config), "--now", NOW)
    assert result.exit_code == 2
    assert "workflow.done: status 'Donee' does not exist" in result.stderr
    assert "did you mean 'Done'?" in result.stderr
    # Stopped right after signing in: nothing searched, nothing written.
    assert {method for method, _ in sim.requests} == {"GET"}
    assert {key: sim.labels(key) for key in before} == before


def test_an_unknown_cancelled_resolution_is_named(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter")
    data = demo_config(sim.url, "s.sqlite", jira=DC)
    data["workflow"]["cancelled_resolutions"] = ["Wont Do"]
    result = cli("plan", "--config", str(write_toml(tmp_path / "c.toml", data)), "--now", NOW)
    assert result.exit_code == 2
    assert "workflow.cancelled_resolutions: resolution 'Wont Do' does not exist" in result.stderr
    assert 'did you mean "Won\'t Do"?' in result.stderr


def test_zentao_statuses_are_checked_per_type(tmp_path):
    with ZenTaoSimulator(build_demo_dataset()) as sim:
        data = zentao_config(sim.url, str(tmp_path / "z.sqlite"))
        data["workflow"]["steps"][0]["statuses"] = ["story:developng", "task:doing"]
        result = cli("check", "--config", str(write_toml(tmp_path / "z.toml", data)))
    assert result.exit_code == 2, result.output
    assert "workflow.steps[0].statuses: status 'story:developng' does not exist in the zentao" \
        in result.stderr  # fmt: skip
    assert "did you mean 'story:developing'" in result.stderr


def test_check_reads_the_scope_and_lists_statuses_no_step_names(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite"))
    result = cli("check", "--config", str(config), "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "workflow ok: every status named in [workflow] exists in the tracker" in result.stdout
    assert "scope read: 156 issues" in result.stdout
    # To Do is in Jira's "To Do" status category: the backlog, not an unmapped status.
    assert "warning: statuses in scope" not in result.stdout
    assert "no status history" not in result.stdout
    # Saying the backlog is empty makes To Do a status no step names again.
    data = demo_config(sim.url, "s.sqlite", workflow={"backlog": []})
    result = cli("check", "--config", str(write_toml(tmp_path / "b.toml", data)), "--now", NOW)
    assert ("warning: statuses in scope that no workflow step, done or cancelled status "
            "names: To Do (156)") in result.stdout  # fmt: skip


def test_the_example_config_names_statuses_the_demo_data_lacks_and_check_says_so(
    tmp_path, jira_sim
):
    sim = jira_sim(build_demo_dataset())
    data = tomllib.loads((Path(__file__).parent.parent / "config.example.toml").read_text())
    data["jira"].update({"url": sim.url, "token": "t", "scope": "project = APP"})
    data["state"]["path"] = str(tmp_path / "e.sqlite")
    result = cli("check", "--config", str(write_toml(tmp_path / "e.toml", data)))
    assert result.exit_code == 2
    problems = result.stderr.strip().splitlines()
    known = "Closed, Code Review, Done, In Progress, In QA, To Do"
    assert problems == [
        "config error: workflow.steps[3].statuses: status 'Ready for Release' does not exist "
        f"in the jira tracker; the tracker has: {known}",
        "config error: workflow.cancelled: status 'Cancelled' does not exist in the jira "
        f"tracker; the tracker has: {known}",
    ]


def test_a_backlog_status_the_tracker_lacks_is_named_and_one_in_a_step_is_refused(
    tmp_path, jira_sim
):
    sim = jira_sim(build_demo_dataset())
    data = demo_config(sim.url, "s.sqlite", workflow={"backlog": ["Backlog"]})
    result = cli("check", "--config", str(write_toml(tmp_path / "c.toml", data)))
    assert result.exit_code == 2
    assert "workflow.backlog: status 'Backlog' does not exist in the jira tracker" in (
        result.stderr
    )
    data = demo_config(sim.url, "s.sqlite", workflow={"backlog": ["In Progress"]})
    result = cli("check", "--config", str(write_toml(tmp_path / "d.toml", data)))
    assert result.exit_code == 2
    assert "backlog status 'In Progress' is also in step 'build'" in result.stderr


def test_check_says_when_the_tracker_gave_no_history(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), changelog=False)
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite"))
    result = cli("check", "--config", str(config), "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "warning: the tracker returned no change history for any issue in scope" in (
        result.stdout
    )
    assert "warning: 132 of 156 issues have no status history" in result.stdout


def test_check_as_json_carries_the_coverage(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), changelog=False)
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite"))
    result = cli("check", "--json", "--config", str(config), "--now", NOW)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["workflow"] == {"ok": True} and doc["issues_read"] == 156
    assert doc["coverage"]["no_history"] is True
    assert len(doc["coverage"]["unknown_history"]) == 132
    assert doc["warnings"][0].startswith("the tracker returned no change history")


def test_check_as_json(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    result = cli("check", "--json", "--config", config)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["tracker"]["user"] == "chase-bot@example.com" and doc["scope"] == {
        "ok": True,
        "matches": 156,
    }


def test_check_reports_tracker_and_scope(config_file):  # noqa: F811
    result = cli("check", "--config", str(config_file))
    assert result.exit_code == 0, result.stderr
    assert "signed in as chase-bot@example.com" in result.output
    matched = len([i for i in build_demo_dataset()["issues"] if i["project"] == "APP"])
    assert f"scope ok: the scope query is accepted and matches {matched} issues" in result.output
