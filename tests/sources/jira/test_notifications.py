"""Learning where the bot may write without notifying watchers, and counting where not."""

from __future__ import annotations

import json

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import (
    FORBIDDEN,
)
from jira_chase.sources.jira import JiraSource
from tests.factories import demo_config, write_toml
from tests.sources.jira.factories import NOW, label_ops, only, settings


def test_mypermissions_failing_leaves_the_first_write_to_find_out(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "GET */mypermissions"))
    source = JiraSource(settings(sim.url))
    (outcome,) = source.apply(label_ops(["APP-1"]))
    assert outcome.error is None and "chase-test" in sim.labels("APP-1")
    edits = [(x.query.get("notifyUsers"), x.status) for x in sim.exchanges if x.method == "PUT"]
    assert edits == [(["false"], 403), (None, 204)]
    assert source.stats.noisy_by_project == {"APP": 1}
    assert source.memory.recall("jira-silent-writes") == {"APP": "no"}


def test_a_label_edit_refused_for_another_reason_is_not_taken_for_notifications(jira_sim):
    dataset = build_demo_dataset()
    for project in dataset["projects"]:
        project["readonly"] = project["key"] == "OPS"
    sim = jira_sim(dataset)
    (outcome,) = JiraSource(settings(sim.url)).apply(label_ops(["OPS-1"]))
    assert outcome.error is not None and outcome.error.status == 403
    assert "You do not have permission to edit issues in this project." in str(outcome.error)
    assert len([x for x in sim.exchanges if x.method == "PUT"]) == 1


def test_the_json_summary_names_the_noisy_writes(tmp_path, demo_sim):
    config = write_toml(tmp_path / "c.toml", demo_config(demo_sim.url, "s.sqlite"))
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--now", NOW.isoformat(), "--json"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["noisy_writes"] == summary["noisy_by_project"]["APP"] > 0
