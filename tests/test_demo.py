"""`jira-chase demo`: the whole loop on the built-in simulator, as a user first sees it."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jira_chase.cli import main
from jira_chase.simulator.demo import DEMO_PLANTED, DEMO_PLANTED_TEAM
from tests.test_cli import cli


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
    assert {f["rule"] for f in team["findings"] if f["family"] != "skills"} == {
        "wip-limit",
        "checkpoint-at-risk",
        "cycle-time-p85",
    }
    skills = {(f["family"], f["rule"], f["subject"]) for f in team["findings"]
              if f["family"] == "skills"}  # fmt: skip
    assert skills == DEMO_PLANTED_TEAM
    # the demo names nobody (skills.name_people = false)
    assert all("one person" in f["message"] for f in team["findings"] if f["family"] == "skills")
    # finished in the window with a hygiene finding: the long rework story (its findings
    # have since expired), Done -> Closed, no resolution, To Do -> Done
    assert team["process"]["finished"] - team["process"]["clean"] == 4


def test_demo_text_names_the_findings():
    result = cli("demo")
    assert result.exit_code == 0
    assert "APP-108" in result.output and "Second sync over unchanged data: 0" in result.output
    assert "bottleneck: build" in result.output
    assert "Process: 96.5% of finished issues passed through the steps (110 of 114)" in (
        result.output
    )
    assert "Release engineering: 6 of 7 finished issues by one person in 8 weeks" in result.output
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


def test_the_demo_ends_by_writing_the_report_and_printing_its_path():
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    last = result.stdout.rstrip().splitlines()[-1].strip()
    assert last.endswith("jira-chase-demo-report.html")
    html = Path(last).read_text()
    assert html.startswith("<!doctype html>") and html.count('<svg class="chart"') == 7
