"""Keyword writes, each changing nothing else, against the ZenTao simulator over real
sockets."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
import requests

from jira_chase.engine.plan import LABELS, Operation
from jira_chase.errors import IssueError
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.zentao import ZenTaoSimulator
from jira_chase.sources.base import ScratchMemory
from jira_chase.sources.zentao.items import REFUSED
from jira_chase.sources.zentao.source import ZenTaoSource
from tests.sources.zentao.conftest import settings


def test_labels_go_into_keywords_and_leave_the_others_alone(zentao_sim):
    sim = zentao_sim()
    source = ZenTaoSource(settings(sim.url))
    key = sim.key_of("APP-2")
    outcomes = source.apply([Operation(LABELS, key, add=("chase-at-risk",),
                                       remove=("chase-stale",))])  # fmt: skip
    assert [o.error for o in outcomes] == [None]
    assert sim.keywords(key) == "needs-design,chase-at-risk"
    source.apply([Operation(LABELS, key, remove=("chase-at-risk",))])
    assert sim.keywords(key) == "needs-design"


def test_a_story_in_review_is_edited_with_its_reviewers(zentao_sim):
    sim = zentao_sim(status_map={"To Do": {"story": "reviewing"}})
    source = ZenTaoSource(settings(sim.url))
    key = sim.key_of("APP-3")
    (outcome,) = source.apply([Operation(LABELS, key, add=("chase-stale",))])
    assert outcome.error is None and sim.labels(key) == ["chase-stale"]
    assert sim.item(key).reviewer == ["ann"]  # sent back unchanged


def test_tasks_cannot_carry_labels_and_none_are_planned_for_them(zentao_sim):
    sim = zentao_sim()
    source = ZenTaoSource(settings(sim.url))
    issues = {i.key: i for i in source.fetch_issues()}
    key = sim.key_of("APP-4")
    assert not issues[key].labels_supported and issues[key].labels == ()
    assert all(i.labels_supported for k, i in issues.items() if not k.startswith("task-"))
    sim.reset_counts()
    (outcome,) = source.apply([Operation(LABELS, key, add=("chase-off-track",))])
    assert isinstance(outcome.error, IssueError) and sim.requests == []
    # A task exists and carries no keywords.
    assert source.labels_of([key, "bug-1"]) == {key: (), "bug-1": ("needs-design", "chase-stale")}


def test_a_missing_item_is_a_per_issue_error_and_the_rest_is_done(zentao_sim):
    sim = zentao_sim()
    source = ZenTaoSource(settings(sim.url))
    outcomes = source.apply([
        Operation(LABELS, "bug-99", add=("chase-at-risk",)),
        Operation(LABELS, "bug-1", add=("chase-at-risk",)),
    ])  # fmt: skip
    assert isinstance(outcomes[0].error, IssueError) and outcomes[0].error.status == 404
    assert outcomes[1].error is None and "chase-at-risk" in sim.labels("bug-1")


UTC = timezone.utc


#: A closed bug with everything ZenTao 18.8's REST PUT loses, foreign keywords included.
CLOSED_BUG = {
    "status": "closed",
    "assignedTo": "closed",
    "keywords": "customer,needs-design",
    "deadline": date(2026, 12, 31),
    "os": "windows,linux",
    "browser": "chrome",
    "resolution": "fixed",
    "resolvedBy": "ann",
    "resolvedDate": datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
    "resolvedBuild": "trunk",
    "closedBy": "ann",
    "closedDate": datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
    "story": 1,
    "linkBug": "2",
    "mailto": "ann,cat",
    "confirmed": 1,
}


ROUND_TRIP = [
    Operation(LABELS, "?", add=("chase-stale",)),
    Operation(LABELS, "?", add=("chase-at-risk",), remove=("chase-stale",)),
    Operation(LABELS, "?", remove=("chase-at-risk",)),
]


def shown(sim: ZenTaoSimulator, key: str) -> dict[str, Any]:
    """What `GET /<kind>s/:id` shows, without the keywords and the edit's bookkeeping."""
    kind, number = key.split("-")
    token = requests.post(f"{sim.url}/api.php/v1/tokens", json={"account": "ann", "password": "x"})
    body = requests.get(f"{sim.url}/api.php/v1/{kind.replace('y', 'ie')}s/{number}",
                        headers={"Token": token.json()["token"]}).json()  # fmt: skip
    return {k: v for k, v in body.items()
            if k not in ("keywords", "lastEditedBy", "lastEditedDate", "actions")}  # fmt: skip


