"""Reading items and their histories as Issues, against the ZenTao simulator over real
sockets."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from jira_chase.errors import TrackerError
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.zentao import ZenTaoSimulator
from jira_chase.sources.zentao.source import ZenTaoSource
from tests.conftest import build_demo_like_dataset
from tests.sources.zentao.conftest import settings


class MemoryCache:
    """The item cache as a dict (the state store keeps it in SQLite)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, Any]]] = {}

    def cached_items(self, source: str) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.items.get(source, {}).items()}

    def save_items(self, source: str, items: Any) -> None:
        self.items[source] = {k: dict(v) for k, v in items.items()}


def details_read(sim: ZenTaoSimulator) -> list[str]:
    return [p for m, p in sim.requests if m == "GET" and p.split("/")[-2] in
            ("stories", "tasks", "bugs")]  # fmt: skip


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


def test_an_unknown_product_names_its_key(zentao_sim):
    sim = zentao_sim()
    with pytest.raises(TrackerError, match=r"zentao\.products\[1\] = 9: .*HTTP 404"):
        ZenTaoSource(settings(sim.url, products=[1, 9])).fetch_issues()
    with pytest.raises(TrackerError, match=r"zentao\.executions\[0\] = 7"):
        ZenTaoSource(settings(sim.url, executions=[7])).validate_scope()


def test_closed_items_carry_how_they_were_closed(zentao_sim):
    sim = zentao_sim(build_demo_dataset())
    issues = ZenTaoSource(settings(sim.url, account=sim.account_of("u-bot"))).fetch_issues()
    closed = {i.type: i.resolution for i in issues if i.status == "closed"}
    assert closed.get("Story") == "done" and closed.get("Bug") == "fixed"
    assert all(i.resolution is None for i in issues if i.status != "closed")
    assert all(i.history_known for i in issues)


def test_histories_share_their_words_across_items(zentao_sim):
    sim = zentao_sim()
    items = ZenTaoSource(settings(sim.url)).fetch_issues()
    changes = [c for item in items for c in item.history]
    assert len(changes) > 20
    by_text: dict[str, set[int]] = {}
    for change in changes:
        for text in (change.field, change.from_value, change.to_value, change.by):
            if text is not None:
                by_text.setdefault(text, set()).add(id(text))
    # every field, state and person: one string each
    assert by_text["status"] and all(len(ids) == 1 for ids in by_text.values())
