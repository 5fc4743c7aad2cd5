"""Shared fixtures: a small realistic dataset and simulators checked against Jira's specs.

``jira_sim(dataset)`` starts a :class:`JiraSimulator` that records every exchange; when the
test ends the simulator stops and every recorded answer is validated against Atlassian's
Jira Cloud OpenAPI document, or with ``deployment="datacenter"`` the Data Center 10.3 one
(see ``tests/openapi_check.py``). Injected faults are not validated; every real answer is.
A test whose answers do not validate fails in teardown, naming the request and the problem.

    def test_labels(jira_sim, demo_like_dataset):
        sim = jira_sim(demo_like_dataset)
        http = requests.Session()
        http.auth = ("ann@example.com", "token")
        http.put(f"{sim.url}/rest/api/3/issue/APP-1", json={"update": {"labels": [{"add": "x"}]}})
        assert "x" in sim.labels("APP-1")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from jira_chase.simulator import JiraSimulator
from jira_chase.simulator.zentao import ZenTaoSimulator
from tests.openapi_check import (
    ApiSpec,
    CloudSpec,
    DcSpec,
    Exchange,
    load_cloud_spec,
    load_dc_spec,
    validate_exchanges,
)

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=timezone.utc)


def _at(day: int, hour: int = 9, minute: int = 0) -> str:
    return datetime(2026, 10, day, hour, minute, tzinfo=timezone.utc).isoformat()


def _change(at: str, by: str, field: str, old: str | None, new: str | None) -> dict[str, Any]:
    return {"at": at, "by": by, "field": field, "from": old, "to": new}


def _review_ping_pong(count: int) -> list[dict[str, Any]]:
    """``count`` status changes bouncing between In Progress and Code Review."""
    start = datetime(2026, 10, 2, 10, 0, tzinfo=timezone.utc)
    entries = [_change(start.isoformat(), "u-ann", "status", "To Do", "In Progress")]
    state = "In Progress"
    for number in range(1, count):
        target = "Code Review" if state == "In Progress" else "In Progress"
        at = start + timedelta(hours=3 * number)
        entries.append(_change(at.isoformat(), "u-ann", "status", state, target))
        state = target
    return entries


def build_demo_like_dataset() -> dict[str, Any]:
    """Ten issues in two projects: a 46-entry history, links, comments, foreign labels."""
    history = _review_ping_pong(44)  # ends in Code Review
    history.append(_change("2026-10-09T16:31:00Z", "u-ann", "assignee", "u-bob", "u-ann"))
    return {
        "format": "jira-chase-dataset/1",
        "now": NOW.isoformat(),
        "bot": "u-bot",
        "projects": [{"key": "APP", "name": "App team"}, {"key": "OPS", "name": "Platform team"}],
        "users": [
            {"id": "u-ann", "name": "Ann Lee", "email": "ann@example.com"},
            {"id": "u-bob", "name": "Bob Stone", "email": "bob@example.com"},
            {"id": "u-cat", "name": "Cat Diaz", "email": "cat@example.com"},
            {"id": "u-bot", "name": "Chase Bot", "email": "bot@example.com"},
        ],
        "statuses": [
            {"name": "To Do", "category": "new"},
            {"name": "In Progress", "category": "indeterminate"},
            {"name": "Code Review", "category": "indeterminate"},
            {"name": "Done", "category": "done"},
        ],
        "issues": [
            {
                "key": "APP-1",
                "project": "APP",
                "type": "Story",
                "summary": "Checkout page",
                "priority": "Medium",
                "status": "Code Review",
                "assignee": "u-ann",
                "reporter": "u-bob",
                "labels": ["customer"],
                "created": _at(1),
                "duedate": "2026-11-30",
                "fixVersions": ["Beta"],
                "parent": "APP-10",
                "estimate": 3,
                "history": history,
                "links": [
                    {"type": "Blocks", "direction": "inward", "key": "OPS-7", "since": _at(20)}
                ],
                "comments": [
                    {"at": _at(5, 8), "by": "u-bob", "body": "Can we ship this before Beta?"},
                    {"at": _at(6, 11), "by": "u-ann", "body": "Waiting for OPS-7.\n\nThen yes."},
                ],
            },
            {
                "key": "APP-2",
                "project": "APP",
                "type": "Bug",
                "summary": "Crash on empty cart",
                "priority": "High",
                "status": "In Progress",
                "assignee": "u-bob",
                "reporter": "u-ann",
                "labels": ["needs-design", "chase-stale"],
                "created": _at(3),
                "duedate": "2026-11-01",
                "history": [
                    _change(_at(4), "u-bob", "status", "To Do", "In Progress"),
                    _change(_at(4), "u-bob", "assignee", None, "u-bob"),
                    _change(_at(8), "u-bot", "labels", "needs-design", "needs-design chase-stale"),
                ],
            },
            {
                "key": "APP-3",
                "project": "APP",
                "type": "Story",
                "summary": "Gift cards",
                "priority": "Low",
                "status": "To Do",
                "reporter": "u-ann",
                "created": _at(10),
                "fixVersions": ["Beta"],
                "estimate": 5,
            },
            {
                "key": "APP-4",
                "project": "APP",
                "type": "Task",
                "summary": "Payment provider contract",
                "priority": "Medium",
                "status": "Done",
                "assignee": "u-cat",
                "reporter": "u-ann",
                "created": _at(2),
                "fixVersions": ["Beta"],
                "history": [
                    _change(_at(3), "u-cat", "status", "To Do", "In Progress"),
                    _change(_at(7), "u-cat", "status", "In Progress", "Code Review"),
                    _change(_at(9), "u-ann", "status", "Code Review", "Done"),
                ],
            },
            {
                "key": "APP-5",
                "project": "APP",
                "type": "Story",
                "summary": "Saved addresses",
                "priority": "Medium",
                "status": "In Progress",
                "assignee": "u-cat",
                "reporter": "u-cat",
                "created": _at(12),
                "flagged": True,
                "history": [
                    _change(_at(13), "u-cat", "status", "To Do", "In Progress"),
                    _change(_at(15), "u-cat", "Flagged", None, "Impediment"),
                ],
                "links": [{"type": "Relates", "direction": "outward", "key": "OPS-8"}],
            },
            {
                "key": "APP-10",
                "project": "APP",
                "type": "Epic",
                "summary": "Beta launch",
                "priority": "High",
                "status": "In Progress",
                "assignee": "u-ann",
                "reporter": "u-ann",
                "created": "2026-09-20T09:00:00+02:00",
                "history": [_change(_at(1), "u-ann", "status", "To Do", "In Progress")],
            },
            {
                "key": "APP-11",
                "project": "APP",
                "type": "Story",
                "summary": "Hotfix without review",
                "priority": "Highest",
                "status": "Done",
                "assignee": "u-bob",
                "reporter": "u-bob",
                "created": _at(14),
                "history": [
                    _change(_at(14, 10), "u-bob", "status", "To Do", "In Progress"),
                    _change(_at(14, 12), "u-bob", "status", "In Progress", "Done"),
                ],
            },
            {
                "key": "OPS-7",
                "project": "OPS",
                "type": "Task",
                "summary": "Rotate payment gateway certificates",
                "priority": "Highest",
                "status": "In Progress",
                "assignee": "u-cat",
                "reporter": "u-ann",
                "labels": ["infra"],
                "created": _at(11),
                "history": [_change(_at(18), "u-cat", "status", "To Do", "In Progress")],
            },
            {
                "key": "OPS-8",
                "project": "OPS",
                "type": "Bug",
                "summary": "Flaky deploys",
                "priority": "Medium",
                "status": "To Do",
                "reporter": "u-cat",
                "labels": ["infra"],
                "created": _at(16),
            },
            {
                "key": "OPS-9",
                "project": "OPS",
                "type": "Task",
                "summary": "Upgrade the database",
                "priority": "Low",
                "status": "Done",
                "assignee": "u-bob",
                "reporter": "u-bob",
                "created": _at(1),
                "history": [_change(_at(2), "u-bob", "status", "To Do", "Done")],
                "comments": [{"at": _at(2, 10), "by": "u-bot", "body": "Chase: all good."}],
            },
        ],
    }


@pytest.fixture(scope="session")
def cloud_spec() -> CloudSpec:
    """Atlassian's Jira Cloud OpenAPI document with our house rules, loaded once."""
    return load_cloud_spec()


