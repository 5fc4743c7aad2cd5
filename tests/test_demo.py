"""`jira-chase demo`: the whole loop on the built-in simulator, as a user first sees it."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import DEMO_PLANTED, DEMO_PLANTED_TEAM, on_the_issue
from tests.test_cli import cli

#: What each planted issue carries: its findings' families (focus and hygiene say what
#: they find to the team, not on the issue).
ON_ISSUES = {key: set(on_the_issue(f)) for key, f in DEMO_PLANTED.items() if on_the_issue(f)}


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_demo_flags_exactly_the_planted_problems_and_writes_them(deployment):
    result = cli("demo", "--json", "--deployment", deployment)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    flagged = {i["key"]: {f["family"] for f in i["findings"]} for i in doc["plan"]["issues"]}
    assert flagged == ON_ISSUES
    # The first sync takes the baseline: a label change per unhealthy issue, no comment.
    assert doc["sync"]["summary"]["applied"] == len(ON_ISSUES)
    assert all(op["kind"] == "labels" for op in doc["sync"]["applied"])
    assert doc["sync"]["summary"]["attention"]["comments_withheld"] == len(ON_ISSUES)
    assert doc["second_sync"]["operations"] == []
    assert doc["second_sync"]["summary"]["applied"] == 0
    # Then a new problem: its labels and its comment, and nothing else.
    new = doc["new_problem"]
    assert new["issue"] not in DEMO_PLANTED
    assert {(op["kind"], op["issue"]) for op in new["sync"]["applied"]} == {
        ("labels", new["issue"]),
        ("comment.create", new["issue"]),
    }
    assert set(doc["labels_in_tracker"]) == set(ON_ISSUES) | {new["issue"]}
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
        "wip-per-person",
        "checkpoint-at-risk",
        "cycle-time-p85",
        "hygiene",
    }
    # the team's findings that used to be on every issue: one person over the focus limit
    # (named by no one), the planted hygiene by rule
    waits = team["waits"]["APP"]
    assert [(w["waiting"], w["blocker"]) for w in waits["caused"]["open_now"]] == [
        ("OPS-13", "APP-87"),
        ("OPS-23", "APP-139"),
    ]
    assert [(w["waiting"], w["blocker"]) for w in waits["suffered"]["open_now"]] == [
        ("APP-145", "OPS-24")
    ]
    focus = next(f for f in team["findings"] if f["family"] == "focus")
    assert focus["message"] == "1 person carries more than 3 issues in progress (the most: 5)"
    hygiene = next(f for f in team["findings"] if f["rule"] == "hygiene")
    noted = {key for keys in hygiene["evidence"].values() for key in keys.split(", ")}
    assert noted == {key for key, families in DEMO_PLANTED.items() if "hygiene" in families}
    skills = {(f["family"], f["rule"], f["subject"]) for f in team["findings"]
              if f["family"] == "skills"}  # fmt: skip
    assert skills == DEMO_PLANTED_TEAM
    # the demo names nobody (skills.name_people = false)
    assert all("one person" in f["message"] for f in team["findings"] if f["family"] == "skills")
    # finished in the window with a hygiene finding: the long rework story (its findings
    # have since expired), no resolution, To Do -> Done (Done -> Closed is the workflow)
    assert team["process"]["finished"] - team["process"]["clean"] == 3


def test_demo_text_names_the_findings():
    result = cli("demo")
    assert result.exit_code == 0
    assert "APP-108" in result.output and "Second sync over unchanged data: 0" in result.output
    assert "bottleneck: build" in result.output
    # the plan before the first sync says what the baseline writes and holds back
    flagged = len(ON_ISSUES)
    assert (
        f"First sync from this state file: it will take the baseline — {flagged} label "
        f"changes, no comment; with writeback.baseline = false it would also create "
        f"{flagged} comments."
    ) in result.output
    assert "Attention: 16 of 41 unfinished issues flagged (39%); our labels per flagged " in (
        result.output
    )
    # waits between the teams, both ways
    assert (
        "Waits APP: others waited on us 2 open, median 1.1 days; we waited on others 1 open, "
        "median 4.0 days"
    ) in result.output
    assert "Process: 97.4% of finished issues passed through the steps (111 of 114)" in (
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
    assert "reopened twice (last on " in text and "at most once allowed" in text
    assert "due date is not set (priority Highest)" in text and "duedate" not in text
    comment = text.split("as the team reads it there:\n\n", 1)[1].split("\n\n", 1)[0]
    lines = comment.splitlines()
    assert lines[0] == "  | jira-chase: off track (1 finding)"
    assert lines[1].startswith("  | - [critical] red line: moved past required step 'review'")
    assert lines[-1].startswith("  | As of 2026-11-20 16:01 UTC.")
    # what the team reads carries no setting names and stays short
    assert "workflow." not in comment and "threshold" not in comment
    assert len(comment) < 600


def test_the_demo_ends_by_writing_the_report_and_printing_its_path():
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    last = result.stdout.rstrip().splitlines()[-1].strip()
    assert last.endswith("jira-chase-demo-report.html")
    html = Path(last).read_text()
    # a burn-up per goal (two), time to recovery, waits, and eight charts of its one team
    assert html.startswith("<!doctype html>") and html.count('<svg class="chart') == 2 + 2 + 8
