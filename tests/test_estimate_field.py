"""Where estimates are read from: Jira's story-point field found by its type (or by
Jira Software's name, in any case), or named by `jira.estimate_field`; a goal counted
in estimates that has none is unknown, never met, and `check` says why."""

import json

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
PAT = "pat-0123456789"


def invoke(*args):
    return CliRunner().invoke(main, [*args])


def config(tmp_path, sim, deployment, **jira):
    access = (
        {"deployment": "datacenter", "email": "", "token": PAT} if deployment != "cloud" else {}
    )
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"), jira={**access, **jira})
    return write_toml(tmp_path / "c.toml", data)


def start(jira_sim, deployment, name):
    options = {"tokens": {PAT: "u-bot"}} if deployment != "cloud" else {}
    return jira_sim(build_demo_dataset(), deployment=deployment, estimate_field_name=name,
                    **options)  # fmt: skip


def beta(path):
    result = invoke("plan", "--config", str(path), "--now", NOW, "--json")
    assert result.exit_code == 0, result.stderr
    return next(g for g in json.loads(result.stdout)["team"]["goals"] if g["name"] == "Beta")


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_a_renamed_story_point_field_is_still_read(tmp_path, jira_sim, deployment):
    sim = start(jira_sim, deployment, "Story points")
    goal = beta(config(tmp_path, sim, deployment))
    assert goal["total"] > 0 and goal["status"] != "unknown"


def test_without_a_story_point_field_a_points_goal_is_unknown_and_check_says_what_to_set(
    tmp_path, jira_sim
):
    sim = start(jira_sim, "datacenter", "Points")
    path = config(tmp_path, sim, "datacenter")
    goal = beta(path)
    assert goal["status"] == "unknown" and goal["total"] == 0
    assert {c["status"] for c in goal["checkpoints"]} == {"unknown"}
    summary = invoke("plan", "--config", str(path), "--now", NOW, "--details")
    assert "Beta [unknown]" in summary.stdout
    assert "no estimate on any of its" in summary.stdout
    checked = invoke("check", "--config", str(path), "--now", NOW)
    assert checked.exit_code == 2
    assert "jira.estimate_field" in checked.stderr and "Points" in checked.stderr


def test_jira_estimate_field_names_the_field_by_name_or_id(tmp_path, jira_sim):
    sim = start(jira_sim, "datacenter", "Points")
    by_name = beta(config(tmp_path, sim, "datacenter", estimate_field="points"))
    by_id = beta(
        config(tmp_path, sim, "datacenter", estimate_field=sim.api.json.story_points_field)
    )
    assert by_name["total"] == by_id["total"] > 0


def test_a_misspelt_estimate_field_stops_the_run_naming_the_key_and_the_closest_name(
    tmp_path, jira_sim
):
    sim = start(jira_sim, "datacenter", "Points")
    path = config(tmp_path, sim, "datacenter", estimate_field="Piont")
    for command in ("check", "plan"):
        result = invoke(command, "--config", str(path), "--now", NOW)
        assert result.exit_code == 2, result.output
        assert "jira.estimate_field" in result.stderr
        assert "'Piont'" in result.stderr and "did you mean 'Points'?" in result.stderr
        assert "Traceback" not in result.output


def test_check_warns_of_a_points_goal_whose_issues_carry_no_estimate(tmp_path, jira_sim):
    sim = start(jira_sim, "cloud", None)
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"))
    # APP-145 and APP-146 are Stories without an estimate in the demo data.
    data["goals"].append({
        "name": "Unsized", "scope": "key in (APP-145, APP-146)", "unit": "estimate",
        "start": data["goals"][0]["start"],
        "checkpoints": [{"name": "All", "date": data["goals"][0]["checkpoints"][-1]["date"],
                         "done": 1.0}],
    })  # fmt: skip
    path = write_toml(tmp_path / "c.toml", data)
    checked = invoke("check", "--config", str(path), "--now", NOW)
    assert checked.exit_code == 0, checked.stderr
    assert (
        "warning: goals[2].unit: goal 'Unsized' counts estimates, but none of its 2 issues "
        "carries one" in checked.stdout
    )
