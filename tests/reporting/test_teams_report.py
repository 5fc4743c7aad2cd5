"""The report by team over generated data, fetched from the simulator over real sockets:
a portfolio row and a section per team, flagged issues most severe first, cumulative
flow that adds up, health per day, people unnamed unless `report.name_people`; and the
burn-up's plan starting where the goal's done starts."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.engine.evaluate import evaluate
from jira_chase.reports.manager import build_report
from jira_chase.simulator.generate import GENERATED_NOW, generate_dataset
from jira_chase.sources.base import ServerIdentity
from jira_chase.store.state import StateStore
from tests.factories import at, make_issue, make_settings, write_toml

NOW = datetime.fromisoformat(GENERATED_NOW.replace("Z", "+00:00"))


def generated_config(tmp_path: Path, url: str, **sections: Any) -> Path:
    data: dict[str, Any] = {
        "tracker": "jira",
        "jira": {"url": url, "email": "bot@example.com", "token": "t",
                 "scope": "project in (APP, OPS, WEB)"},
        "calendar": {"kind": "calendar", "timezone": "UTC"},
        "workflow": {
            "done": ["Done", "Closed"],
            "steps": [
                {"name": "build", "statuses": ["In Progress"], "limit_days": 5, "wip_limit": 6},
                {"name": "review", "statuses": ["Code Review"], "limit_days": 2},
                {"name": "test", "statuses": ["In QA"], "limit_days": 3},
            ],
        },
        "focus": {"wip_per_person": 2},
        "cooperation": {"blocked_days": 2},
        "metrics": {"aging": True, "min_samples": 5},
        "state": {"path": str(tmp_path / "s.sqlite")},
        **sections,
    }  # fmt: skip
    return write_toml(tmp_path / "c.toml", data)


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def report(config: Path, out: Path, fmt: str = "json", now: datetime = NOW) -> str:
    run("report", "--config", str(config), "--now", now.isoformat(), "--out", str(out),
        "--format", fmt)  # fmt: skip
    return out.read_text()


def in_scope(dataset: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in dataset["issues"] if i["project"] in ("APP", "OPS", "WEB")]


def natural(key: str) -> tuple[str, int]:
    project, _, number = key.rpartition("-")
    return project, int(number)


def test_each_project_is_a_team_with_its_flow_and_its_flagged_issues(tmp_path, jira_sim):
    dataset = generate_dataset(500, seed=5)
    sim = jira_sim(dataset)
    config = generated_config(tmp_path, sim.url)
    run("sync", "--config", str(config), "--now", (NOW - timedelta(days=1)).isoformat())
    run("sync", "--config", str(config), "--now", NOW.isoformat())
    doc = json.loads(report(config, tmp_path / "r.json"))
    issues = in_scope(dataset)
    projects = sorted({i["project"] for i in issues})
    assert [t["name"] for t in doc["teams"]] == [r["team"] for r in doc["portfolio"]] == projects
    assert sum(t["headline"]["issues"] for t in doc["teams"]) == doc["headline"]["issues"]

    days = [date.fromisoformat(d) for d in doc["teams"][0]["cfd"]["days"]]
    assert len(days) == 7 * 8 and days[-1] == NOW.date()
    ends = [datetime.combine(d + timedelta(days=1), time.min, timezone.utc) for d in days]
    ends[-1] = NOW
    for team, row in zip(doc["teams"], doc["portfolio"]):
        mine = [i for i in issues if i["project"] == team["name"]]
        assert team["headline"]["issues"] == row["issues"] == len(mine)
        # Flagged issues, most severe first: off track, then more findings, then the
        # longest in its step, then by key.
        flagged = team["flagged"]
        assert len(flagged) == row["flagged"] == row["off_track"] + row["at_risk"] > 0
        assert all(f["team"] == team["name"] and f["key"].startswith(team["name"] + "-")
                   for f in flagged)  # fmt: skip
        for first, second in zip(flagged, flagged[1:]):
            a = (-first["severity"], -len(first["findings"]))
            b = (-second["severity"], -len(second["findings"]))
            assert a <= b
            if a == b:
                older = (first["age_days"] is None, -(first["age_days"] or 0))
                younger = (second["age_days"] is None, -(second["age_days"] or 0))
                assert older <= younger
                if older == younger:
                    assert natural(first["key"]) < natural(second["key"])
        assert flagged[0]["severity"] == 2 and flagged[-1]["severity"] == 1
        # The cumulative flow adds up to the team's issues that existed on each day, and
        # its last day is where the issues are now.
        series = team["cfd"]["series"]
        assert [s["name"] for s in series] == ["backlog", "build", "review", "test", "done"]
        for day, end in enumerate(ends):
            existing = sum(1 for i in mine if datetime.fromisoformat(i["created"]) <= end)
            assert sum(s["counts"][day] for s in series) == existing, (team["name"], day)
        steps = {s["name"]: s for s in team["steps"]}
        by_name = {s["name"]: s["counts"] for s in series}
        for wip in team["wip"]["steps"]:
            assert wip["counts"] == by_name[wip["name"]]
            assert wip["counts"][-1] == steps[wip["name"]]["wip"]
            assert wip["limit"] == steps[wip["name"]]["wip_limit"]
        done_now = sum(1 for i in mine if i["status"] in ("Done", "Closed"))
        assert by_name["done"][-1] == done_now
        # Cycle times, their histogram and percentiles are the same issues.
        cycle = team["cycle_time"]
        assert (
            cycle["count"]
            == len(team["cycle_times"])
            == sum(b["count"] for b in team["histogram"]["bins"])
        )
        assert row["cycle_p85"] == cycle["p85"]
        assert team["aging"]["percentiles"]["p85"] == cycle["p85"]
        for step in team["aging"]["steps"]:
            ages = [item["age_days"] for item in step["items"]]
            assert ages == sorted(ages, reverse=True) and step["count"] == len(ages)
        assert len(team["throughput"]) == 8
        # Health per day with a run: the two syncs' days; the last is today's judgement.
        assert [h["at"] for h in team["health"]] == ["2026-11-19", "2026-11-20"]
        last = team["health"][-1]
        assert (last["flagged"], last["off_track"]) == (len(flagged), row["off_track"])
        assert team["recovery"]["summary"]["any"]["open"] == len(flagged)
        assert team["waits"] is not None and set(team["waits"]) == {"caused", "suffered"}
    # Per day, the teams' health adds up to the scope's, as the day's last run saw it.
    with StateStore(tmp_path / "s.sqlite") as store:
        runs = store.trend_runs()
    for day in ("2026-11-19", "2026-11-20"):
        (seen, *_) = [t for _, _, at_, t in reversed(runs) if at_.date().isoformat() == day]
        teams_then = [next(h for h in t["health"] if h["at"] == day) for t in doc["teams"]]
        assert sum(h["off_track"] for h in teams_then) == seen["off_track"]
        assert sum(h["at_risk"] for h in teams_then) == seen["at_risk"]


def test_teams_from_jql_hold_the_issues_they_match_first(tmp_path, jira_sim):
    dataset = generate_dataset(300, seed=3)
    sim = jira_sim(dataset)
    teams = [
        {"name": "Performance", "jql": "labels = performance"},
        {"name": "Platform", "jql": "project = OPS"},
    ]
    config = generated_config(tmp_path, sim.url, teams=teams)
    doc = json.loads(report(config, tmp_path / "r.json"))
    assert [t["name"] for t in doc["teams"]] == ["Performance", "Platform", "other"]
    assert [t["jql"] for t in doc["teams"]] == ["labels = performance", "project = OPS", None]
    issues = {i["key"]: i for i in in_scope(dataset)}

    def team_of(issue: dict[str, Any]) -> str:
        if "performance" in issue.get("labels", []):
            return "Performance"
        return "Platform" if issue["project"] == "OPS" else "other"

    for team in doc["teams"]:
        expected = [i for i in issues.values() if team_of(i) == team["name"]]
        assert team["headline"]["issues"] == len(expected) > 0
        assert all(team_of(issues[f["key"]]) == team["name"] for f in team["flagged"])
        assert sum(s["counts"][-1] for s in team["cfd"]["series"]) == len(expected)


def test_no_name_of_a_person_appears_unless_naming_is_on(tmp_path, jira_sim):
    dataset = generate_dataset(400, seed=9)
    sim = jira_sim(dataset)
    names = {user["name"] for user in dataset["users"]}
    config = generated_config(tmp_path, sim.url)
    texts = {
        fmt: report(config, tmp_path / f"r.{fmt}", fmt) for fmt in ("json", "markdown", "html")
    }
    doc = json.loads(texts["json"])
    over = [p for t in doc["teams"] for p in t["over_wip"]]
    assert over and all(p["person"].startswith("person ") and p["issues"] == [] for p in over)
    assert all(f["assignee"] is None for t in doc["teams"] for f in t["flagged"])
    for fmt, text in texts.items():
        assert [name for name in names if name in text] == [], fmt
    # Named, the same report says who carries what.
    named = generated_config(tmp_path, sim.url, report={"name_people": True})
    doc = json.loads(report(named, tmp_path / "named.json"))
    over = [p for t in doc["teams"] for p in t["over_wip"]]
    assert {p["person"] for p in over} <= names and all(p["issues"] for p in over)
    assert any(f["assignee"] in names for t in doc["teams"] for f in t["flagged"])


def test_the_burn_up_plan_starts_where_done_starts(tmp_path):
    goal = {
        "name": "Launch", "scope": "labels = launch", "start": date(2026, 11, 5),
        "checkpoints": [{"name": "done", "date": date(2026, 11, 30), "done": 1.0}],
    }  # fmt: skip
    settings = make_settings(goals=[goal])
    finished = [(0, "In Progress"), (1, "Code Review"), (2, "Done")]  # Nov 4: before start
    later = [(4, "In Progress"), (5, "Code Review"), (6, "Done")]  # Nov 8
    issues = [
        make_issue("APP-1", labels=("launch",), path=finished),
        make_issue("APP-2", labels=("launch",), path=later),
        make_issue("APP-3", labels=("launch",), path=[(7, "In Progress")]),
        make_issue("APP-4", labels=("launch",)),
    ]
    evaluation = evaluate(issues, settings, at(10))
    identity = ServerIdentity("jira", "http://jira.invalid", "10", "cloud", "bot")
    with StateStore(tmp_path / "s.sqlite") as store:
        doc = build_report(evaluation, settings, identity, store)
    (burnup,) = doc["goals"]
    assert burnup["done_at_start"] == 1.0
    assert burnup["plan"] == [["2026-11-05", 1.0], ["2026-11-30", 4.0]]
    assert burnup["actual"] == [["2026-11-05", 1.0], ["2026-11-08", 2.0], ["2026-11-12", 2.0]]
    assert burnup["by_date"][:3] == [
        {"date": "2026-11-05", "done": 1.0, "plan": 1.0},
        {"date": "2026-11-12", "done": 2.0, "plan": 1.84},
        {"date": "2026-11-30", "done": None, "plan": 4.0},
    ]
