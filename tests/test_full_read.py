"""A full read of the scope at least every `state.full_read_hours` (default daily): what
the incremental pull cannot see (a comment deleted without touching the issue's
`updated`) is corrected by it. Real simulator, real sockets, real state file; the time
since the last full read is moved back in the state file, as a day passing would."""

from datetime import datetime, timedelta, timezone

import pytest
import requests
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.sources.jira.reading import FETCH_FACTS
from jira_chase.store.state import StateStore
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"


def sync(config):
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", NOW])
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def bot_comments(sim, key):
    return [c for c in sim.comments(key) if c["author"] == "u-bot"]


def last_full_read_ago(path, hours):
    with StateStore(path) as store:
        then = datetime.now(timezone.utc) - timedelta(hours=hours)
        store.remember(FETCH_FACTS, "full", then.isoformat())


@pytest.mark.parametrize(("setting", "ago"), [(None, 25), (2, 3)])
def test_a_comment_deleted_without_touching_the_issue_is_written_again(
    tmp_path, jira_sim, setting, ago
):
    sim = jira_sim(build_demo_dataset(), comment_delete_touches=False)
    data = demo_config(sim.url, "s.sqlite")
    if setting is not None:
        data["state"]["full_read_hours"] = setting
    config = write_toml(tmp_path / "c.toml", data)
    sync(config)
    sync(config)  # reads again what the first run's writes touched
    (comment,) = bot_comments(sim, "APP-108")
    updated = sim.issue("APP-108").updated
    gone = requests.delete(
        f"{sim.url}/rest/api/3/issue/APP-108/comment/{comment['id']}",
        auth=("chase-bot@example.com", "demo-token"),
        timeout=10,
    )
    assert gone.status_code == 204 and sim.issue("APP-108").updated == updated
    last_full_read_ago(tmp_path / "s.sqlite", ago - 2)
    sync(config)  # too soon for a full read: the deletion is not visible
    assert bot_comments(sim, "APP-108") == []
    last_full_read_ago(tmp_path / "s.sqlite", ago)
    sync(config)  # the full read sees it
    (again,) = bot_comments(sim, "APP-108")
    assert again["id"] != comment["id"]
    sync(config)
    assert len(bot_comments(sim, "APP-108")) == 1
