"""Label edits (one by one and in bulk) and managed comments, and every way they can fail."""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.engine.comment import recovery_comment
from jira_chase.engine.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, Operation
from jira_chase.errors import IssueError, TrackerError
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import (
    FORBIDDEN,
    RATE_LIMIT_GARBLED,
    RESET_BEFORE,
    FaultPlan,
)
from jira_chase.sources.jira import JiraSource, writing
from tests.factories import demo_config, write_toml
from tests.sources.jira.factories import KEYS, NOW, default_settings, label_ops, only, settings


def test_label_update_touches_only_the_named_labels(demo_sim):
    source = JiraSource(default_settings(demo_sim.url))
    before = demo_sim.labels("APP-108")
    assert "customer" in before
    (outcome,) = source.apply([Operation("labels", "APP-108", add=("chase-off-track",))])
    assert outcome.error is None
    assert demo_sim.labels("APP-108") == [*before, "chase-off-track"]
    source.apply([Operation("labels", "APP-108", remove=("chase-off-track",))])
    assert demo_sim.labels("APP-108") == before


def test_writing_a_missing_issue_is_a_per_issue_error(demo_sim):
    source = JiraSource(default_settings(demo_sim.url))
    (outcome,) = source.apply([Operation("labels", "APP-9999", add=("chase-at-risk",))])
    assert isinstance(outcome.error, IssueError)
    assert outcome.error.issue_key == "APP-9999" and outcome.error.status == 404


def test_duplicate_managed_comments_collapse_to_the_one_kept(demo_sim):
    """A slow server can make a comment after its answer was lost and the retry made a
    second one; the source then keeps one and deletes the other."""
    from jira_chase.engine.comment import PROPERTY_KEY

    body = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]}  # fmt: skip
    tag = [{"key": PROPERTY_KEY, "value": {"version": 1, "digest": "d"}}]
    ids = []
    for _ in range(2):
        answer = requests.post(
            f"{demo_sim.url}/rest/api/3/issue/APP-108/comment",
            json={"body": body, "properties": tag},
            auth=("chase-bot@example.com", "t"),
            timeout=10,
        )
        ids.append(answer.json()["id"])
    source = JiraSource(default_settings(demo_sim.url))
    assert source.find_managed_comment("APP-108").comment_id == ids[0]  # the oldest
    source.writer.remove_duplicates("APP-108", keep=ids[1])
    bots = [c["id"] for c in demo_sim.comments("APP-108") if c["author"] == "u-bot"]
    assert bots == [ids[1]]


def bot_comments(sim, key):
    return [c for c in sim.comments(key) if c["author"] == "u-bot"]


def _comment_op(kind, key, comment_id=None):
    return Operation(kind, key, reason="test", comment=recovery_comment(NOW), comment_id=comment_id)


def test_editing_a_managed_comment_someone_deleted_creates_exactly_one_new_one(demo_sim):
    source = JiraSource(settings(demo_sim.url))
    (created,) = source.apply([_comment_op(COMMENT_CREATE, "APP-108")])
    assert created.error is None
    http = requests.Session()
    http.auth = ("chase-bot@example.com", "t")
    gone = http.delete(f"{demo_sim.url}/rest/api/3/issue/APP-108/comment/{created.comment_id}")
    assert gone.status_code == 204
    (edited,) = source.apply([_comment_op(COMMENT_UPDATE, "APP-108", created.comment_id)])
    assert edited.error is None
    (comment,) = bot_comments(demo_sim, "APP-108")
    assert edited.comment_id == comment["id"] != created.comment_id


def test_editing_a_comment_of_an_issue_that_is_gone_is_a_404_for_that_issue(demo_sim):
    source = JiraSource(settings(demo_sim.url))
    (outcome,) = source.apply([_comment_op(COMMENT_UPDATE, "APP-9999", "123")])
    assert outcome.error is not None and outcome.error.status == 404
    assert "HTTP 404 on comment.update" in str(outcome.error)


def test_a_person_deletes_the_managed_comment_between_runs(tmp_path, demo_sim):
    config = write_toml(tmp_path / "c.toml", demo_config(demo_sim.url, "s.sqlite"))

    def sync(now):
        result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", now])
        assert result.exit_code == 0, result.output + result.stderr

    sync("2026-11-20T16:00:00Z")
    (first,) = bot_comments(demo_sim, "APP-139")
    http = requests.Session()
    http.auth = ("chase-bot@example.com", "t")
    http.delete(f"{demo_sim.url}/rest/api/3/issue/APP-139/comment/{first['id']}")
    sync("2026-11-23T16:00:00Z")  # Monday: APP-139's findings changed too
    (again,) = bot_comments(demo_sim, "APP-139")
    assert again["id"] != first["id"]
    sync("2026-11-23T16:05:00Z")
    assert bot_comments(demo_sim, "APP-139") == [again]


