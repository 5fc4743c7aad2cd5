"""The Jira simulator's transitions, its comment size limit, and the fields other Jira
clients rely on (null changelog values, resolution), in both flavours; every answer is
checked against the vendored OpenAPI documents by the `jira_sim` fixture."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import jira
import pytest
import requests

from jira_chase.engine.comment import COMMENT_LIMIT, adf_length, to_adf
from jira_chase.simulator.jira_json import text_to_adf
from tests.conftest import SimulatorFactory

MOVED_AT = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
ANN = ("ann@example.com", "any-token")
FLAVOURS = [("cloud", "3"), ("cloud", "2"), ("datacenter", "2")]


def fixed_clock() -> datetime:
    return MOVED_AT


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_a_transition_moves_the_issue_and_writes_history_and_resolution(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, deployment: str
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=deployment, clock=fixed_clock)
    version = "3" if deployment == "cloud" else "2"
    base = f"{sim.url}/rest/api/{version}/issue/APP-2"
    offered = requests.get(f"{base}/transitions", auth=ANN, timeout=10).json()["transitions"]
    assert "In Progress" not in {t["to"]["name"] for t in offered}  # where it is now
    done = next(t for t in offered if t["to"]["name"] == "Done")
    moved = requests.post(
        f"{base}/transitions", json={"transition": {"id": done["id"]}}, auth=ANN, timeout=10
    )
    assert moved.status_code == 204
    issue = requests.get(
        base, params={"fields": "*all", "expand": "changelog"}, auth=ANN, timeout=10
    ).json()
    assert issue["fields"]["status"]["name"] == "Done"
    assert issue["fields"]["resolution"]["name"] == "Done"
    expected = (
        "2026-11-20T15:00:00.000+0000"
        if deployment == "cloud"
        else (
            "2026-11-21T02:00:00.000+1100"  # (Data Center writes its own zone's offset)
        )
    )
    assert issue["fields"]["resolutiondate"] == expected
    last = issue["changelog"]["histories"][-1]
    status, resolution = last["items"]
    assert (status["fromString"], status["toString"]) == ("In Progress", "Done")
    assert (resolution["field"], resolution["from"], resolution["fromString"]) == (
        "resolution", None, None,
    )  # fmt: skip
    assert resolution["toString"] == "Done"
    for history in issue["changelog"]["histories"]:
        for item in history["items"]:
            assert {"from", "fromString", "to", "toString"} <= item.keys()

    back = next(
        t["id"]
        for t in requests.get(f"{base}/transitions", auth=ANN, timeout=10).json()["transitions"]
        if t["to"]["name"] == "In Progress"
    )
    requests.post(f"{base}/transitions", json={"transition": {"id": back}}, auth=ANN, timeout=10)
    reopened = requests.get(base, params={"fields": "*all"}, auth=ANN, timeout=10).json()
    assert reopened["fields"]["resolution"] is None
    assert reopened["fields"]["resolutiondate"] is None


def test_issues_done_in_the_dataset_carry_their_resolution(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment="datacenter")
    fields = requests.get(
        f"{sim.url}/rest/api/2/issue/APP-4", params={"fields": "*all"}, auth=ANN, timeout=10
    ).json()["fields"]
    assert fields["status"]["name"] == "Done"
    assert fields["resolution"]["name"] == "Done" and fields["resolutiondate"]
    open_issue = requests.get(
        f"{sim.url}/rest/api/2/issue/APP-3", params={"fields": "*all"}, auth=ANN, timeout=10
    ).json()["fields"]
    assert open_issue["resolution"] is None and open_issue["resolutiondate"] is None


def test_a_transition_the_issue_cannot_take_is_refused(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    url = f"{sim.url}/rest/api/3/issue/APP-2/transitions"
    for body in ({"transition": {"id": "99999"}}, {}, {"transition": {"id": "1"}, "x": 1}):
        answer = requests.post(url, json=body, auth=ANN, timeout=10)
        assert answer.status_code == 400 and answer.json()["errorMessages"]


def test_the_jira_library_transitions_an_issue(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, clock=fixed_clock)
    client = jira.JIRA(server=sim.url, basic_auth=ANN)
    names = {t["name"] for t in client.transitions("APP-2")}
    assert "Code Review" in names
    client.transition_issue("APP-2", "Code Review")
    assert client.issue("APP-2").fields.status.name == "Code Review"


@pytest.mark.parametrize(("deployment", "version"), FLAVOURS)
def test_a_comment_over_the_limit_is_refused_as_jira_does(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, deployment: str, version: str
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=deployment)
    url = f"{sim.url}/rest/api/{version}/issue/APP-1/comment"

    def body(size: int) -> Any:
        if version == "2":
            return "x" * size
        doc = text_to_adf("")
        doc["content"][0]["content"] = [{"type": "text", "text": ""}]
        overhead = adf_length(doc)
        doc["content"][0]["content"][0]["text"] = "x" * (size - overhead)
        assert adf_length(doc) == size
        return doc

    fits = requests.post(url, json={"body": body(COMMENT_LIMIT)}, auth=ANN, timeout=10)
    assert fits.status_code == 201
    refused = requests.post(url, json={"body": body(COMMENT_LIMIT + 1)}, auth=ANN, timeout=10)
    assert refused.status_code == 400
    assert refused.json() == {
        "errorMessages": [],
        "errors": {
            "comment": "The entered text is too long. It exceeds the allowed limit of "
            "32,767 characters."
        },
    }
    comment_id = fits.json()["id"]
    edited = requests.put(
        f"{url}/{comment_id}", json={"body": body(COMMENT_LIMIT + 1)}, auth=ANN, timeout=10
    )
    assert edited.status_code == 400


def test_the_limit_counts_adf_as_the_client_measures_it() -> None:
    from jira_chase.engine.comment import CommentDoc
    from jira_chase.simulator.jira_common import comment_length

    doc = to_adf(CommentDoc('h\u00e9\u4e2d "quoted" <b>', (), "footer", "d"))
    assert comment_length(doc) == adf_length(doc)


def test_the_jira_library_edits_the_summary_and_the_assignee(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, clock=fixed_clock)
    client = jira.JIRA(server=sim.url, basic_auth=ANN)
    issue = client.issue("APP-2")
    issue.update(fields={"summary": "Checkout, rebuilt", "assignee": {"accountId": "u-ann"}})
    fields = client.issue("APP-2").fields
    assert fields.summary == "Checkout, rebuilt" and fields.assignee.accountId == "u-ann"
    changes = requests.get(
        f"{sim.url}/rest/api/3/issue/APP-2", params={"expand": "changelog"}, auth=ANN, timeout=10
    ).json()["changelog"]["histories"][-1]
    assert changes["created"] == "2026-11-20T15:00:00.000+0000"
    summary, assignee = changes["items"]
    assert (summary["from"], summary["toString"]) == (None, "Checkout, rebuilt")
    assert (assignee["from"], assignee["to"]) == ("u-bob", "u-ann")


@pytest.mark.parametrize(
    ("deployment", "who"),
    [("cloud", {"accountId": "u-nobody"}), ("datacenter", {"name": "u-nobody"})],
)
def test_an_edit_naming_an_unknown_user_or_an_empty_summary_is_refused(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, deployment: str, who: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=deployment)
    url = f"{sim.url}/rest/api/2/issue/APP-2"
    for fields, key in (({"assignee": who}, "assignee"), ({"summary": " "}, "summary")):
        answer = requests.put(url, json={"fields": fields}, auth=ANN, timeout=10)
        assert answer.status_code == 400 and key in answer.json()["errors"]
    moved = requests.put(
        url, json={"fields": {"assignee": dict(who, **{next(iter(who)): "u-ann"})}},
        auth=ANN, timeout=10,
    )  # fmt: skip
    assert moved.status_code == 204
    assert sim.issue("APP-2").assignee == "u-ann"
