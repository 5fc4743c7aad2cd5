"""Waits between teams over real sockets: a link made through Jira's API shows up in the
next sync's history and starts a wait; finishing the blocker ends it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)


def sync(config: Any, now: datetime) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--now", now.isoformat(), "--json"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_a_link_made_in_jira_starts_a_wait_and_finishing_the_blocker_ends_it(
    tmp_path, jira_sim, deployment
):
    moment = [NOW]
    sim = jira_sim(build_demo_dataset(), deployment=deployment, clock=lambda: moment[0])
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"), cooperation={"wait_days": 1})
    if deployment == "datacenter":
        data["jira"].update({"deployment": "datacenter", "email": ""})
    config = write_toml(tmp_path / "c.toml", data)
    before = sync(config, NOW)
    planted = before["team"]["waits"]["APP"]["caused"]["open"]  # (the demo's own)

    # The platform team's OPS-16 now waits on APP-150: linked as people link issues.
    api = "3" if deployment == "cloud" else "2"
    auth = {"auth": ("gustavo.reyes@example.com", "t")} if deployment == "cloud" else {
        "headers": {"Authorization": "Bearer demo-token"}
    }  # fmt: skip
    moment[0] = NOW + timedelta(minutes=5)
    answer = requests.post(
        f"{sim.url}/rest/api/{api}/issueLink",
        json={"type": {"name": "Blocks"}, "outwardIssue": {"key": "APP-150"},
              "inwardIssue": {"key": "OPS-16"}},
        timeout=10, **auth,
    )  # fmt: skip
    assert answer.status_code == 201
    assert any(i.field == "Link" for h in sim.issue("APP-150").histories for i in h.items)

    # Three working days later OPS-16 has waited past twice the limit: APP-150 hears it.
    later = sync(config, NOW + timedelta(days=5))
    caused = later["team"]["waits"]["APP"]["caused"]
    assert caused["open"] == planted + 1
    assert ("OPS-16", "APP-150") in [(w["waiting"], w["blocker"]) for w in caused["open_now"]]
    (issue,) = [i for i in later["issues"] if i["key"] == "APP-150"]
    (finding,) = [f for f in issue["findings"] if f["rule"] == "blocking-other-team"]
    assert finding["severity"] == "critical" and finding["evidence"]["waiting issue"] == "OPS-16"
    labels = [op for op in later["applied"] if op["issue"] == "APP-150" and op["kind"] == "labels"]
    assert "chase-blocking" in labels[0]["add"]

    # APP-150 is finished: the wait ends there, and the finding comes off.
    moment[0] = NOW + timedelta(days=5, hours=1)
    sim.move("APP-150", "Done", "u-ann")
    done = sync(config, NOW + timedelta(days=6))
    caused = done["team"]["waits"]["APP"]["caused"]
    assert caused["open"] == planted and caused["count"] == planted + 1
    assert ("OPS-16", "APP-150") not in [(w["waiting"], w["blocker"]) for w in caused["open_now"]]
    assert not [i for i in done["issues"] if i["key"] == "APP-150" and any(
        f["rule"] == "blocking-other-team" for f in i["findings"])]  # fmt: skip
