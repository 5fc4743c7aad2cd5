"""Every way a Jira answer can go wrong reaches its branch in the source: through the
simulator (its data, its fault injection), real sockets and the real `jira` library."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests
from click.testing import CliRunner

from jira_chase.cli import main
from jira_chase.comment import recovery_comment
from jira_chase.config import JiraSettings
from jira_chase.errors import TrackerError
from jira_chase.plan import COMMENT_CREATE, COMMENT_UPDATE, LABELS, Operation
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import (
    FORBIDDEN,
    MALFORMED,
    RATE_LIMIT_GARBLED,
    RESET_BEFORE,
    SLOW,
    TRUNCATED,
    FaultPlan,
)
from jira_chase.sources.jira import writing
from jira_chase.sources.jira.source import JiraSource
from tests.factories import demo_config, write_toml

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)


def settings(url, **kw):
    base = {
        "url": url,
        "email": "chase-bot@example.com",
        "token": "t",
        "scope": "project = APP",
        "retries": 0,
        "backoff": 0.01,
    }
    return JiraSettings(**{**base, **kw})


def only(kind, *endpoints, rate=1.0, delay=1.0):
    return FaultPlan(rate=rate, kinds=[kind], endpoints=list(endpoints), delay=delay)


def bot_comments(sim, key):
    return [c for c in sim.comments(key) if c["author"] == "u-bot"]


@pytest.fixture
def demo_sim(jira_sim):
    return jira_sim(build_demo_dataset())


# -- reads ------------------------------------------------------------------------------


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


def test_a_repeated_search_page_token_stops_instead_of_looping(demo_sim):
    demo_sim.api.stuck_paging = True
    source = JiraSource(settings(demo_sim.url, page_size=20))
    with pytest.raises(TrackerError, match="Jira repeated a search page token"):
        source.fetch_issues()
    searches = [p for _, p in demo_sim.requests if p.endswith("/search/jql")]
    assert len(searches) <= 4  # the count of the scope, then pages 1 and 2 (= 2 again)


def _long_history_dataset(entries):
    """The demo data with APP-3's history grown to `entries` status changes."""
    dataset = build_demo_dataset()
    issue = next(i for i in dataset["issues"] if i["key"] == "APP-3")
    history = [h for h in issue["history"] if h["field"] != "status"]
    start = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc).timestamp()
    state = "To Do"
    for n in range(entries):
        target = "In Progress" if state != "In Progress" else "Code Review"
        at = datetime.fromtimestamp(start + 60 * n, tz=timezone.utc).isoformat()
        history.append({"at": at, "by": "u-ann", "field": "status", "from": state, "to": target})
        state = target
    issue["history"] = sorted(history, key=lambda h: h["at"])
    issue["status"] = state
    issue["created"] = "2026-08-31T09:00:00+00:00"
    return dataset


def test_a_repeated_changelog_page_token_stops_instead_of_looping(jira_sim):
    sim = jira_sim(_long_history_dataset(1100))
    sim.api.stuck_paging = True
    source = JiraSource(settings(sim.url, scope="key = APP-3"))
    with pytest.raises(TrackerError, match="Jira repeated a changelog page token"):
        source.fetch_issues()


def test_a_changelog_over_several_bulkfetch_pages_is_read_whole(jira_sim):
    sim = jira_sim(_long_history_dataset(1100))
    source = JiraSource(settings(sim.url, scope="key = APP-3"))
    (issue,) = source.fetch_issues()
    assert len(issue.status_changes) == 1100
    assert [p for _, p in sim.requests].count("/rest/api/3/changelog/bulkfetch") == 2


# -- managed comments -------------------------------------------------------------------


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


# -- bulk edit ----------------------------------------------------------------------------


def _label_ops(keys, label="chase-test"):
    return [Operation(LABELS, key, add=(label,), reason="test") for key in keys]


KEYS = ["APP-1", "APP-2", "APP-3", "APP-4", "APP-5", "APP-6"]


def test_a_bulk_edit_task_that_fails_fails_each_of_its_issues(demo_sim):
    demo_sim.api.bulk_ending = "FAILED"
    outcomes = JiraSource(settings(demo_sim.url)).apply(_label_ops(KEYS))
    assert len(outcomes) == len(KEYS)
    for outcome in outcomes:
        assert outcome.error is not None
        assert "bulk edit task" in str(outcome.error) and "ended FAILED" in str(outcome.error)
        assert "chase-test" not in demo_sim.labels(outcome.operation.issue_key)


def test_a_bulk_edit_task_that_never_finishes_is_given_up(demo_sim, monkeypatch):
    monkeypatch.setattr(writing, "BULK_TASK_WAIT", 0.5)
    demo_sim.api.bulk_ending = "RUNNING"
    outcomes = JiraSource(settings(demo_sim.url, timeout=0.2)).apply(_label_ops(KEYS))
    assert {str(o.error).split(": ", 1)[1] for o in outcomes} == {
        "bulk edit task 10640 still RUNNING"
    }