def test_a_comment_create_refused_with_a_garbled_retry_after_waits_and_tries_again(jira_sim):
    faults = FaultPlan(
        seed=3, rate=0.5, kinds=[RATE_LIMIT_GARBLED], endpoints=["POST */issue/*/comment"]
    )
    sim = jira_sim(build_demo_dataset(), faults=faults)
    source = JiraSource(settings(sim.url, retries=3))
    keys = ["APP-108", "APP-122", "APP-139", "APP-145"]
    outcomes = source.apply([_comment_op(COMMENT_CREATE, key) for key in keys])
    assert [o.error for o in outcomes] == [None] * len(keys)
    assert sim.faults_injected  # some creates met the garbled 429 ...
    assert all(len(bot_comments(sim, key)) == 1 for key in keys)  # ... none doubled
    garbled = [x for x in sim.exchanges if x.status == 429]
    assert garbled and all(x.response_headers["Retry-After"] == "soon" for x in garbled)


def test_only_a_tagged_comment_by_the_bot_counts_as_managed(jira_sim, deployment_name):
    if deployment_name == "datacenter":
        sim = jira_sim(build_demo_dataset(), deployment="datacenter", tokens={"pat": "u-bot"})
        source = JiraSource(settings(sim.url, deployment="datacenter", email="", token="pat"))
        http = requests.Session()
        http.headers["Authorization"] = "Bearer pat"
        body = {"body": "an ordinary comment by the bot account"}
        url = f"{sim.url}/rest/api/2/issue/APP-108/comment"
    else:
        sim = jira_sim(build_demo_dataset())
        source = JiraSource(settings(sim.url))
        http = requests.Session()
        http.auth = ("chase-bot@example.com", "t")
        body = {
            "body": {"type": "doc", "version": 1, "content": []},
            "properties": [{"key": "something-else", "value": {"digest": "x"}}],
        }
        url = f"{sim.url}/rest/api/3/issue/APP-108/comment"
    assert http.post(url, json=body).status_code == 201
    assert source.find_managed_comment("APP-108") is None


@pytest.fixture(params=["cloud", "datacenter"])
def deployment_name(request):
    return request.param


def test_a_comment_edit_refused_is_an_error_for_that_issue(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "PUT */comment/*"))
    source = JiraSource(settings(sim.url))
    (created,) = source.apply([_comment_op(COMMENT_CREATE, "APP-108")])
    (edited,) = source.apply([_comment_op(COMMENT_UPDATE, "APP-108", created.comment_id)])
    assert edited.error is not None and edited.error.status == 403
    assert len(bot_comments(sim, "APP-108")) == 1


def test_deleting_a_comment_that_is_already_gone_is_done(demo_sim):
    source = JiraSource(settings(demo_sim.url))
    (created,) = source.apply([_comment_op(COMMENT_CREATE, "APP-108")])
    delete = _comment_op(COMMENT_DELETE, "APP-108", created.comment_id)
    assert [o.error for o in source.apply([delete])] == [None]
    assert [o.error for o in source.apply([delete])] == [None]  # 404: already gone
    assert bot_comments(demo_sim, "APP-108") == []


def test_credentials_revoked_mid_run_stop_the_run(jira_sim):
    sim = jira_sim(build_demo_dataset(), credentials={"chase-bot@example.com": "t"})
    source = JiraSource(settings(sim.url))
    source.identify()
    sim.api.credentials["chase-bot@example.com"] = "revoked"
    with pytest.raises(TrackerError, match="HTTP 401 while writing APP-1"):
        source.apply(label_ops(["APP-1"]))
    with pytest.raises(TrackerError, match="HTTP 401"):
        source.apply(label_ops(KEYS))  # a bulk edit


def test_a_write_whose_connection_is_lost_is_an_error_for_that_issue(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(RESET_BEFORE, "PUT */issue/APP-1"))
    source = JiraSource(settings(sim.url))
    source.notifications.may_write_silently("APP")
    (outcome,) = source.apply(label_ops(["APP-1"]))
    assert outcome.error is not None and "labels (test) failed" in str(outcome.error)


def test_a_comment_create_refused_with_a_4xx_is_not_tried_again(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "POST */issue/*/comment"))
    (outcome,) = JiraSource(settings(sim.url, retries=2)).apply(
        [_comment_op(COMMENT_CREATE, "APP-108")]
    )
    assert outcome.error is not None and outcome.error.status == 403
    assert [p for m, p in sim.requests if m == "POST"] == ["/rest/api/3/issue/APP-108/comment"]


def test_a_comment_create_failing_every_time_looks_before_each_try_and_gives_up(jira_sim):
    from jira_chase.simulator.faults import SERVER_ERROR

    sim = jira_sim(build_demo_dataset(), faults=only(SERVER_ERROR, "POST */issue/*/comment"))
    (outcome,) = JiraSource(settings(sim.url, retries=1)).apply(
        [_comment_op(COMMENT_CREATE, "APP-108")]
    )
    assert outcome.error is not None and outcome.error.status == 500
    posts = [p for m, p in sim.requests if m == "POST"]
    looks = [p for m, p in sim.requests if m == "GET" and p.endswith("/APP-108/comment")]
    assert len(posts) == 2 and len(looks) == 2
    assert bot_comments(sim, "APP-108") == []


