"""A quiet world stays quiet: moving one issue over HTTP between two syncs rewrites only
the comments whose findings really changed."""

import json
from datetime import datetime, timedelta, timezone

import requests
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.generate import generate_dataset
from tests.factories import write_toml

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)


def config(tmp_path, url):
    return write_toml(
        tmp_path / "c.toml",
        {
            "tracker": "jira",
            "jira": {"url": url, "email": "bot@example.com", "token": "t",
                     "scope": "project in (APP, OPS, WEB)"},
            "calendar": {"kind": "business"},
            "workflow": {
                "done": ["Done", "Closed"],
                "steps": [
                    {"name": "build", "statuses": ["In Progress"], "limit_days": 5,
                     "wip_limit": 3},
                    {"name": "review", "statuses": ["Code Review"], "limit_days": 2},
                    {"name": "test", "statuses": ["In QA"], "limit_days": 3},
                ],
            },
            "focus": {"wip_per_person": 2},
            "writeback": {"max_writes": 100000, "baseline": False},
            "state": {"path": str(tmp_path / "s.sqlite")},
        },
    )  # fmt: skip


def sync(path, now):
    result = CliRunner().invoke(
        main, ["sync", "--config", str(path), "--now", now.isoformat(), "--json"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def judged(doc):
    """Issue key -> what its findings say, leaving out evidence that moves with others."""
    return {
        issue["key"]: sorted((f["family"], f["rule"], f["severity"]) for f in issue["findings"])
        for issue in doc["issues"]
    }


def test_moving_one_issue_rewrites_only_the_comments_whose_findings_changed(tmp_path, jira_sim):
    sim = jira_sim(generate_dataset(400, seed=5), clock=lambda: NOW + timedelta(minutes=1))
    path = config(tmp_path, sim.url)
    first = sync(path, NOW)
    # a crowded step (limit 3): the issues pulled into it while it was full
    wip = [i for i in first["issues"] if any(f["family"] == "wip" for f in i["findings"])]
    assert len(wip) >= 3
    moved = wip[0]["key"]
    url = f"{sim.url}/rest/api/3/issue/{moved}/transitions"
    auth = ("ann.lee@example.com", "t")
    offered = requests.get(url, auth=auth, timeout=10).json()["transitions"]
    done = next(t for t in offered if t["to"]["name"] == "Done")
    answer = requests.post(url, json={"transition": {"id": done["id"]}}, auth=auth, timeout=10)
    assert answer.status_code == 204

    second = sync(path, NOW + timedelta(minutes=2))
    rewritten = {op["issue"] for op in second["applied"] if op["kind"].startswith("comment.")}
    before, after = judged(first), judged(second)
    really_changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert moved in rewritten
    assert rewritten <= really_changed | {moved}
    # the step's occupancy now is no finding's content: nobody else's comment moves
    assert rewritten == {moved}
