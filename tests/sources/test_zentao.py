"""The ZenTao source against the ZenTao simulator over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import pytest
import requests

from jira_chase.comment import RECOVERED, CommentDoc, CommentItem, parse_zentao_marker
from jira_chase.config import ZenTaoSettings
from jira_chase.errors import IssueError, TrackerError
from jira_chase.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, LABELS, Operation
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.zentao import ZenTaoSimulator
from jira_chase.sources.base import ScratchMemory
from jira_chase.sources.zentao.items import REFUSED, edit_keywords, keyword_tokens
from jira_chase.sources.zentao.source import ZenTaoSource
from tests.conftest import build_demo_like_dataset


class MemoryCache:
    """The item cache as a dict (the state store keeps it in SQLite)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, Any]]] = {}

    def cached_items(self, source: str) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.items.get(source, {}).items()}

    def save_items(self, source: str, items: Any) -> None:
        self.items[source] = {k: dict(v) for k, v in items.items()}


@pytest.fixture
def zentao_sim() -> Iterator[Any]:
    started: list[ZenTaoSimulator] = []

    def start(dataset: Any = None, **options: Any) -> ZenTaoSimulator:
        sim = ZenTaoSimulator(dataset or build_demo_like_dataset(), **options)
        started.append(sim.start())
        return sim

    yield start
    for sim in started:
        sim.stop()


def settings(url: str, **overrides: Any) -> ZenTaoSettings:
    base: dict[str, Any] = {"url": url, "account": "bot", "password": "pw", "products": [1],
                            "executions": [1], "backoff": 0}  # fmt: skip
    return ZenTaoSettings(**{**base, **overrides})


def doc(digest: str = "d1", summary: str = "Checkout page") -> CommentDoc:
    item = CommentItem("warn", "stalled", "time-in-step", "in step 'review' for 3 days",
                       "workflow.steps[1].limit_days", (("step", "review"),), None)  # fmt: skip
    return CommentDoc(f"jira-chase: {summary} is at risk", (item,), "As of now.", digest)


def details_read(sim: ZenTaoSimulator) -> list[str]:
    return [p for m, p in sim.requests if m == "GET" and p.split("/")[-2] in
            ("stories", "tasks", "bugs")]  # fmt: skip


# -- reading -------------------------------------------------------------------------------


def test_fetches_stories_bugs_and_tasks_with_readable_keys(zentao_sim):
    sim = zentao_sim()
    issues = {i.key: i for i in ZenTaoSource(settings(sim.url)).fetch_issues()}
    app = [k for k in sim.world.by_dataset_key if k.startswith("APP-")]
    assert set(issues) == {sim.key_of(k) for k in app}
    story = issues[sim.key_of("APP-1")]
    assert (story.key, story.project, story.type, story.priority) == ("story-1", "P1", "Story",
                                                                      "Medium")  # fmt: skip
    assert story.status == "developed" and story.labels == ("customer",)
    assert story.assignee is not None
    assert (story.assignee.id, story.assignee.name) == ("ann", "Ann Lee")
    assert story.fix_versions == ("Beta",) and story.estimate == 3
    task = issues[sim.key_of("APP-4")]
    assert (task.project, task.type, task.status) == ("E1", "Task", "closed")
    bug = issues[sim.key_of("APP-2")]
    assert bug.duedate is not None and bug.duedate.isoformat() == "2026-11-01"


def test_history_is_the_status_log_in_utc_with_accounts(zentao_sim):
    sim = zentao_sim(server_timezone="Asia/Shanghai")
    source = ZenTaoSource(settings(sim.url, timezone="Asia/Shanghai"))
    story = {i.key: i for i in source.fetch_issues()}[sim.key_of("APP-1")]
    raw = build_demo_like_dataset()["issues"][0]["history"]
    stages = {"To Do": "wait", "In Progress": "developing", "Code Review": "developed"}
    expected = [
        (h["at"], stages[h["from"]], stages[h["to"]]) for h in raw if h["field"] == "status"
    ]
    got = [(c.at.isoformat(), c.from_value, c.to_value) for c in story.status_changes]
    assert got == [(datetime.fromisoformat(at).isoformat(), a, b) for at, a, b in expected]
    assert all(c.by == "ann" for c in story.status_changes)
    assignee = next(c for c in story.history if c.field == "assignee")
    assert (assignee.from_value, assignee.to_value) == ("bob", "ann")
    assert story.initial_status == "wait"