def round_trip(sim: ZenTaoSimulator, key: str) -> list[str]:
    """Label, relabel and unlabel `key`; every field but the keywords must stay as it
    was and each edit must log the keywords alone. Returns the keywords after each."""
    source = ZenTaoSource(settings(sim.url))
    row, view, logged = sim.stored(key), shown(sim, key), len(sim.item(key).actions)
    seen = []
    for op in ROUND_TRIP:
        (outcome,) = source.apply([Operation(LABELS, key, op.add, op.remove)])
        assert outcome.error is None, outcome.error
        after = sim.stored(key)
        assert {k: v for k, v in after.items() if k != "keywords"} == {
            k: v for k, v in row.items() if k != "keywords"
        }
        assert shown(sim, key) == view
        seen.append(after["keywords"])
    edits = sim.item(key).actions[logged:]
    assert [(a.action, [h.field for h in a.history]) for a in edits] == [
        ("edited", ["keywords"])
    ] * 3
    return seen


def test_a_closed_bug_is_labelled_relabelled_and_unlabelled_and_nothing_else_changes(
    zentao_sim,
):
    sim = zentao_sim()
    sim.set_fields("bug-1", **CLOSED_BUG)
    assert round_trip(sim, "bug-1") == [
        "customer,needs-design,chase-stale",
        "customer,needs-design,chase-at-risk",
        "customer,needs-design",
    ]


def test_an_active_bug_and_a_duplicate_of_another_keep_every_field(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("bug-1", os="android", browser="safari,firefox", story=1, mailto="bob",
                   keywords="a&amp;b,needs-design")  # fmt: skip
    assert round_trip(sim, "bug-1")[-1] == "a&amp;b,needs-design"  # as ZenTao stores it
    sim.set_fields("bug-2", status="resolved", resolution="duplicate", duplicateBug=1,
                   resolvedBy="ann", resolvedDate=datetime(2026, 11, 2, tzinfo=UTC),
                   assignedTo="cat")  # fmt: skip
    assert round_trip(sim, "bug-2")[0] == "infra,chase-stale"


def test_keywords_are_read_as_written_not_as_zentao_escapes_them(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("bug-1", keywords="R&amp;D")  # ZenTao stores "R&D" HTML-escaped
    source = ZenTaoSource(settings(sim.url))
    assert {i.key: i for i in source.fetch_issues()}["bug-1"].labels == ("R&D",)
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("chase-stale",))])
    assert outcome.error is None
    assert sim.keywords("bug-1") == "R&amp;D,chase-stale"  # a comma: `;` of `&amp;` is none
    assert source.labels_of(["bug-1"]) == {"bug-1": ("R&D", "chase-stale")}


@pytest.mark.parametrize(
    ("fields", "cause"),
    [
        ({"assignedTo": None}, "bug 1 is resolved and assigned to nobody; any ZenTao edit"),
        ({"confirmed": 0}, "bug 1 is resolved but not confirmed; any ZenTao edit of it"),
    ],
)
def test_a_bug_any_edit_would_change_is_not_edited(zentao_sim, fields, cause):
    sim = zentao_sim()
    sim.set_fields("bug-1", status="resolved", resolution="fixed", **fields)
    before = sim.stored("bug-1")
    source = ZenTaoSource(settings(sim.url))
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("chase-at-risk",))])
    assert outcome.error is not None and str(outcome.error).startswith(f"bug-1: {cause}")
    assert sim.stored("bug-1") == before and set(source.memory.recall(REFUSED)) == {"bug-1"}


def test_a_story_keeps_its_links_plans_stage_people_and_reviewers(zentao_sim):
    sim = zentao_sim(status_map={"To Do": {"story": "draft"}})
    key = sim.key_of("APP-3")  # stage wait, in a plan
    sim.set_fields(key, assignedTo="bob", linkStories="1,3", mailto="ann,cat",
                   source="customer", feedbackBy="Jo", notifyEmail="jo@example.com",
                   keywords="Tom &amp; Jerry")  # fmt: skip
    reviewers = list(sim.item(key).reviewer)
    assert round_trip(sim, key)[-1] == "Tom &amp; Jerry"
    assert sim.item(key).reviewer == reviewers and sim.stored(key)["stage"] == "wait"


