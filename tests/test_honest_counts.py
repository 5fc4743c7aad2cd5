"""Counts are the tracker's answer: applied means the tracker said so for that issue,
on the first run and on every later one (when most issues come from the snapshots)."""

import json

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

RUNS = ("2026-11-20T16:00:00Z", "2026-11-20T17:00:00Z", "2026-11-20T18:00:00Z")


def sync(config, now):
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", now, "--json"])
    assert result.exit_code in (0, 4), result.output + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("deployment", "bulk"), [("cloud", True), ("cloud", False), ("datacenter", False)]
)
def test_applied_and_failed_match_the_tracker_on_every_run(tmp_path, jira_sim, deployment, bulk):
    dataset = build_demo_dataset()
    for project in dataset["projects"]:
        project["readonly"] = project["key"] == "APP"  # the bot may only read APP
    if not bulk:
        for user in dataset["users"]:
            if user["id"] == dataset["bot"]:
                user["bulkChange"] = False
    overrides: dict = {"writeback": {"comments": False}}
    if deployment == "datacenter":
        sim = jira_sim(dataset, deployment="datacenter", tokens={"pat-bot": "u-bot"})
        overrides["jira"] = {"deployment": "datacenter", "email": "", "token": "pat-bot"}
    else:
        sim = jira_sim(dataset)
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite", **overrides))
    for now in RUNS:
        doc = sync(config, now)
        assert doc["operations"], "every run has label writes to try"
        for op in doc["applied"]:
            labels = sim.labels(op["issue"])
            assert set(op["add"]) <= set(labels), (now, op)
            assert not set(op["remove"]) & set(labels), (now, op)
        failed = {f["issue"] for f in doc["failed"]}
        assert all(not key.startswith("APP-") for key in {op["issue"] for op in doc["applied"]})
        assert {op["issue"] for op in doc["operations"] if op["issue"].startswith("APP-")} <= failed
        counts = doc["summary"]["counts"] if "counts" in doc["summary"] else doc["summary"]
        assert counts["applied"] == len(doc["applied"]) and counts["failed"] == len(doc["failed"])