def test_a_comment_delete_refused_is_an_error_for_that_issue(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "DELETE */comment/*"))
    source = JiraSource(settings(sim.url))
    (created,) = source.apply([_comment_op(COMMENT_CREATE, "APP-108")])
    (deleted,) = source.apply([_comment_op(COMMENT_DELETE, "APP-108", created.comment_id)])
    assert deleted.error is not None and deleted.error.status == 403
    assert len(bot_comments(sim, "APP-108")) == 1


def test_a_comment_create_rate_limited_to_the_end_gives_up_without_creating(jira_sim):
    from jira_chase.simulator.faults import RATE_LIMIT

    sim = jira_sim(build_demo_dataset(), faults=only(RATE_LIMIT, "POST */issue/*/comment"))
    (outcome,) = JiraSource(settings(sim.url, retries=1)).apply(
        [_comment_op(COMMENT_CREATE, "APP-108")]
    )
    assert outcome.error is not None and outcome.error.status == 429
    assert len([p for m, p in sim.requests if m == "POST"]) == 2
    assert bot_comments(sim, "APP-108") == []


def edited_alone(sim):
    return [p for m, p in sim.requests if m == "PUT" and "/issue/APP-" in p]


def test_the_issues_of_a_bulk_edit_task_that_fails_are_edited_alone(demo_sim):
    demo_sim.api.bulk_ending = "FAILED"
    outcomes = JiraSource(settings(demo_sim.url)).apply(label_ops(KEYS))
    assert [o.error for o in outcomes] == [None] * len(KEYS)
    assert all("chase-test" in demo_sim.labels(key) for key in KEYS)
    assert len(edited_alone(demo_sim)) == len(KEYS)


def test_the_issues_of_a_bulk_edit_task_that_never_finishes_are_edited_alone(demo_sim, monkeypatch):
    monkeypatch.setattr(writing, "BULK_TASK_WAIT", 0.5)
    demo_sim.api.bulk_ending = "RUNNING"
    outcomes = JiraSource(settings(demo_sim.url, timeout=0.2)).apply(label_ops(KEYS))
    assert [o.error for o in outcomes] == [None] * len(KEYS)
    assert len(edited_alone(demo_sim)) == len(KEYS)


def test_a_bulk_edit_with_issues_jira_could_not_edit_fails_just_those(jira_sim):
    dataset = build_demo_dataset()
    for project in dataset["projects"]:
        project["readonly"] = project["key"] == "OPS"
    sim = jira_sim(dataset)
    ops_keys = [f"OPS-{n}" for n in range(1, 6)]
    keys = ["APP-1", "APP-2", *ops_keys, "APP-3"]
    source = JiraSource(settings(sim.url))
    outcomes = {o.operation.issue_key: o for o in source.apply(label_ops(keys))}
    # (the bot may write silently in OPS only: the five OPS issues go as one bulk edit)
    assert [p for m, p in sim.requests if m == "POST" and p.endswith("/bulk/issues/fields")]
    assert {k for k, o in outcomes.items() if o.error} == set(ops_keys)
    # Each is tried alone too, so its error is its own answer, as on any other run.
    for key in ops_keys:
        error = outcomes[key].error
        assert error is not None and error.status == 403 and error.issue_key == key
        assert str(error) == (f"{key}: HTTP 403 on labels (test): You do not have "
                              "permission to edit issues in this project.")  # fmt: skip
    assert "chase-test" in sim.labels("APP-1")


def test_a_bulk_edit_whose_answer_is_lost_is_done_issue_by_issue(jira_sim):
    faults = only(RESET_BEFORE, "POST */bulk/issues/fields")
    sim = jira_sim(build_demo_dataset(), faults=faults)
    outcomes = JiraSource(settings(sim.url)).apply(label_ops(KEYS))
    assert [o.error for o in outcomes] == [None] * len(KEYS)
    assert all("chase-test" in sim.labels(key) for key in KEYS)
    edits = [p for m, p in sim.requests if m == "PUT" and "/issue/APP-" in p]
    assert len(edits) == len(KEYS)


def test_a_bulk_edit_refused_outright_is_done_issue_by_issue(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "POST */bulk/issues/fields"))
    source = JiraSource(settings(sim.url))
    outcomes = source.apply(label_ops(KEYS))
    assert [o.error for o in outcomes] == [None] * len(KEYS)
    assert all("chase-test" in sim.labels(key) for key in KEYS)
    # ... and this source does not try bulk edit again.
    source.apply(label_ops(KEYS, "chase-other"))
    bulk = [p for m, p in sim.requests if m == "POST" and p.endswith("/bulk/issues/fields")]
    assert len(bulk) == 1


def test_the_issues_of_a_bulk_edit_failing_with_a_5xx_are_edited_alone(jira_sim):
    from jira_chase.simulator.faults import SERVER_ERROR

    sim = jira_sim(build_demo_dataset(), faults=only(SERVER_ERROR, "POST */bulk/issues/fields"))
    outcomes = JiraSource(settings(sim.url)).apply(label_ops(KEYS))
    assert [o.error for o in outcomes] == [None] * len(KEYS)
    assert len(edited_alone(sim)) == len(KEYS)