def test_the_wrong_time_zone_shifts_every_change(zentao_sim):
    sim = zentao_sim(server_timezone="Asia/Shanghai")
    right = ZenTaoSource(settings(sim.url)).fetch_issues()
    wrong = ZenTaoSource(settings(sim.url, timezone="UTC")).fetch_issues()
    first = right[0].status_changes[0].at
    shifted = next(i for i in wrong if i.key == right[0].key).status_changes[0].at
    assert (shifted - first).total_seconds() == 8 * 3600


def test_pages_follow_limit_and_total(zentao_sim):
    sim = zentao_sim(build_demo_dataset())
    source = ZenTaoSource(settings(sim.url, page_size=17, account=sim.account_of("u-bot")))
    issues = source.fetch_issues()
    assert len(issues) == 156
    lists = [p for m, p in sim.requests if p.endswith(("/stories", "/bugs", "/tasks"))]
    stories = sum(1 for i in issues if i.type == "Story")
    assert lists.count("/api.php/v1/products/1/stories") == -(-stories // 17)


def test_only_items_edited_since_the_last_run_are_read_again(zentao_sim):
    sim = zentao_sim()
    cache = MemoryCache()
    first = ZenTaoSource(settings(sim.url), snapshots=cache).fetch_issues()
    assert len(details_read(sim)) == len(first)
    sim.reset_counts()
    again = ZenTaoSource(settings(sim.url), snapshots=cache).fetch_issues()
    assert details_read(sim) == [] and again == first
    http = requests.Session()
    token = requests.post(f"{sim.url}/api.php/v1/tokens", json={"account": "cat", "password": "x"})
    http.headers["Token"] = token.json()["token"]
    http.put(f"{sim.url}/api.php/v1/bugs/1", json={"keywords": "needs-design"})
    sim.reset_counts()
    third = {i.key: i for i in ZenTaoSource(settings(sim.url), snapshots=cache).fetch_issues()}
    assert details_read(sim) == ["/api.php/v1/bugs/1"]
    assert third["bug-1"].labels == ("needs-design",)
    labelled = [c for c in third["bug-1"].history if c.field == "labels"]
    assert labelled[-1].to_value == "needs-design" and labelled[-1].by == "cat"


def test_actors_map_to_accounts_without_the_user_list(zentao_sim):
    sim = zentao_sim(users_visible=False)
    issues = ZenTaoSource(settings(sim.url)).fetch_issues()
    people = {c.by for i in issues for c in i.history} | {c.by for i in issues for c in i.comments}
    assert people <= {"ann", "bob", "cat", "bot", None}


def test_a_stage_change_zentao_did_not_log_is_dated_when_first_seen(zentao_sim):
    sim = zentao_sim()
    cache = MemoryCache()
    seen = datetime(2026, 11, 6, 10, 0, tzinfo=timezone.utc)
    ZenTaoSource(settings(sim.url), snapshots=cache, clock=lambda: seen).fetch_issues()
    sim.item("APP-1").stage = "testing"  # as ZenTao's setStage() does: no action, no edit
    later = datetime(2026, 11, 6, 12, 0, tzinfo=timezone.utc)
    source = ZenTaoSource(settings(sim.url), snapshots=cache, clock=lambda: later)
    story = {i.key: i for i in source.fetch_issues()}["story-1"]
    assert story.status == "testing"
    assert (story.status_changes[-1].to_value, story.status_changes[-1].at) == ("testing", later)
    # and the next run keeps that date
    source = ZenTaoSource(settings(sim.url), snapshots=cache, clock=lambda: later.replace(hour=15))
    story = {i.key: i for i in source.fetch_issues()}["story-1"]
    assert story.status_changes[-1].at == later


def test_identify_names_the_account_and_version(zentao_sim):
    sim = zentao_sim()
    identity = ZenTaoSource(settings(sim.url)).identify()
    assert (identity.tracker, identity.version, identity.deployment) == ("zentao", "18.8",
                                                                         "open source")  # fmt: skip
    assert identity.user == identity.user_id == "bot"


# -- errors --------------------------------------------------------------------------------


def test_wrong_credentials_are_one_clear_error_without_the_password(zentao_sim):
    sim = zentao_sim(credentials={"bot": "right"})
    with pytest.raises(TrackerError) as info:
        ZenTaoSource(settings(sim.url, password="s3cret-wrong")).identify()
    message = str(info.value)
    assert "zentao.account = 'bot'" in message and "HTTP 400" in message
    assert "more chances" in message and "s3cret-wrong" not in message


def test_an_unknown_product_names_its_key(zentao_sim):
    sim = zentao_sim()
    with pytest.raises(TrackerError, match=r"zentao\.products\[1\] = 9: .*HTTP 404"):
        ZenTaoSource(settings(sim.url, products=[1, 9])).fetch_issues()
    with pytest.raises(TrackerError, match=r"zentao\.executions\[0\] = 7"):
        ZenTaoSource(settings(sim.url, executions=[7])).validate_scope()


def test_unreachable_site_names_the_url():
    with pytest.raises(TrackerError, match=r"zentao\.url = http://127\.0\.0\.1:9"):
        ZenTaoSource(settings("http://127.0.0.1:9", timeout=2, retries=0)).identify()


def test_not_a_zentao_rest_api_is_explained(zentao_sim):
    sim = zentao_sim()
    with pytest.raises(TrackerError, match="16.0 or newer"):
        ZenTaoSource(settings(sim.url + "/nothing-here")).identify()


def test_an_expired_session_is_renewed_once_and_the_run_goes_on(zentao_sim):
    sim = zentao_sim(expire_tokens_after=5)
    source = ZenTaoSource(settings(sim.url))
    issues = source.fetch_issues()
    assert len(issues) == 7 and source.logins >= 2
    sim.expire_tokens()
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("chase-at-risk",))])
    assert outcome.error is None and "chase-at-risk" in sim.labels("bug-1")


