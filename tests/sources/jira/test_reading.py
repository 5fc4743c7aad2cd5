"""The reading side beyond the scope's issues: the site's names and given issues' labels."""

from __future__ import annotations

import pytest

from jira_chase.errors import TrackerError
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import (
    FORBIDDEN,
)
from jira_chase.sources.jira import JiraSource
from tests.sources.jira.factories import default_settings, only, settings


def test_known_names_are_the_sites_statuses_and_resolutions(demo_sim):
    source = JiraSource(default_settings(demo_sim.url))
    names = source.known_names()
    assert names.statuses == ("Closed", "Code Review", "Done", "In Progress", "In QA", "To Do")
    assert not names.typed
    resolutions = source.known_resolutions()
    assert "Won't Do" in resolutions and "Duplicate" in resolutions


def test_reading_labels_refused_with_403_fails_the_run(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "GET */issue/OPS-24"))
    with pytest.raises(TrackerError, match="HTTP 403 while reading OPS-24"):
        JiraSource(settings(sim.url)).labels_of(["OPS-24"])
