"""`jira-chase filters`: saved filters for the labels, idempotent on Cloud and Data
Center (found again by name and owner), shared with the scope's projects where Jira lets
the bot; the simulator's filter endpoints refuse what Jira refuses."""

from __future__ import annotations

import json
from typing import Any

import requests
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.config.settings import ISSUE_FAMILIES
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml
from tests.test_zentao_cli import zentao_config

NAMES = ["chase off track", "chase at risk"] + [f"chase {f}" for f in ISSUE_FAMILIES]


def filters(config: Any, code: int = 0) -> Any:
    result = CliRunner().invoke(main, ["filters", "--config", str(config), "--json"])
    assert result.exit_code == code, result.output + result.stderr
    return json.loads(result.stdout)["filters"] if code == 0 else result.stderr


def config_for(tmp_path, sim, deployment="cloud", **sections):
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"), **sections)
    if deployment == "datacenter":
        data["jira"].update({"deployment": "datacenter", "email": ""})
    return write_toml(tmp_path / "c.toml", data)


def test_cloud_filters_are_created_once_then_left_alone_then_updated(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = config_for(tmp_path, sim)
    first = filters(config)
    assert [f["name"] for f in first] == NAMES
    assert {f["action"] for f in first} == {"created"}
    assert all(f["url"] == f"{sim.url}/issues/?filter={f['id']}" for f in first)
    assert all(f["shared_with"] == ["APP"] for f in first)
    saved = sim.api.saved_filters
    assert len(saved) == len(NAMES)
    off = next(s for s in saved.values() if s.name == "chase off track")
    assert off.jql == '(project = APP) AND labels = "chase-off-track" ORDER BY updated DESC'
    assert off.owner == "u-bot" and off.shares == [("project", "APP")]

    again = filters(config)
    assert {f["action"] for f in again} == {"unchanged"}
    assert [f["id"] for f in again] == [f["id"] for f in first]

    wider = config_for(tmp_path, sim, jira={"scope": "project in (APP, OPS)"},
                       rules={"disabled": ["estimate"]})  # fmt: skip
    updated = filters(wider)
    assert [f["name"] for f in updated] == [n for n in NAMES if n != "chase estimate"]
    assert {f["action"] for f in updated} == {"updated"}
    assert updated[0]["shared_with"] == ["APP", "OPS"]
    assert len(sim.api.saved_filters) == len(NAMES)  # nothing duplicated
    assert off.id in {f["id"] for f in updated}


def test_data_center_finds_its_filters_among_the_favourites(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter")
    config = config_for(tmp_path, sim, "datacenter")
    first = filters(config)
    assert {f["action"] for f in first} == {"created"}
    assert first[0]["url"].startswith(f"{sim.url}/secure/IssueNavigator.jspa?")
    assert {f["action"] for f in filters(config)} == {"unchanged"}
    assert len(sim.api.saved_filters) == len(NAMES)


def test_someone_elses_filter_of_the_same_name_is_not_taken(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    ann = requests.post(
        f"{sim.url}/rest/api/3/filter",
        json={"name": "chase off track", "jql": "project = APP",
              "sharePermissions": [{"type": "authenticated"}]},
        auth=("ann.lee@example.com", "token"), timeout=10,
    )  # fmt: skip
    assert ann.status_code == 200, ann.text
    first = filters(config_for(tmp_path, sim))
    assert first[0]["action"] == "created" and first[0]["id"] != ann.json()["id"]


def test_a_bot_that_may_not_share_gets_private_filters_and_is_told(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    sim.api.may_share_filters = False
    first = filters(config_for(tmp_path, sim))
    assert {f["action"] for f in first} == {"created"}
    assert all(f["shared_with"] == [] for f in first)
    assert (
        "Jira refused sharing it: sharePermissions: You do not have permission to share"
        in (first[0]["note"])
    )


def test_a_lost_favourite_is_one_clear_line(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter")
    config = config_for(tmp_path, sim, "datacenter")
    filters(config)
    for saved in sim.api.saved_filters.values():
        saved.favourite = False
    out = filters(config, code=3)
    assert "already owns a filter named 'chase off track'" in out
    assert "mark it as a favourite" in out


def test_the_simulator_refuses_what_jira_refuses(jira_sim):
    sim = jira_sim(build_demo_dataset())
    auth = ("ann.lee@example.com", "token")
    url = f"{sim.url}/rest/api/3/filter"
    ok = requests.post(url, json={"name": "Mine", "jql": "project = APP"}, auth=auth, timeout=10)
    assert ok.status_code == 200
    for body, field in (
        ({"name": "mine", "jql": "project = APP"}, "filterName"),
        ({"jql": "project = APP"}, "filterName"),
        ({"name": "Other", "jql": "project = = APP"}, "jql"),
        ({"name": "Other", "jql": "", "sharePermissions": [{"type": "project",
          "project": {"id": "999999"}}]}, "sharePermissions"),
    ):  # fmt: skip
        refused = requests.post(url, json=body, auth=auth, timeout=10)
        assert refused.status_code == 400 and field in refused.json()["errors"], refused.text
    bob = requests.put(f"{url}/{ok.json()['id']}", json={"name": "Mine", "jql": ""},
                       auth=("bob.martin@example.com", "t"), timeout=10)  # fmt: skip
    assert bob.status_code == 400
    mine = requests.get(f"{url}/my", auth=auth, timeout=10).json()
    assert [f["name"] for f in mine] == ["Mine"]
    assert requests.get(f"{url}/my", auth=("bob.martin@example.com", "t"), timeout=10).json() == []


def test_zentao_has_no_saved_filters_and_says_what_to_search(tmp_path):
    config = write_toml(tmp_path / "c.toml", zentao_config("http://z", str(tmp_path / "s")))
    result = CliRunner().invoke(main, ["filters", "--config", str(config)])
    assert result.exit_code == 0
    assert result.stdout.startswith("ZenTao has no saved filters.")
    assert "  chase off track: Keywords include chase-off-track" in result.stdout