def test_a_lossy_write_is_a_data_safety_failure_and_stops_that_type(zentao_sim):
    sim = zentao_sim(edit_resets=("deadline",))
    source = ZenTaoSource(settings(sim.url))
    outcomes = source.apply([
        Operation(LABELS, "bug-1", add=("chase-at-risk",)),
        Operation(LABELS, "bug-2", add=("chase-at-risk",)),
        Operation(LABELS, "story-1", add=("chase-at-risk",)),
    ])  # fmt: skip
    first, second, story = (o.error for o in outcomes)
    assert first is not None and str(first).startswith("bug-1: DATA SAFETY")
    assert "also changed deadline (deadline '2026-11-01' -> None)" in str(first)
    assert second is not None and "writes no bug keywords" in str(second)
    assert story is None and "chase-at-risk" in sim.labels("story-1")
    edits = [p for m, p in sim.requests if m == "POST" and p == "/index.php"]
    assert len(edits) == 2  # one bug edit, then the story's
    assert "chase-at-risk" not in sim.labels("bug-2")


def test_a_change_only_the_history_shows_is_a_data_safety_failure(zentao_sim):
    # A copy list stored with a leading comma reads as the same people, and the edit
    # form can only post the people: the stored text changes, and only the edit's
    # history row shows it.
    sim = zentao_sim()
    sim.set_fields("story-1", mailto=",ann,cat")
    (outcome,) = ZenTaoSource(settings(sim.url)).apply(
        [Operation(LABELS, "story-1", add=("chase-at-risk",))]
    )
    assert outcome.error is not None
    assert "also changed mailto (mailto ',ann,cat' -> 'ann,cat')" in str(outcome.error)


def test_keywords_zentao_changed_otherwise_are_reported(zentao_sim):
    sim = zentao_sim(edit_resets=("keywords",))  # the edit keeps no keywords at all
    source = ZenTaoSource(settings(sim.url))
    sim.reset_counts()
    done, wrong = source.apply([
        Operation(LABELS, "bug-1", add=("chase-stale",)),  # already there: nothing to do
        Operation(LABELS, "bug-1", add=("chase-at-risk",)),
    ])  # fmt: skip
    assert done.error is None
    assert wrong.error is not None
    assert str(wrong.error) == "bug-1: ZenTao did not keep the keywords (it has '')"
    assert [m for m, p in sim.requests if p == "/index.php"] == ["POST"]


def test_a_requirement_keeps_its_linked_requirements(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("story-1", type="requirement", linkRequirements="3")
    assert round_trip(sim, "story-1")[-1] == "customer"


def test_a_changing_story_is_labelled_unless_the_edit_would_clear_its_reviews(zentao_sim):
    sim = zentao_sim(status_map={"To Do": {"story": "changing"}})
    key = sim.key_of("APP-3")
    assert round_trip(sim, key)[-1] == ""
    sim.set_fields(key, reviewedBy="ann")
    source = ZenTaoSource(settings(sim.url))
    (outcome,) = source.apply([Operation(LABELS, key, add=("chase-stale",))])
    assert outcome.error is not None
    assert "is being changed and names who reviewed it" in str(outcome.error)
    assert sim.stored(key)["reviewedBy"] == "ann" and set(source.memory.recall(REFUSED)) == {key}


def test_a_draft_story_without_reviewers_is_not_edited(zentao_sim):
    sim = zentao_sim(status_map={"To Do": {"story": "draft"}})
    key = sim.key_of("APP-3")
    sim.set_fields(key, reviewer=[])
    (outcome,) = ZenTaoSource(settings(sim.url)).apply([Operation(LABELS, key, add=("x",))])
    assert outcome.error is not None and "ZenTao lists none for it" in str(outcome.error)


def test_a_duplicate_zentao_refuses_is_said_once_and_not_retried(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("bug-1", status="resolved", resolution="duplicate", duplicateBug=0)
    memory = ScratchMemory()
    source = ZenTaoSource(settings(sim.url))
    source.use_memory(memory)
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("chase-at-risk",))])
    assert outcome.error is not None
    assert str(outcome.error).startswith(
        "bug-1: bug 1 is resolved as duplicate; ZenTao rejects edits to it"
    )
    assert set(memory.recall(REFUSED)) == {"bug-1"}
    again = ZenTaoSource(settings(sim.url))
    again.use_memory(memory)
    issues = {i.key: i for i in again.fetch_issues()}
    assert not issues["bug-1"].labels_supported and issues["story-1"].labels_supported
    # Someone names the bug it duplicates: it changed, so it is labelled again.
    token = requests.post(f"{sim.url}/api.php/v1/tokens", json={"account": "ann", "password": "x"})
    form = {"m": "bug", "f": "batchEdit", "productID": 1, "zentaosid": token.json()["token"]}
    requests.post(f"{sim.url}/index.php", params=form, data=_named_duplicate(sim))
    third = ZenTaoSource(settings(sim.url))
    third.use_memory(memory)
    assert {i.key: i for i in third.fetch_issues()}["bug-1"].labels_supported
    assert memory.recall(REFUSED) == {}
    (outcome,) = third.apply([Operation(LABELS, "bug-1", add=("chase-at-risk",))])
    assert outcome.error is None and "chase-at-risk" in sim.labels("bug-1")