def test_reads_survive_rate_limits_server_errors_and_cut_answers(zentao_sim):
    plan = FaultPlan(seed=3, rate=0.3, retry_after=0, endpoints=["GET *"],
                     kinds=["rate-limit", "unavailable", "server-error", "truncated",
                            "malformed", "reset-before"])  # fmt: skip
    sim = zentao_sim(faults=plan)
    source = ZenTaoSource(settings(sim.url, retries=6))
    assert len(source.fetch_issues()) == 7
    assert sum(sim.faults_injected.values()) >= 5 and source.stats.retries >= 5


# -- writing keywords ----------------------------------------------------------------------


def test_edit_keywords_touches_only_the_named_tokens():
    assert edit_keywords("customer, chase-stale", ["chase-at-risk"], ["chase-stale"]) == (
        "customer, chase-at-risk"
    )
    assert edit_keywords("a b", ["chase-x"], []) == "a b chase-x"
    assert edit_keywords("", ["chase-x", "chase-y"], []) == "chase-x,chase-y"
    assert edit_keywords("chase-X,keep", [], ["chase-x"]) == "keep"
    assert edit_keywords("keep,", ["chase-x"], []) == "keep,chase-x"
    assert edit_keywords("a，b", ["chase-x"], ["a"]) == "b，chase-x"
    assert keyword_tokens("a, b；c d") == ["a", "b", "c", "d"]


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


# -- keyword writes that change nothing else ----------------------------------------------

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


def test_reads_and_writes_zentao_refuses_are_mapped_to_clear_errors(zentao_sim):
    sim = zentao_sim(denied=("bug-view",))
    source = ZenTaoSource(settings(sim.url))
    with pytest.raises(TrackerError, match=r"HTTP 403 while .*zentao.account = 'bot' lacks a "
                       r"privilege \(Access not allowed\)"):  # fmt: skip
        source.fetch_issues()
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("x",))])
    assert outcome.error is not None and outcome.error.status == 403
    # Every session ends at once: the write signs in again, is refused again, and the
    # run stops there.
    sim = zentao_sim(expire_tokens_after=0)
    source = ZenTaoSource(settings(sim.url))
    with pytest.raises(TrackerError, match="HTTP 401 while writing bug-1, also after signing"):
        source.apply([Operation(LABELS, "bug-1", add=("x",))])
    with pytest.raises(TrackerError, match="HTTP 401 while reading the signed-in account"):
        source.identify()


