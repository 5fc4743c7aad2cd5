"""A goal's status on its own issue (`goals[].issue`): one tagged comment, kept up to date in
place, on Jira Cloud and Data Center."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.engine.comment import PROPERTY_KEY, parse_wiki_marker
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
LATER = "2026-11-20T17:00:00Z"


def sync(config: Any, now: str = NOW) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", now, "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def text_of(body: Any) -> str:
    if isinstance(body, str):  # Data Center wiki markup: escapes undone
        return re.sub(r"\\(.)", r"\1", body)
    return body.get("text", "") + " ".join(text_of(c) for c in body.get("content", []))


def config_for(tmp_path: Any, sim: Any, deployment: str) -> Any:
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"), writeback={"baseline": True})
    data["goals"][0]["issue"] = "APP-1"  # Release 1.4, at risk
    if deployment == "datacenter":
        data["jira"].update({"deployment": "datacenter", "email": ""})
    return write_toml(tmp_path / "c.toml", data)


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_the_goal_issue_carries_the_goals_status_in_one_comment(tmp_path, jira_sim, deployment):
    sim = jira_sim(build_demo_dataset(), deployment=deployment)
    config = config_for(tmp_path, sim, deployment)
    doc = sync(config)
    (posted,) = doc["goal_comments"]
    assert [posted[k] for k in ("goal", "issue", "action")] == ["Release 1.4", "APP-1", "created"]
    (comment,) = [c for c in sim.comments("APP-1") if c["author"] == "u-bot"]
    text = text_of(comment["body"])
    assert "goal 'Release 1.4' is at risk" in text
    assert "Feature complete on 2026-11-27: at risk" in text
    assert "15 of 20 issues done (75%)" in text
    # the issue that must move now is named: it has been in progress too long
    assert "APP-108" in text
    if deployment == "cloud":
        assert f"{PROPERTY_KEY}-goal" in comment["properties"]
        assert PROPERTY_KEY not in comment["properties"]  # never APP-1's own comment
    else:
        assert parse_wiki_marker(comment["body"], "goal") is not None
        assert parse_wiki_marker(comment["body"]) is None
    # The baseline holds back the issues' comments, not the goal's own one.
    assert not [op for op in doc["applied"] if op["kind"] == "comment.create"]

    # Nothing the comment says changed an hour later: no write.
    again = sync(config, LATER)
    assert again["goal_comments"][0]["action"] == "unchanged"
    assert len([c for c in sim.comments("APP-1") if c["author"] == "u-bot"]) == 1

    # An issue of the goal finishes: the comment is edited in place.
    sim.move("APP-108", "Done", "u-bob")
    moved = sync(config, "2026-11-20T17:30:00Z")
    assert moved["goal_comments"][0]["action"] == "edited"
    (edited,) = [c for c in sim.comments("APP-1") if c["author"] == "u-bot"]
    assert edited["id"] == comment["id"] and "16 of 20 issues done" in text_of(edited["body"])

    # A lost state file: the goal's comment is found again on the tracker, not added.
    (tmp_path / "s.sqlite").unlink()
    again = sync(config, "2026-11-20T17:45:00Z")
    assert again["goal_comments"][0]["action"] in ("edited", "unchanged")
    (kept,) = [c for c in sim.comments("APP-1") if c["author"] == "u-bot"]
    assert kept["id"] == comment["id"]


def test_a_goal_issue_that_does_not_exist_is_a_failed_write_naming_it(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"))
    data["goals"][0]["issue"] = "APP-999"
    result = CliRunner().invoke(
        main, ["sync", "--config", str(write_toml(tmp_path / "c.toml", data)), "--now", NOW]
    )
    assert result.exit_code == 4
    assert "write failed: goal 'Release 1.4' on APP-999 failed" in result.stderr