@pytest.fixture(scope="session")
def dc_spec() -> DcSpec:
    """Atlassian's Jira Data Center 10.3 OpenAPI document with our house rules, loaded once."""
    return load_dc_spec()


@pytest.fixture
def demo_like_dataset() -> dict[str, Any]:
    """A fresh copy of the small realistic dataset (``now`` is 2026-11-05 12:00 UTC)."""
    return build_demo_like_dataset()


SimulatorFactory = Callable[..., JiraSimulator]


@pytest.fixture
def jira_sim(cloud_spec: CloudSpec) -> Iterator[SimulatorFactory]:
    """Start simulators whose every answer is checked against Jira's spec at teardown.

    ``jira_sim(dataset, *, deployment="cloud", clock=None, check_requests=False,
    **options)`` returns a started :class:`JiraSimulator`; ``deployment="datacenter"``
    validates against the Data Center spec, ``check_requests=True`` also validates request
    bodies, and ``options`` go to the simulator (``credentials``, ``tokens``, ``faults``,
    ``latency``, ``max_results_cap``, ``search_window``). The simulator's ``exchanges``
    list every request it received (with its query) and its answer.
    """
    started: list[tuple[JiraSimulator, list[Exchange], bool, ApiSpec]] = []

    def start(
        dataset: Any,
        *,
        deployment: str = "cloud",
        clock: Any = None,
        check_requests: bool = False,
        **options: Any,
    ) -> JiraSimulator:
        exchanges: list[Exchange] = []
        simulator = JiraSimulator(
            dataset,
            deployment=deployment,
            clock=clock,
            on_exchange=lambda *args: exchanges.append(Exchange(*args)),
            **options,
        )
        simulator.exchanges = exchanges  # what the simulator received, for assertions
        spec: ApiSpec = cloud_spec if deployment == "cloud" else load_dc_spec()
        started.append((simulator, exchanges, check_requests, spec))
        return simulator.start()

    yield start
    for simulator, *_ in started:
        simulator.stop()
    problems = []
    for _, exchanges, check_requests, spec in started:
        try:
            validate_exchanges(exchanges, spec=spec, check_requests=check_requests)
        except AssertionError as error:
            problems.append(str(error))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def zentao_sim() -> Iterator[Any]:
    """``zentao_sim(dataset=None, **options)`` starts a ZenTaoSimulator (default: the small
    demo-like dataset) and stops it after the test."""
    started: list[ZenTaoSimulator] = []

    def start(dataset: Any = None, **options: Any) -> ZenTaoSimulator:
        sim = ZenTaoSimulator(dataset or build_demo_like_dataset(), **options)
        started.append(sim.start())
        return sim

    yield start
    for sim in started:
        sim.stop()