def test_timeouts_cut_answers_and_broken_sign_ins_are_mapped_to_clear_errors(zentao_sim):
    slow = FaultPlan(seed=1, rate=1.0, kinds=["slow"], delay=1.0, endpoints=["GET *"])
    sim = zentao_sim(faults=slow)
    with pytest.raises(TrackerError, match=r"did not answer within zentao.timeout = 0.3s"):
        ZenTaoSource(settings(sim.url, timeout=0.3, retries=0)).identify()
    cut = FaultPlan(seed=1, rate=1.0, kinds=["malformed"], endpoints=["GET /api.php/v1/bugs/*"])
    sim = zentao_sim(faults=cut)
    source = ZenTaoSource(settings(sim.url, retries=0))
    (outcome,) = source.apply([Operation(LABELS, "bug-1", add=("x",))])
    assert outcome.error is not None and "labels () failed" in str(outcome.error)
    with pytest.raises(TrackerError, match="unexpected answer from ZenTao while reading bug-1"):
        source.labels_of(["bug-1"])
    proxy = FaultPlan(seed=1, rate=1.0, kinds=["bad-gateway"], endpoints=["GET /api.php/v1/bugs/*"])
    sim = zentao_sim(faults=proxy)
    (outcome,) = ZenTaoSource(settings(sim.url, retries=0)).apply(
        [Operation(LABELS, "bug-1", add=("x",))]
    )
    assert outcome.error is not None and outcome.error.status == 502
    assert str(outcome.error).endswith("HTTP 502 on labels (): 502 Bad Gateway")
    token = FaultPlan(seed=1, rate=1.0, kinds=["malformed"], endpoints=["POST /api.php/v1/tokens"])
    sim = zentao_sim(faults=token)
    with pytest.raises(TrackerError, match="while signing in at .*/tokens: no token"):
        ZenTaoSource(settings(sim.url)).identify()


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


# -- the managed comment -------------------------------------------------------------------


def bot_remarks(sim: ZenTaoSimulator, key: str) -> list[dict[str, Any]]:
    return [c for c in sim.comments(key) if c["actor"] == "bot"]


def test_comment_is_created_found_edited_in_place_and_withdrawn(zentao_sim):
    sim = zentao_sim()
    source = ZenTaoSource(settings(sim.url))
    key = sim.key_of("APP-1")
    (created,) = source.apply([Operation(COMMENT_CREATE, key, comment=doc("aaa"))])
    assert created.error is None and created.comment_id
    (remark,) = bot_remarks(sim, key)
    assert parse_zentao_marker(remark["comment"]) == (1, "aaa")
    found = ZenTaoSource(settings(sim.url)).find_managed_comment(key)
    assert found is not None and (found.comment_id, found.digest) == (created.comment_id, "aaa")
    (updated,) = source.apply([Operation(COMMENT_UPDATE, key, comment=doc("bbb"),
                                         comment_id=created.comment_id)])  # fmt: skip
    assert updated.error is None and updated.comment_id == created.comment_id
    (remark,) = bot_remarks(sim, key)
    assert parse_zentao_marker(remark["comment"]) == (1, "bbb")
    (deleted,) = source.apply([Operation(COMMENT_DELETE, key, comment_id=created.comment_id)])
    assert deleted.error is None
    (remark,) = bot_remarks(sim, key)  # ZenTao cannot delete: rewritten to a short note
    assert parse_zentao_marker(remark["comment"]) == (1, RECOVERED)
    assert "back on track" in remark["comment"]


def test_create_after_a_lost_record_reuses_the_comment(zentao_sim):
    sim = zentao_sim()
    key = sim.key_of("APP-1")
    first = ZenTaoSource(settings(sim.url)).apply([Operation(COMMENT_CREATE, key, comment=doc())])
    # a run died before recording it: the next run creates again
    again = ZenTaoSource(settings(sim.url)).apply([Operation(COMMENT_CREATE, key, comment=doc())])
    assert again[0].comment_id == first[0].comment_id and len(bot_remarks(sim, key)) == 1


def test_a_lost_answer_to_the_comment_post_never_duplicates_it(zentao_sim):
    plan = FaultPlan(seed=1, rate=1.0, kinds=["reset-after"], endpoints=["POST /index.php"])
    sim = zentao_sim(faults=plan)
    source = ZenTaoSource(settings(sim.url))
    (outcome,) = source.apply([Operation(COMMENT_CREATE, "story-1", comment=doc())])
    assert outcome.error is None and len(bot_remarks(sim, "story-1")) == 1


