"""`jira-chase report`: the trend store, time to recovery, and the report in markdown and
JSON (the HTML page in a real browser: test_page.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.store.state import StateStore
from tests.factories import demo_config, write_toml
from tests.test_zentao_cli import zentao_config, zentao_sim  # noqa: F401  (fixture)

NOW = "2026-11-20T16:00:00Z"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


@pytest.fixture
def demo_sim(jira_sim):
    return jira_sim(build_demo_dataset())


@pytest.fixture
def config(tmp_path, demo_sim):
    return write_toml(
        tmp_path / "c.toml",
        demo_config(
            demo_sim.url, str(tmp_path / "state.sqlite"), calendar={"timezone": "Europe/Berlin"}
        ),
    )


def report(config, out: Path, fmt: str = "html", now: str = NOW) -> str:
    return invoke("report", "--config", str(config), "--now", now, "--out", str(out),
                  "--format", fmt)  # fmt: skip


# -- the trend store -------------------------------------------------------------------


def test_each_sync_keeps_the_team_state_and_only_the_issue_changes(tmp_path, config):
    invoke("sync", "--config", str(config), "--now", NOW)
    invoke("sync", "--config", str(config), "--now", "2026-11-20T17:00:00Z")
    with StateStore(tmp_path / "state.sqlite") as store:
        runs = store.trend_runs()
        changes = store.health_changes()
    assert [mode for _, mode, _, _ in runs] == ["sync", "sync"]
    team = runs[0][3]
    assert team["off_track"] > 0 and team["goals"][0]["name"] == "Release 1.4"
    # The second sync saw the same health everywhere: nothing more was kept.
    assert {at for _, at, _, _ in changes} == {runs[0][2]}
    assert len(changes) == team["issues"]


# -- the formats -----------------------------------------------------------------------


def test_json_and_markdown_carry_the_same_content(tmp_path, config):
    invoke("sync", "--config", str(config), "--now", NOW)
    report(config, tmp_path / "r.json", "json")
    report(config, tmp_path / "r.md", "markdown")
    doc = json.loads((tmp_path / "r.json").read_text())
    text = (tmp_path / "r.md").read_text()
    assert doc["format"] == "jira-chase-report/2"
    assert doc["as_of_local"] == "2026-11-20 17:00 CET"  # calendar.timezone
    h = doc["headline"]
    # The demo's scope is one project: one team, by default.
    (team,) = doc["teams"]
    (row,) = doc["portfolio"]
    assert team["name"] == row["team"] == "APP" and team["jql"] is None
    flagged = team["flagged"]
    assert h["off_track"] + h["at_risk"] == len(flagged) == row["flagged"] > 0
    assert team["headline"]["issues"] == h["issues"] == row["issues"]
    assert f"| {h['issues']}" in text and f"| {h['off_track']}" in text
    assert "## Team APP" in text and "| APP |" in text
    for shown in flagged[:10]:
        assert f"[{shown['key']}]({shown['url']})" in text
        assert shown["url"].endswith(f"/browse/{shown['key']}")
    if len(flagged) > 10:
        assert f"… and {len(flagged) - 10} more flagged issues." in text
    for goal in doc["goals"]:
        assert f"### {goal['name']}" in text
        assert goal["plan"][-1][1] == goal["total"]
        assert f"| {goal['by_date'][0]['date']} |" in text
    assert team["recovery"]["summary"]["any"]["open"] == len(flagged)
    assert doc["recovery"]["summary"]["any"]["open"] == len(flagged)
    assert team["bottleneck"]["step"] in text and row["bottleneck"] == team["bottleneck"]["step"]
    # Naming people is off by default: the one person over the limit is a number.
    assert doc["name_people"] is False
    (person,) = team["over_wip"]
    assert person["person"] == "person 1" and person["in_progress"] > person["limit"] == 3
    assert person["issues"] == [] and "Dana Kowalski" not in text
    assert "person 1 (5 in progress, 5 here; limit 3)" in text
    assert {r["key"] for r in team["red_lines"]} == {
        f["key"] for f in flagged if "redline" in f["families"]
    }
    assert [(b["blocker"], b["project"], b["blocks"]) for b in team["blockers"]] == [
        ("OPS-24", "OPS", ["APP-145"])
    ]
    assert all(s["name"] in text for s in team["steps"])
    assert "<" not in text.replace("\\<", "")  # tracker text cannot add markup
    # what the team is asked to look at, and the baseline the first sync took
    attention = doc["attention"]
    assert attention["flagged_unfinished"] <= attention["unfinished"]
    assert attention["labels_per_flagged_issue"]["max"] <= 4
    assert attention["since_rollout"] == len(flagged)
    assert attention["since_rollout_by_week"] == [{"week": "2026-W47", "open": len(flagged)}]
    assert f"Open since rollout ({attention['baseline']}): {len(flagged)}" in text


def test_the_headline_shows_the_change_since_the_last_report(tmp_path, config, demo_sim):
    report(config, tmp_path / "a.json", "json")
    first = json.loads((tmp_path / "a.json").read_text())
    assert first["headline"]["change"] is None
    with StateStore(tmp_path / "state.sqlite") as store:
        (recorded,) = store.runs()
        assert recorded.mode == "report" and recorded.requests and recorded.details
    listed = invoke("runs", "--config", str(config))
    assert " report " in listed.splitlines()[1]
    demo_sim.move("APP-107", "Done", "u-emeka")
    report(config, tmp_path / "b.json", "json", now=datetime.now(timezone.utc).isoformat())
    second = json.loads((tmp_path / "b.json").read_text())
    assert second["headline"]["since"] == "2026-11-20 17:00 CET"
    change = second["headline"]["change"]
    assert any(change.values())
    assert change == {
        key: second["headline"][key] - first["headline"][key]
        for key in ("issues", "off_track", "at_risk")
    }


def test_an_unwritable_out_path_is_one_clear_line(tmp_path, config):
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(
        main, ["report", "--config", str(config), "--now", NOW, "--out",
               str(tmp_path / "file" / "r.html")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("config error: --out: cannot write ")


def test_zentao_report_links_to_the_items(tmp_path, zentao_sim):  # noqa: F811
    sim = zentao_sim()
    config = write_toml(tmp_path / "c.toml", zentao_config(sim.url, str(tmp_path / "s.sqlite")))
    report(config, tmp_path / "r.json", "json")
    doc = json.loads((tmp_path / "r.json").read_text())
    # Each product and execution of the scope is a team, named by its project key.
    assert [team["name"] for team in doc["teams"]] == ["E1", "P1"]
    flagged = [row for team in doc["teams"] for row in team["flagged"]]
    assert doc["tracker"]["kind"] == "zentao" and flagged
    for row in flagged:
        kind, _, number = row["key"].partition("-")
        assert row["url"] == f"{sim.url}/index.php?m={kind}&f=view&{kind}ID={number}"


def test_tracker_text_is_data_in_every_format(tmp_path, jira_sim):
    dataset = build_demo_dataset()
    evil = "<img src=x onerror=alert(1)> | *bold* [link](http://evil)"
    next(i for i in dataset["issues"] if i["key"] == "APP-107")["summary"] = evil
    sim = jira_sim(dataset)
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, str(tmp_path / "s.sqlite")))
    report(config, tmp_path / "r.html")
    report(config, tmp_path / "r.md", "markdown")
    html = (tmp_path / "r.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    text = (tmp_path / "r.md").read_text()
    assert r"\<img src=x onerror=alert(1)\> \| \*bold\* \[link\](http://evil)" in text
