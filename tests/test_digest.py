"""The weekly check (`[digest]`): one managed comment per period on one issue, edited in
place, none when nothing changed in the same period; Jira Cloud, Data Center, ZenTao."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.config.file import load_settings
from jira_chase.engine.comment import (
    FORMAT_VERSION,
    PROPERTY_KEY,
    parse_wiki_marker,
    parse_zentao_marker,
)
from jira_chase.run.digest import period_start
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, demo_flagged, write_toml
from tests.test_zentao_cli import zentao_config, zentao_sim  # noqa: F401  (fixture)

FRIDAY = "2026-11-20T16:00:00Z"
FRIDAY_LATER = "2026-11-20T18:00:00Z"
NEXT_MONDAY = "2026-11-23T09:00:00Z"
DIGEST = {"issue": "APP-1", "weekday": "Mon", "report_url": "https://wiki.example.com/r.html"}


def sync(config: Any, now: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", now])
    assert result.exit_code == code, result.output + result.stderr
    return result.stdout + result.stderr


def adf_text(node: Any) -> str:
    if isinstance(node, str):
        return node
    return node.get("text", "") + " ".join(adf_text(c) for c in node.get("content", []))


def bot(sim: Any, key: str) -> list[dict[str, Any]]:
    return [c for c in sim.comments(key) if c["author"] == "u-bot"]


def test_the_period_starts_on_the_configured_weekday():
    settings = load_settings(
        data=demo_config("http://x", "s.sqlite", digest={"issue": "APP-1", "weekday": "Wed"},
                         calendar={"timezone": "Asia/Tokyo"})
    )  # fmt: skip
    # Tuesday 20:00 UTC is already Wednesday in Tokyo.
    assert period_start(settings, datetime(2026, 11, 24, 20, tzinfo=timezone.utc)) == date(
        2026, 11, 25
    )
    assert period_start(settings, datetime(2026, 11, 24, 12, tzinfo=timezone.utc)) == date(
        2026, 11, 18
    )


def test_one_comment_per_week_edited_in_place_and_left_alone_when_unchanged(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = write_toml(
        tmp_path / "c.toml", demo_config(sim.url, str(tmp_path / "s.sqlite"), digest=DIGEST)
    )
    out = sync(config, FRIDAY)
    (first,) = bot(sim, "APP-1")
    assert out.count("weekly check on APP-1: created comment") == 1
    assert first["properties"][f"{PROPERTY_KEY}-digest"]["digest"]
    assert PROPERTY_KEY not in first["properties"]  # never taken for APP-1's own comment
    text = adf_text(first["body"])
    assert "the week from 2026-11-16" in text
    assert f"{len(demo_flagged())} newly unhealthy" in text and "APP-107" in text
    # the baseline the first sync took, and how much of it is still open
    assert f"open since rollout (2026-11-20 16:00 UTC): {len(demo_flagged())}" in text
    assert "Release 1.4:" in text
    # a line per team (the demo's one project): flagged of unfinished, off track, bottleneck
    assert "APP: 16 of 41 unfinished flagged, 10 off track, bottleneck: build" in text
    assert "unhealthy of" not in text
    assert "The full report" in json.dumps(first["body"])
    assert DIGEST["report_url"] in json.dumps(first["body"])

    # Same week, nothing changed: no write at all.
    out = sync(config, FRIDAY)
    assert "weekly check on APP-1: unchanged" in out
    (again,) = bot(sim, "APP-1")
    assert again["updated"] == first["updated"] and again["body"] == first["body"]

    # Same week, an issue recovered: the same comment is edited.
    sim.move("APP-107", "Done", "u-emeka")
    out = sync(config, datetime.now(timezone.utc).isoformat())
    assert "weekly check on APP-1: " in out
    comments = bot(sim, "APP-1")
    # Real time is a later week than the demo's: that is a new comment, the old one stays.
    assert len(comments) == 2 and comments[0]["body"] == first["body"]


def test_a_change_in_the_same_week_edits_the_comment(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = write_toml(
        tmp_path / "c.toml", demo_config(sim.url, str(tmp_path / "s.sqlite"), digest=DIGEST)
    )
    sync(config, NEXT_MONDAY)
    (first,) = bot(sim, "APP-1")
    # Monday -> Friday of the same week: ages grew, more issues are judged off track.
    out = sync(config, "2026-11-27T16:00:00Z")
    assert f"weekly check on APP-1: edited comment {first['id']}" in out
    (edited,) = bot(sim, "APP-1")
    assert edited["id"] == first["id"] and edited["body"] != first["body"]
    # The next week starts a new comment.
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--now", "2026-11-30T09:00:00Z", "--json"]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)["digest"]
    assert created["issue"] == "APP-1" and created["action"] == "created"
    assert len(bot(sim, "APP-1")) == 2
    assert created["comment_id"] == bot(sim, "APP-1")[-1]["id"]


def test_a_deleted_weekly_comment_is_written_again(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = write_toml(
        tmp_path / "c.toml", demo_config(sim.url, str(tmp_path / "s.sqlite"), digest=DIGEST)
    )
    sync(config, NEXT_MONDAY)
    (first,) = bot(sim, "APP-1")
    # A person with the rights (here the bot's account) deletes it in the tracker.
    gone = requests.delete(
        f"{sim.url}/rest/api/3/issue/APP-1/comment/{first['id']}",
        auth=("chase-bot@example.com", "demo-token"),
        timeout=10,
    )
    assert gone.status_code == 204
    out = sync(config, "2026-11-27T16:00:00Z")
    assert "weekly check on APP-1: created comment" in out
    assert len(bot(sim, "APP-1")) == 1


def test_a_lost_state_finds_the_weeks_comment_instead_of_adding_one(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    state = tmp_path / "s.sqlite"
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, str(state), digest=DIGEST))
    sync(config, FRIDAY)
    (first,) = bot(sim, "APP-1")
    state.unlink()
    out = sync(config, FRIDAY_LATER)
    assert "weekly check on APP-1: created" not in out
    (kept,) = bot(sim, "APP-1")
    assert kept["id"] == first["id"]


def test_extra_copies_of_the_weeks_comment_are_deleted(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = write_toml(
        tmp_path / "c.toml", demo_config(sim.url, str(tmp_path / "s.sqlite"), digest=DIGEST)
    )
    sync(config, FRIDAY)
    (first,) = bot(sim, "APP-1")
    # A second copy, as a run from a restored backup of the state would have made it.
    copy = requests.post(
        f"{sim.url}/rest/api/3/issue/APP-1/comment",
        json={"body": first["body"],
              "properties": [{"key": k, "value": v} for k, v in first["properties"].items()]},
        auth=("chase-bot@example.com", "demo-token"),
        timeout=10,
    )  # fmt: skip
    assert copy.status_code == 201
    assert len(bot(sim, "APP-1")) == 2
    out = sync(config, FRIDAY_LATER)
    assert "weekly check on APP-1: created" not in out and "deleted 1 extra copies" in out
    (kept,) = bot(sim, "APP-1")
    assert kept["id"] == first["id"]
    assert "deleted" not in sync(config, FRIDAY_LATER)


def test_a_missing_digest_issue_is_one_clear_line_and_exit_4(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = write_toml(
        tmp_path / "c.toml",
        demo_config(sim.url, str(tmp_path / "s.sqlite"), digest={"issue": "APP-9999"}),
    )
    out = sync(config, FRIDAY, code=4)
    assert "write failed: weekly check on APP-9999 failed: digest.issue: " in out
    assert "HTTP 404 while reading comments of APP-9999" in out


def test_data_center_escapes_the_weekly_check_and_keeps_it_apart(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter")
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"), digest={"issue": "APP-108"})
    data["jira"].update({"deployment": "datacenter", "email": ""})
    data["goals"][0]["name"] = "Release {anchor:x} [evil|http://evil] *1.4*"
    config = write_toml(tmp_path / "c.toml", data)
    sync(config, FRIDAY)
    mine = bot(sim, "APP-108")
    # APP-108 is flagged itself: its own managed comment and the weekly check, apart.
    assert len(mine) == 2
    markers = [(parse_wiki_marker(c["body"]), parse_wiki_marker(c["body"], "digest")) for c in mine]
    assert sorted(m is not None for m, _ in markers) == [False, True]
    weekly = next(c["body"] for c, (_, d) in zip(mine, markers) if d is not None)
    assert weekly.startswith(f"{{anchor:jira-chase-digest-{FORMAT_VERSION}-")
    assert r"Release \{anchor\:x\} \[evil\|http\:" in weekly
    assert "[evil|" not in weekly and "{anchor:x}" not in weekly
    sync(config, FRIDAY_LATER)
    assert len(bot(sim, "APP-108")) == 2


def test_zentao_gets_the_weekly_check_on_a_story(tmp_path, zentao_sim):  # noqa: F811
    sim = zentao_sim()
    config = write_toml(
        tmp_path / "c.toml",
        zentao_config(sim.url, str(tmp_path / "s.sqlite"), digest={"issue": "story-1"}),
    )
    out = sync(config, FRIDAY)
    assert "weekly check on story-1: created comment" in out
    mine = [c for c in sim.comments("story-1") if parse_zentao_marker(c["comment"], "digest")]
    assert len(mine) == 1 and "weekly check" in mine[0]["comment"]
    assert "unchanged" in sync(config, FRIDAY)


def test_a_zentao_digest_issue_must_be_a_zentao_item(tmp_path):
    config = write_toml(
        tmp_path / "c.toml",
        zentao_config("http://z", str(tmp_path / "s.sqlite"), digest={"issue": "APP-1"}),
    )
    result = CliRunner().invoke(main, ["plan", "--config", str(config)])
    assert result.exit_code == 2
    assert "digest.issue 'APP-1' is not a ZenTao item" in result.stderr


@pytest.mark.parametrize("url", ["https://x/a b", "https://x/[a|b]", "ftp://x"])
def test_report_url_must_be_a_plain_link(tmp_path, url):
    config = write_toml(
        tmp_path / "c.toml",
        demo_config("http://j", str(tmp_path / "s.sqlite"),
                    digest={"issue": "APP-1", "report_url": url}),
    )  # fmt: skip
    result = CliRunner().invoke(main, ["plan", "--config", str(config)])
    assert result.exit_code == 2 and "digest.report_url" in result.stderr