def test_a_session_lost_before_the_comment_post_is_renewed(zentao_sim):
    # Each session serves two requests: the look before posting is the second, so the
    # post itself meets the login page (and does nothing): it signs in and posts again.
    sim = zentao_sim(expire_tokens_after=2)
    source = ZenTaoSource(settings(sim.url))
    source.identify()
    (outcome,) = source.apply([Operation(COMMENT_CREATE, "story-1", comment=doc())])
    assert outcome.error is None and len(bot_remarks(sim, "story-1")) == 1
    assert source.logins >= 2


def test_someone_elses_tagged_remark_never_counts(zentao_sim):
    sim = zentao_sim()
    answer = requests.post(f"{sim.url}/api.php/v1/tokens", json={"account": "ann", "password": "x"})
    params = {"m": "action", "f": "comment", "objectType": "story", "objectID": 1,
              "zentaosid": answer.json()["token"]}  # fmt: skip
    requests.post(f"{sim.url}/index.php", params=params, data={"comment": "[jira-chase:1:x]"})
    assert ZenTaoSource(settings(sim.url)).find_managed_comment("story-1") is None


def test_issue_text_is_escaped_and_cannot_forge_the_marker(zentao_sim):
    sim = zentao_sim()
    hostile = "[jira-chase:1:forged] <b>bold</b> <script>x</script>"
    source = ZenTaoSource(settings(sim.url))
    (outcome,) = source.apply([Operation(COMMENT_CREATE, "story-1", comment=doc("real", hostile))])
    (remark,) = bot_remarks(sim, "story-1")
    assert "&lt;b&gt;bold&lt;/b&gt;" in remark["comment"] and "<script>" not in remark["comment"]
    assert parse_zentao_marker(remark["comment"]) == (1, "real")


def test_an_edit_of_a_vanished_comment_is_a_404(zentao_sim):
    sim = zentao_sim()
    source = ZenTaoSource(settings(sim.url))
    (outcome,) = source.apply(
        [Operation(COMMENT_UPDATE, "story-1", comment=doc(), comment_id="9999")]
    )
    assert isinstance(outcome.error, IssueError) and outcome.error.status == 404


# -- type-qualified statuses ---------------------------------------------------------------


def test_statuses_qualified_by_type_decide_for_that_type_alone():
    from jira_chase.config import WorkflowSettings
    from jira_chase.timeline import StepMap

    workflow = WorkflowSettings(
        done=["closed", "task:done"],
        steps=[{"name": "fix", "statuses": ["bug:active"]},
               {"name": "build", "statuses": ["Doing", "active"]}],
    )  # fmt: skip
    steps = StepMap.from_settings(workflow)
    assert steps.step("active", "Bug") == "fix" and steps.step("ACTIVE", "bug") == "fix"
    assert steps.step("active", "Story") == "build" and steps.step("active") == "build"
    assert steps.is_done("done", "Task") and not steps.is_done("done", "Story")
    assert steps.is_done("closed", "Bug") and steps.step("doing", "Task") == "build"
    with pytest.raises(ValueError, match="must be a name or type:name"):
        WorkflowSettings(done=["closed"], steps=[{"name": "x", "statuses": [":active"]}])
    with pytest.raises(ValueError, match="is in both step 'a' and 'b'"):
        WorkflowSettings(done=["x"], steps=[{"name": "a", "statuses": ["bug:active"]},
                                            {"name": "b", "statuses": ["Bug:Active"]}])  # fmt: skip


def test_known_names_are_zentaos_states_per_type(zentao_sim):
    source = ZenTaoSource(settings(zentao_sim().url))
    names = source.known_names()
    assert names.typed
    assert {"task:cancel", "story:developing", "bug:resolved", "closed"} <= set(names.statuses)
    assert "bug:developing" not in names.statuses
    assert {"willnotdo", "duplicate", "fixed", "done"} <= set(source.known_resolutions())


def test_closed_items_carry_how_they_were_closed(zentao_sim):
    sim = zentao_sim(build_demo_dataset())
    issues = ZenTaoSource(settings(sim.url, account=sim.account_of("u-bot"))).fetch_issues()
    closed = {i.type: i.resolution for i in issues if i.status == "closed"}
    assert closed.get("Story") == "done" and closed.get("Bug") == "fixed"
    assert all(i.resolution is None for i in issues if i.status != "closed")
    assert all(i.history_known for i in issues)
