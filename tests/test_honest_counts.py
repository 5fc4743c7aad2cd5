"""Counts are the tracker's answer: applied means the tracker said so for that issue,
on the first run and on every later one (when most issues come from the snapshots)."""

import json

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

RUNS = ("2026-11-20T16:00:00Z", "2026-11-20T17:00:00Z", "2026-11-20T18:00:00Z")


def sync(config, now, *extra):
    command = ["sync", "--config", str(config), "--now", now, "--json", *extra]
    result = CliRunner().invoke(main, command)
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
        # (APP refuses every write: the later runs try it again only when asked to)
        doc = sync(config, now, "--retry-refused")
        assert doc["operations"], "every run has label writes to try"
        for op in doc["applied"]:
            labels = sim.labels(op["issue"])
            assert set(op["add"]) <= set(labels), (now, op)
            assert not set(op["remove"]) & set(labels), (now, op)
        failed = {f["issue"] for f in doc["failed"]}
        for failure in doc["failed"]:  # each names its issue and the tracker's answer
            assert failure["error"].startswith(f"{failure['issue']}: HTTP 403 on "), failure
        assert all(not key.startswith("APP-") for key in {op["issue"] for op in doc["applied"]})
        assert {op["issue"] for op in doc["operations"] if op["issue"].startswith("APP-")} <= failed
        counts = doc["summary"]["counts"] if "counts" in doc["summary"] else doc["summary"]
        assert counts["applied"] == len(doc["applied"]) and counts["failed"] == len(doc["failed"])


def metric(path, name):
    (line,) = [line for line in path.read_text().splitlines() if line.startswith(name + "{")]
    return int(float(line.rsplit(" ", 1)[1]))


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_the_summary_the_run_history_and_the_metrics_count_the_same_requests(
    tmp_path, jira_sim, deployment
):
    # The weekly check and a goal's comment are written after the run's own writes.
    if deployment == "datacenter":
        sim = jira_sim(build_demo_dataset(), deployment="datacenter")
        jira = {"deployment": "datacenter", "email": ""}
    else:
        sim = jira_sim(build_demo_dataset())
        jira = {}
    data = demo_config(sim.url, "s.sqlite", jira=jira, digest={"issue": "APP-100"})
    data["goals"][0]["issue"] = "APP-101"
    config = write_toml(tmp_path / "c.toml", data)
    metrics = tmp_path / "metrics.prom"
    for as_json in (True, False, True):
        sent = len(sim.requests)
        command = ["sync", "--config", str(config), "--now", RUNS[0],
                   "--metrics-file", str(metrics)] + (["--json"] if as_json else [])  # fmt: skip
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output + result.stderr
        if as_json:
            doc = json.loads(result.stdout)
            assert doc["digest"]["action"] in ("created", "unchanged")
            said = doc["summary"]["requests"]
        else:
            (line,) = [ln for ln in result.stdout.splitlines() if ln.startswith("Tracker: ")]
            said = int(line.split()[1])
        history = CliRunner().invoke(main, ["runs", "--config", str(config), "--json"])
        recorded = json.loads(history.stdout)["runs"][0]["requests"]
        assert said == recorded == metric(metrics, "jira_chase_run_requests")
        assert said == len(sim.requests) - sent
