"""The site: signing in, the retries, and every way an answer can go wrong turned into
one error that names what to fix."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.errors import TrackerError
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import (
    FORBIDDEN,
    MALFORMED,
    RESET_BEFORE,
    SLOW,
    TRUNCATED,
)
from jira_chase.sources.jira import JiraSource
from tests.factories import demo_config, write_toml
from tests.sources.jira.factories import NOW, default_settings, only, settings


def test_bad_scope_jql_names_the_key(demo_sim):
    source = JiraSource(default_settings(demo_sim.url, scope="project = APP AND nonsense ~ x"))
    with pytest.raises(TrackerError, match=r"jira\.scope.*HTTP 400"):
        source.fetch_issues()


def test_wrong_credentials_give_one_clear_error(demo_sim):
    with pytest.raises(TrackerError, match=r"HTTP 401.*jira\.email"):
        JiraSource(default_settings(demo_sim.url, email="nobody@example.com")).identify()


def test_unreachable_site_is_a_tracker_error():
    with pytest.raises(TrackerError, match="cannot reach Jira|connecting"):
        JiraSource(default_settings("http://127.0.0.1:9", timeout=2, retries=0)).identify()


def test_identify_reports_the_bot(demo_sim):
    identity = JiraSource(default_settings(demo_sim.url)).identify()
    assert identity.deployment == "Cloud" and identity.user == "chase-bot@example.com"


def test_a_403_on_a_read_says_the_bot_lacks_permission(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "POST */search/jql"))
    source = JiraSource(settings(sim.url))
    with pytest.raises(TrackerError) as caught:
        source.fetch_issues()
    assert str(caught.value).startswith("Jira answered HTTP 403 while ")
    assert "the bot account lacks permission" in str(caught.value)
    assert "You do not have permission to perform this operation." in str(caught.value)


def test_a_403_on_a_read_fails_sync_with_one_line_and_exit_3(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "GET */field"))
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite"))
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", NOW.isoformat()])
    assert result.exit_code == 3
    (line,) = result.stderr.strip().splitlines()
    assert "HTTP 403 while listing fields" in line


def test_another_4xx_on_a_read_names_the_status_and_what_was_read(demo_sim):
    source = JiraSource(settings(demo_sim.url))
    with pytest.raises(TrackerError) as caught:
        source.find_managed_comment("APP-9999")
    assert str(caught.value) == (
        "Jira answered HTTP 404 while reading comments of APP-9999: "
        "Issue does not exist or you do not have permission to see it."
    )


def test_a_read_that_times_out_names_jira_timeout(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(SLOW, "GET */field", delay=1.0))
    source = JiraSource(settings(sim.url, timeout=0.3))
    with pytest.raises(TrackerError) as caught:
        source.reader.field_ids()
    assert str(caught.value) == (
        f"Jira did not answer within jira.timeout = 0.3s while listing fields ({sim.url})"
    )


def test_a_read_cut_off_every_time_gives_up_after_the_retries(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(TRUNCATED, "GET */field"))
    source = JiraSource(settings(sim.url, retries=2))
    with pytest.raises(TrackerError) as caught:
        source.reader.field_ids()
    assert "while listing fields" in str(caught.value)
    assert source.stats.retries == 2
    assert [p for _, p in sim.requests].count("/rest/api/3/field") == 3


def test_a_read_that_is_not_json_every_time_is_an_unexpected_answer(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(MALFORMED, "GET */field"))
    source = JiraSource(settings(sim.url, retries=1))
    with pytest.raises(TrackerError) as caught:
        source.reader.field_ids()
    assert str(caught.value).startswith("unexpected answer from Jira while listing fields")


def test_a_connection_lost_on_a_read_says_jira_cannot_be_reached(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(RESET_BEFORE, "GET */field"))
    source = JiraSource(settings(sim.url))
    with pytest.raises(TrackerError) as caught:
        source.reader.field_ids()
    assert str(caught.value).startswith(f"cannot reach Jira at {sim.url} while listing fields")


def test_cloud_settings_against_data_center_and_back_name_the_fix(jira_sim):
    dc = jira_sim(build_demo_dataset(), deployment="datacenter")
    with pytest.raises(TrackerError, match="set jira.deployment = 'datacenter', else check"):
        JiraSource(settings(dc.url)).identify()
    cloud = jira_sim(build_demo_dataset())
    # Cloud refuses a personal access token outright (Bearer is not its sign-in).
    with pytest.raises(TrackerError, match="HTTP 401 while checking the server: check the pers"):
        JiraSource(settings(cloud.url, deployment="datacenter", email="")).identify()
