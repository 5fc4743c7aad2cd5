"""What rarely changes on a Jira site (its server info, the bot's account, statuses and
fields) is read once a day, not on every run: an idle run sends only the requests that
look for change. Read again when a day has passed, when the configured statuses do not
match what was kept, after an error, and with other credentials.

Real simulator (Cloud and Data Center), real sockets, real SQLite.
"""

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.sources.base import SITE_FACTS
from jira_chase.store.state import StateStore
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
RARE = ("/serverInfo", "/myself", "/status", "/field")


def invoke(command, config, *extra):
    result = CliRunner().invoke(main, [command, "--config", str(config), "--now", NOW, *extra])
    return result


def run(command, config):
    result = invoke(command, config, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def make(tmp_path, jira_sim, deployment="cloud"):
    sim = jira_sim(build_demo_dataset(), deployment=deployment)

    def config(**jira):
        data = demo_config(sim.url, "s.sqlite", jira={"scope": "project = APP ORDER BY key"})
        if deployment == "datacenter":
            data["jira"].update({"deployment": "datacenter", "email": ""})
        data["jira"].update(jira)
        return write_toml(tmp_path / "c.toml", data)

    return sim, config


def rare(sim):
    return [path for _, path in sim.requests if path.split("?")[0].endswith(RARE)]


def age_facts(tmp_path, hours):
    """Make the kept site facts `hours` older."""
    with StateStore(tmp_path / "s.sqlite") as store:
        for name, value in store.recall(SITE_FACTS).items():
            doc = json.loads(value)
            doc["at"] = (datetime.fromisoformat(doc["at"]) - timedelta(hours=hours)).isoformat()
            store.remember(SITE_FACTS, name, json.dumps(doc))


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_an_idle_run_sends_only_the_requests_that_look_for_change(tmp_path, jira_sim, deployment):
    sim, config = make(tmp_path, jira_sim, deployment)
    first = run("sync", config())
    assert len(rare(sim)) == 4, sim.requests
    run("sync", config())  # reads what the first run wrote
    sim.reset_counts()
    idle = run("sync", config())
    assert idle["summary"]["planned"] == 0
    assert idle["summary"]["unhealthy"] == first["summary"]["unhealthy"]
    assert rare(sim) == []
    # The window listing, the scope's count and the blockers outside the scope.
    assert len(sim.requests) <= (3 if deployment == "cloud" else 4), sim.requests
    sim.reset_counts()
    assert run("plan", config())["operations"] == []
    assert rare(sim) == []


def test_site_facts_are_read_again_after_a_day(tmp_path, jira_sim):
    sim, config = make(tmp_path, jira_sim)
    run("sync", config())
    age_facts(tmp_path, 23)
    sim.reset_counts()
    run("sync", config())
    assert rare(sim) == []
    age_facts(tmp_path, 2)
    sim.reset_counts()
    run("sync", config())
    assert sorted(p.rsplit("/", 1)[1] for p in rare(sim)) == ["field", "myself", "serverInfo",
                                                              "status"]  # fmt: skip


def test_statuses_missing_from_the_kept_list_are_asked_again(tmp_path, jira_sim):
    sim, config = make(tmp_path, jira_sim)
    run("sync", config())
    with StateStore(tmp_path / "s.sqlite") as store:
        doc = json.loads(store.recall(SITE_FACTS)["status"])
        doc["value"] = [s for s in doc["value"] if s["name"] != "Code Review"]
        store.remember(SITE_FACTS, "status", json.dumps(doc))
    sim.reset_counts()
    run("sync", config())
    assert [p for p in rare(sim) if p.endswith("/status")], sim.requests
    sim.reset_counts()
    run("sync", config())
    assert rare(sim) == []


def test_an_error_or_other_credentials_make_the_next_run_read_them_again(tmp_path, jira_sim):
    sim, config = make(tmp_path, jira_sim)
    run("sync", config())
    failed = invoke("sync", config(scope="project = APP AND nonsense ~ ((("))
    assert failed.exit_code != 0
    sim.reset_counts()
    run("sync", config())
    assert len(rare(sim)) == 4, sim.requests
    sim.reset_counts()
    run("sync", config(token="another-token"))
    assert [p for p in rare(sim) if p.endswith("/myself")], sim.requests


def test_check_always_asks_the_tracker(tmp_path, jira_sim):
    sim, config = make(tmp_path, jira_sim)
    run("sync", config())
    sim.reset_counts()
    result = CliRunner().invoke(main, ["check", "--config", str(config())])
    assert result.exit_code == 0, result.output + result.stderr
    assert [p for p in rare(sim) if p.endswith("/status")], sim.requests