def test_a_bulk_edit_with_issues_jira_could_not_edit_fails_just_those(jira_sim):
    dataset = build_demo_dataset()
    for project in dataset["projects"]:
        project["readonly"] = project["key"] == "OPS"
    sim = jira_sim(dataset)
    keys = ["APP-1", "APP-2", "OPS-1", "OPS-2", "APP-3"]
    source = JiraSource(settings(sim.url))
    source.notifications.may_write_silently("APP")  # both projects decided: one silent bulk edit
    outcomes = {o.operation.issue_key: o for o in source.apply(_label_ops(keys))}
    assert {k for k, o in outcomes.items() if o.error} == {"OPS-1", "OPS-2"}
    assert "You do not have permission to edit issues" in str(outcomes["OPS-1"].error)
    assert "chase-test" in sim.labels("APP-1")


def test_a_bulk_edit_whose_answer_is_lost_is_done_issue_by_issue(jira_sim):
    faults = only(RESET_BEFORE, "POST */bulk/issues/fields")
    sim = jira_sim(build_demo_dataset(), faults=faults)
    outcomes = JiraSource(settings(sim.url)).apply(_label_ops(KEYS))
    assert [o.error for o in outcomes] == [None] * len(KEYS)
    assert all("chase-test" in sim.labels(key) for key in KEYS)
    edits = [p for m, p in sim.requests if m == "PUT" and "/issue/APP-" in p]
    assert len(edits) == len(KEYS)


def test_a_bulk_edit_refused_outright_is_done_issue_by_issue(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "POST */bulk/issues/fields"))
    source = JiraSource(settings(sim.url))
    outcomes = source.apply(_label_ops(KEYS))
    assert [o.error for o in outcomes] == [None] * len(KEYS)
    assert all("chase-test" in sim.labels(key) for key in KEYS)
    # ... and this source does not try bulk edit again.
    source.apply(_label_ops(KEYS, "chase-other"))
    bulk = [p for m, p in sim.requests if m == "POST" and p.endswith("/bulk/issues/fields")]
    assert len(bulk) == 1


def test_mypermissions_failing_leaves_the_first_write_to_find_out(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "GET */mypermissions"))
    source = JiraSource(settings(sim.url))
    (outcome,) = source.apply(_label_ops(["APP-1"]))
    assert outcome.error is None and "chase-test" in sim.labels("APP-1")
    edits = [(x.query.get("notifyUsers"), x.status) for x in sim.exchanges if x.method == "PUT"]
    assert edits == [(["false"], 403), (None, 204)]
    assert source.stats.noisy_by_project == {"APP": 1}
    assert source.memory.recall("jira-silent-writes") == {"APP": "no"}


def test_a_label_edit_refused_for_another_reason_is_not_taken_for_notifications(jira_sim):
    dataset = build_demo_dataset()
    for project in dataset["projects"]:
        project["readonly"] = project["key"] == "OPS"
    sim = jira_sim(dataset)
    (outcome,) = JiraSource(settings(sim.url)).apply(_label_ops(["OPS-1"]))
    assert outcome.error is not None and outcome.error.status == 403
    assert "You do not have permission to edit issues in this project." in str(outcome.error)
    assert len([x for x in sim.exchanges if x.method == "PUT"]) == 1


def test_the_json_summary_names_the_noisy_writes(tmp_path, demo_sim):
    config = write_toml(tmp_path / "c.toml", demo_config(demo_sim.url, "s.sqlite"))
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--now", NOW.isoformat(), "--json"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["noisy_writes"] == summary["noisy_by_project"]["APP"] > 0


# -- more write and read failures ---------------------------------------------------------


def test_cloud_settings_against_data_center_and_back_name_the_fix(jira_sim):
    dc = jira_sim(build_demo_dataset(), deployment="datacenter")
    with pytest.raises(TrackerError, match="set jira.deployment = 'datacenter', else check"):
        JiraSource(settings(dc.url))
    cloud = jira_sim(build_demo_dataset())
    # Cloud refuses a personal access token outright (Bearer is not its sign-in).
    with pytest.raises(TrackerError, match="HTTP 401 while checking the server: check the pers"):
        JiraSource(settings(cloud.url, deployment="datacenter", email=""))


def test_reading_labels_refused_with_403_fails_the_run(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(FORBIDDEN, "GET */issue/OPS-24"))
    with pytest.raises(TrackerError, match="HTTP 403 while reading OPS-24"):
        JiraSource(settings(sim.url)).labels_of(["OPS-24"])


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
    from jira_chase.plan import COMMENT_DELETE

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
        source.apply(_label_ops(["APP-1"]))
    with pytest.raises(TrackerError, match="HTTP 401"):
        source.apply(_label_ops(KEYS))  # a bulk edit


def test_a_write_whose_connection_is_lost_is_an_error_for_that_issue(jira_sim):
    sim = jira_sim(build_demo_dataset(), faults=only(RESET_BEFORE, "PUT */issue/APP-1"))
    source = JiraSource(settings(sim.url))
    source.notifications.may_write_silently("APP")
    (outcome,) = source.apply(_label_ops(["APP-1"]))
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


def test_a_bulk_edit_failing_with_a_5xx_fails_each_of_its_issues(jira_sim):
    from jira_chase.simulator.faults import SERVER_ERROR

    sim = jira_sim(build_demo_dataset(), faults=only(SERVER_ERROR, "POST */bulk/issues/fields"))
    outcomes = JiraSource(settings(sim.url)).apply(_label_ops(KEYS))
    assert all("bulk edit: Internal server error" in str(o.error) for o in outcomes)


def test_a_comment_delete_refused_is_an_error_for_that_issue(jira_sim):
    from jira_chase.plan import COMMENT_DELETE

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
