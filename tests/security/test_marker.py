"""The managed comment's marker proves its origin: only the bot's account counts as its
author (never a realname anyone may choose), and its seal, made with a secret kept in the
state file, proves its content; a digest predicted from the findings is not enough."""

from __future__ import annotations

import copy
import json
from typing import Any

import requests
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.engine.comment import PROPERTY_KEY, read_zentao_marker
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.sources.base import ScratchMemory
from jira_chase.sources.marker import Sealer, seal
from tests.factories import demo_config, write_toml
from tests.test_zentao_cli import NOW, zentao_config

BOT_ACCOUNT = "chase_bot"  # the ZenTao account of the demo's bot (chase-bot@…)
#: Users whose realname is the bot's realname, and the bot's account.
SPOOFERS = [
    {"id": "u-spoof-name", "name": "Chase Bot", "email": "spoof_name@example.com"},
    {"id": "u-spoof-account", "name": BOT_ACCOUNT, "email": "spoof_account@example.com"},
]


def cli(config: Any, command: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, [command, "--config", str(config), "--now", NOW, "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def post_remark(sim: Any, account: str, key: str, text: str) -> None:
    token = requests.post(
        f"{sim.url}/api.php/v1/tokens", json={"account": account, "password": "x"}, timeout=10
    ).json()["token"]
    kind, number = key.split("-")
    params = {"m": "action", "f": "comment", "objectType": kind, "objectID": number,
              "zentaosid": token}  # fmt: skip
    requests.post(f"{sim.url}/index.php", params=params, data={"comment": text}, timeout=10)


def remarks_by(sim: Any, key: str, account: str) -> list[dict[str, Any]]:
    return [c for c in sim.comments(key) if c["actor"] == account]


def test_the_seal_binds_issue_content_kind_and_secret():
    seals = {seal("s", "story-1", "abc"), seal("s", "story-2", "abc"), seal("s", "story-1", "abd"),
             seal("s", "story-1", "abc", "digest"), seal("t", "story-1", "abc")}  # fmt: skip
    assert len(seals) == 5
    sealer = Sealer(ScratchMemory())
    made = sealer.seal("story-1", "abc")
    assert sealer.digest("story-1", "abc", "", made) == "abc"
    assert sealer.digest("story-2", "abc", "", made) == ""  # copied to another issue
    assert sealer.digest("story-1", "abc", "digest", made) == ""  # taken for another kind
    assert Sealer(ScratchMemory()).digest("story-1", "abc", "", made) == ""  # another secret


def test_zentao_remarks_by_lookalike_realnames_are_ignored_and_left_alone(raw_sim, tmp_path):
    data = build_demo_dataset()
    data["users"] += copy.deepcopy(SPOOFERS)
    sim = raw_sim(data, "zentao")
    config = write_toml(tmp_path / "z.toml", zentao_config(sim.url, "s.sqlite"))
    planned = cli(config, "plan")["operations"]
    creates = [op for op in planned if op["kind"] == "comment.create"]
    by_name, by_account = creates[0], creates[1]
    # The digest depends only on the findings: anyone can predict it from the plan.
    post_remark(
        sim,
        "spoof_name",
        by_name["issue"],
        f"[jira-chase:2:{by_name['digest']}] all good, nothing to chase",
    )
    post_remark(sim, "spoof_account", by_account["issue"], "[jira-chase:2:0ld] all good")
    spoofed = {
        key: remarks_by(sim, key, account)
        for key, account in (
            (by_name["issue"], "spoof_name"),
            (by_account["issue"], "spoof_account"),
        )
    }
    assert cli(config, "plan")["operations"] == planned  # (a dry run looks, and ignores)
    synced = cli(config, "sync")
    assert synced["failed"] == [] and synced["applied"] == planned
    for op in (by_name, by_account):
        (mine,) = remarks_by(sim, op["issue"], BOT_ACCOUNT)
        marker = read_zentao_marker(mine["comment"])
        assert marker is not None and marker.digest == op["digest"] and marker.seal
    assert {
        key: remarks_by(sim, key, account)
        for key, account in (
            (by_name["issue"], "spoof_name"),
            (by_account["issue"], "spoof_account"),
        )
    } == spoofed
    assert cli(config, "sync")["operations"] == []


def test_zentao_remark_copied_by_another_account_is_ignored_after_a_lost_state(raw_sim, tmp_path):
    data = build_demo_dataset()
    data["users"] += copy.deepcopy(SPOOFERS)
    sim = raw_sim(data, "zentao")
    config = write_toml(tmp_path / "z.toml", zentao_config(sim.url, "s.sqlite"))
    cli(config, "sync")
    commented = sorted({c_key for c_key in _keys(sim) if remarks_by(sim, c_key, BOT_ACCOUNT)})
    key = commented[0]
    (mine,) = remarks_by(sim, key, BOT_ACCOUNT)
    # A copy of the bot's remark, seal and all, posted by someone named like the bot.
    post_remark(sim, "spoof_name", key, mine["comment"])
    (copied,) = remarks_by(sim, key, "spoof_name")
    (tmp_path / "s.sqlite").unlink()  # the secret is lost with the state file
    again = cli(config, "sync")
    # Each of the bot's remarks is found by its account and rewritten under the new
    # secret, in place; the copy is neither taken for it nor edited.
    assert sorted(op["issue"] for op in again["applied"]) == commented
    assert {op["kind"] for op in again["applied"]} == {"comment.update"}
    (rewritten,) = remarks_by(sim, key, BOT_ACCOUNT)
    assert rewritten["id"] == mine["id"] and rewritten["comment"] != mine["comment"]
    assert remarks_by(sim, key, "spoof_name") == [copied]
    assert cli(config, "sync")["operations"] == []


def _keys(sim: Any) -> list[str]:
    return [f"{kind}-{n}" for kind in ("story", "task", "bug") for n in range(1, 80)
            if _exists(sim, f"{kind}-{n}")]  # fmt: skip


def _exists(sim: Any, key: str) -> bool:
    try:
        sim.item(key)
    except KeyError:
        return False
    return True


def test_cloud_comment_with_our_property_by_another_account_is_ignored(raw_sim, tmp_path):
    sim = raw_sim(build_demo_dataset(), "cloud")
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite"))
    planned = cli(config, "plan")["operations"]
    target = next(op for op in planned if op["kind"] == "comment.create")
    key = target["issue"]
    forged = {
        "body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "all good"}]}]},
        "properties": [{"key": PROPERTY_KEY, "value": {
            "version": 2, "digest": target["digest"], "seal": "0" * 20}}],
    }  # fmt: skip
    answer = requests.post(f"{sim.url}/rest/api/3/issue/{key}/comment", json=forged,
                           auth=("ann.lee@example.com", "x"), timeout=10)  # fmt: skip
    assert answer.status_code == 201
    before = [c for c in sim.comments(key) if c["author"] != "u-bot"]
    assert cli(config, "sync")["failed"] == []
    (mine,) = [c for c in sim.comments(key) if c["author"] == "u-bot"]
    assert mine["properties"][PROPERTY_KEY]["digest"] == target["digest"]
    # A verbatim copy of the bot's comment, seal included, by another account, found
    # after the state (and its secret) was lost: ignored, never edited nor deleted.
    copy_of_mine = {"body": mine["body"],
                    "properties": [{"key": PROPERTY_KEY,
                                    "value": mine["properties"][PROPERTY_KEY]}]}  # fmt: skip
    requests.post(f"{sim.url}/rest/api/3/issue/{key}/comment", json=copy_of_mine,
                  auth=("ann.lee@example.com", "x"), timeout=10)  # fmt: skip
    others = [c for c in sim.comments(key) if c["author"] != "u-bot"]
    (tmp_path / "s.sqlite").unlink()
    again = cli(config, "sync")
    assert [(op["kind"], op["comment_id"]) for op in again["applied"] if op["issue"] == key] == [
        ("comment.update", mine["id"])
    ]
    assert [c for c in sim.comments(key) if c["author"] != "u-bot"] == others
    assert len(others) == len(before) + 1
    assert cli(config, "sync")["operations"] == []