def _named_duplicate(sim: ZenTaoSimulator) -> list[tuple[str, str]]:
    row = sim.stored("bug-1")
    fields = {"titles": row["title"], "types": row["type"], "severities": row["severity"],
              "pris": row["pri"], "colors": "", "plans": 0, "modules": 0,
              "assignedTos": row["assignedTo"], "deadlines": row["deadline"].isoformat(),
              "resolvedBys": row["resolvedBy"], "keywords": row["keywords"],
              "resolutions": "duplicate", "duplicateBugs": 2}  # fmt: skip
    return [("bugIDList[1]", "1"), ("os[1][]", ""), ("browsers[1][]", "")] + [
        (f"{k}[1]", str(v)) for k, v in fields.items()
    ]


def test_an_edit_zentao_ignores_names_the_privilege_and_is_tried_again(zentao_sim):
    sim = zentao_sim(denied=("bug-batchEdit", "story-edit"))
    source = ZenTaoSource(settings(sim.url))
    bug, story = source.apply([
        Operation(LABELS, "bug-1", add=("chase-at-risk",)),
        Operation(LABELS, "story-1", add=("chase-at-risk",)),
    ])  # fmt: skip
    assert bug.error is not None and "needs the privilege bug-batchEdit" in str(bug.error)
    assert story.error is not None and "needs the privilege story-edit" in str(story.error)
    assert source.memory.recall(REFUSED) == {}


def test_keyword_edits_survive_lost_answers_and_report_failed_ones(zentao_sim):
    lost = FaultPlan(seed=1, rate=1.0, kinds=["reset-after"], endpoints=["POST /index.php"])
    sim = zentao_sim(faults=lost)
    (outcome,) = ZenTaoSource(settings(sim.url)).apply(
        [Operation(LABELS, "bug-1", add=("chase-at-risk",))]
    )
    assert outcome.error is None and "chase-at-risk" in sim.labels("bug-1")
    never = FaultPlan(seed=1, rate=1.0, kinds=["reset-before"], endpoints=["POST /index.php"])
    sim = zentao_sim(faults=never)
    (outcome,) = ZenTaoSource(settings(sim.url)).apply(
        [Operation(LABELS, "bug-1", add=("chase-at-risk",))]
    )
    assert outcome.error is not None and "got no answer" in str(outcome.error)
    failing = FaultPlan(seed=1, rate=1.0, kinds=["server-error"], endpoints=["POST /index.php"])
    sim = zentao_sim(faults=failing)
    (outcome,) = ZenTaoSource(settings(sim.url)).apply(
        [Operation(LABELS, "story-1", add=("chase-at-risk",))]
    )
    assert outcome.error is not None and outcome.error.status == 500
    assert "HTTP 500 on labels" in str(outcome.error)


def test_keywords_longer_than_zentao_keeps_are_not_sent(zentao_sim):
    sim = zentao_sim()
    sim.set_fields("bug-1", keywords="&amp;" * 50)  # "&" 50 times, as ZenTao stores it
    sim.reset_counts()
    (outcome,) = ZenTaoSource(settings(sim.url)).apply(
        [Operation(LABELS, "bug-1", add=("chase-at-risk",))]
    )
    assert outcome.error is not None and "past ZenTao's 255 characters" in str(outcome.error)
    assert [m for m, _ in sim.requests if m == "POST"] == ["POST"]  # the sign-in only
