"""One contract, every source: the same tests against Jira and ZenTao, each through its
simulator over real sockets (see sources/base.py for the contract)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from jira_chase.config.settings import JiraSettings, ZenTaoSettings
from jira_chase.engine.comment import CommentDoc, CommentItem
from jira_chase.engine.plan import COMMENT_CREATE, COMMENT_UPDATE, LABELS, Operation
from jira_chase.errors import IssueError
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.zentao import ZenTaoSimulator
from jira_chase.sources.base import ScratchMemory, Source
from jira_chase.sources.jira import JiraSource
from jira_chase.sources.zentao.source import ZenTaoSource

#: The APP issues of the demo-like dataset (tests/conftest.py): every source's scope.
IN_SCOPE = ("APP-1", "APP-2", "APP-3", "APP-4", "APP-5", "APP-10", "APP-11")


@dataclass
class Tracker:
    """A simulator with a source on it, and how to see into the simulator."""

    name: str
    make_source: Callable[[], Source]
    key: Callable[[str], str]  # dataset key -> the tracker's key
    labels: Callable[[str], list[str]]
    bot_comments: Callable[[str], list[Any]]
    missing_key: str


def _jira(jira_sim: Any, dataset: dict[str, Any], faults: FaultPlan | None) -> Tracker:
    sim = jira_sim(dataset, faults=faults)
    settings = JiraSettings(url=sim.url, email="bot@example.com", token="t",
                            scope="project = APP", retries=2, backoff=0)  # fmt: skip
    return Tracker(
        "jira",
        lambda: JiraSource(settings),
        lambda key: key,
        sim.labels,
        lambda key: [c for c in sim.comments(key) if c["author"] == "u-bot"],
        "APP-9999",
    )


def _zentao(request: Any, dataset: dict[str, Any], faults: FaultPlan | None) -> Tracker:
    sim = ZenTaoSimulator(dataset, faults=faults).start()
    request.addfinalizer(sim.stop)
    settings = ZenTaoSettings(url=sim.url, account=sim.account_of("u-bot"), password="pw",
                              products=[1], executions=[1], retries=2, backoff=0)  # fmt: skip
    return Tracker(
        "zentao",
        lambda: ZenTaoSource(settings),
        sim.key_of,
        sim.labels,
        lambda key: [c for c in sim.comments(key) if c["actor"] == settings.account],
        "story-9999",
    )


#: The comment endpoint of each tracker, for faults aimed at comment creation.
COMMENT_POSTS = {"jira": "POST /rest/api/*/issue/*/comment", "zentao": "POST /index.php"}


@pytest.fixture(params=["jira", "zentao"])
def tracker_factory(request, jira_sim, demo_like_dataset) -> Callable[..., Tracker]:
    """`tracker_factory(faults=None)` starts the parametrised tracker's simulator."""

    def start(faults: FaultPlan | None = None) -> Tracker:
        if request.param == "jira":
            return _jira(jira_sim, demo_like_dataset, faults)
        return _zentao(request, demo_like_dataset, faults)

    start.name = request.param  # type: ignore[attr-defined]
    return start


@pytest.fixture
def tracker(tracker_factory) -> Tracker:
    return tracker_factory()


def comment(digest: str) -> CommentDoc:
    finding = CommentItem(
        "warn", "stuck", "in review since 2026-11-17 (3 days; limit 2 days)", None
    )
    return CommentDoc("jira-chase: at risk (1 finding)", (finding,), "As of now.", digest)


class TestSourceContract:
    def test_identify_proves_the_credentials_and_names_the_bot(self, tracker):
        identity = tracker.make_source().identify()
        assert identity.tracker == tracker.name and identity.user_id and identity.version

    def test_validate_scope_accepts_the_scope_and_counts_it(self, tracker):
        assert tracker.make_source().validate_scope() == len(IN_SCOPE)

    def test_fetch_returns_every_issue_in_scope_with_its_whole_history(self, tracker):
        issues = {i.key: i for i in tracker.make_source().fetch_issues()}
        assert set(issues) == {tracker.key(k) for k in IN_SCOPE}
        ping_pong = issues[tracker.key("APP-1")]  # 44 status changes, oldest first
        changes = ping_pong.status_changes
        assert len(changes) == 44
        assert all(a.to_value == b.from_value for a, b in zip(changes, changes[1:]))
        assert all(a.at <= b.at for a, b in zip(changes, changes[1:]))
        assert changes[-1].to_value == ping_pong.status
        assert ping_pong.created.tzinfo is not None and ping_pong.created <= changes[0].at
        assert all(c.by for c in changes)

    def test_labels_change_only_as_named(self, tracker):
        source, key = tracker.make_source(), tracker.key("APP-2")
        assert set(tracker.labels(key)) == {"needs-design", "chase-stale"}
        (outcome,) = source.apply(
            [Operation(LABELS, key, add=("chase-at-risk",), remove=("chase-stale",))]
        )
        assert outcome.error is None
        assert set(tracker.labels(key)) == {"needs-design", "chase-at-risk"}

    def test_a_created_comment_is_found_and_edited_in_place(self, tracker):
        state = ScratchMemory()  # the state store's part: the secret that seals markers

        def run() -> Any:
            made = tracker.make_source()
            made.use_memory(state)
            return made

        source, key = run(), tracker.key("APP-1")
        assert source.find_managed_comment(key) is None
        (created,) = source.apply([Operation(COMMENT_CREATE, key, comment=comment("one"))])
        assert created.error is None and created.comment_id
        found = run().find_managed_comment(key)
        assert found is not None and (found.comment_id, found.digest) == (created.comment_id,
                                                                          "one")  # fmt: skip
        (updated,) = source.apply([Operation(COMMENT_UPDATE, key, comment=comment("two"),
                                             comment_id=created.comment_id)])  # fmt: skip
        assert updated.error is None and updated.comment_id == created.comment_id
        found = run().find_managed_comment(key)
        assert found is not None and (found.comment_id, found.digest) == (created.comment_id,
                                                                          "two")  # fmt: skip
        assert len(tracker.bot_comments(key)) == 1

    def test_per_issue_failures_are_outcomes_and_the_rest_is_done(self, tracker):
        source, key = tracker.make_source(), tracker.key("APP-3")
        outcomes = source.apply([
            Operation(LABELS, tracker.missing_key, add=("chase-at-risk",)),
            Operation(LABELS, key, add=("chase-at-risk",)),
        ])  # fmt: skip
        assert isinstance(outcomes[0].error, IssueError)
        assert outcomes[0].error.issue_key == tracker.missing_key
        assert outcomes[1].error is None and "chase-at-risk" in tracker.labels(key)

    def test_a_comment_whose_answer_was_lost_is_not_posted_twice(self, tracker_factory):
        faults = FaultPlan(seed=1, rate=1.0, kinds=["reset-after"],
                           endpoints=[COMMENT_POSTS[tracker_factory.name]])  # fmt: skip
        tracker = tracker_factory(faults)
        key = tracker.key("APP-5")
        (outcome,) = tracker.make_source().apply(
            [Operation(COMMENT_CREATE, key, comment=comment("x"))]
        )
        assert outcome.error is None and len(tracker.bot_comments(key)) == 1
        found = tracker.make_source().find_managed_comment(key)
        assert found is not None and found.comment_id == outcome.comment_id
