"""A tracker that serves no change history: what needs dates is unknown, never 0 and
never measured from the creation date — in the summary, the JSON, `explain` and the
team WIP finding."""

import json

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
PAT = "pat-0123456789"
DC = {"deployment": "datacenter", "email": "", "token": PAT}


def cli(*args):
    return CliRunner().invoke(main, [*args, "--now", NOW])


def bare_config(tmp_path, jira_sim, **sections):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter", tokens={PAT: "u-bot"},
                   changelog=False)  # fmt: skip
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"), jira=DC, **sections)
    return str(write_toml(tmp_path / "c.toml", data))


def test_without_finish_dates_throughput_and_cycle_time_are_unknown(tmp_path, jira_sim):
    config = bare_config(tmp_path, jira_sim)
    planned = cli("plan", "--config", config, "--json")
    assert planned.exit_code == 0, planned.stderr
    metrics = json.loads(planned.stdout)["team"]["metrics"]
    assert metrics["finished"] is None and metrics["throughput_per_week"] is None
    assert metrics["finished_dated"] == 0 and metrics["finished_undated"] > 0
    assert metrics["cycle_time_days"] is None
    text = cli("plan", "--config", config, "--details").stdout
    assert "cycle time unknown · throughput unknown: " in text
    assert "throughput 0.0/week" not in text and "nothing finished" not in text
    assert "cycle time unknown (no finish time is known)" in text


def test_explain_marks_entry_times_it_does_not_have(tmp_path, jira_sim):
    config = bare_config(tmp_path, jira_sim)
    doc = json.loads(cli("explain", "APP-145", "--config", config, "--json").stdout)
    assert [(s["known"], s["entered"], s["days"]) for s in doc["timeline"]] == [(False, None, None)]
    text = cli("explain", "APP-145", "--config", config).stdout
    assert "unknown" in text and "no status history" in text
    assert " days" not in text.split("Timeline", 1)[1].split("Findings", 1)[0].replace(
        "business days", ""
    )


def test_a_team_wip_finding_orders_no_issue_by_a_date_it_does_not_have(tmp_path, jira_sim):
    steps = demo_config("http://x", "s")["workflow"]["steps"]
    steps = [dict(step, wip_limit=1) if step["name"] == "build" else step for step in steps]
    config = bare_config(tmp_path, jira_sim, workflow={"steps": steps})
    team = json.loads(cli("plan", "--config", config, "--json").stdout)["team"]
    wip = next(f for f in team["findings"] if f["rule"] == "wip-limit"
               and f["subject"] == "step build")  # fmt: skip
    evidence = dict(wip["evidence"]) if isinstance(wip["evidence"], list) else wip["evidence"]
    assert evidence["over the limit"].startswith("not known: ")
    assert evidence["entry unknown"]
