"""The Jira source against the simulator over real sockets, with the real `jira` library."""

import pytest
import requests

from jira_chase.config import JiraSettings
from jira_chase.errors import IssueError, TrackerError
from jira_chase.plan import Operation
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.sources.jira.source import JiraSource


def settings(url, **kw):
    base = {"url": url, "email": "chase-bot@example.com", "token": "t", "scope": "project = APP"}
    return JiraSettings(**{**base, **kw})


@pytest.fixture
def demo_sim(jira_sim):
    return jira_sim(build_demo_dataset())


def test_fetches_every_issue_in_scope_across_pages(demo_sim):
    source = JiraSource(settings(demo_sim.url, page_size=17))
    issues = source.fetch_issues()
    assert len(issues) == 156
    assert {i.project for i in issues} == {"APP"}
    assert len({i.key for i in issues}) == 156
    searches = [p for m, p in demo_sim.requests if p.endswith("/search/jql")]
    assert len(searches) == 10 + 1  # ceil(156 / 17) pages, one for blockers outside the scope
    assert not any(p.rstrip("/").endswith("/search") for _, p in demo_sim.requests)


def test_histories_longer_than_40_are_completed_with_bulk_changelog(demo_sim):
    dataset = build_demo_dataset()
    raw = next(i for i in dataset["issues"] if i["key"] == "APP-3")
    assert len(raw["history"]) > 40
    issues = {i.key: i for i in JiraSource(settings(demo_sim.url)).fetch_issues()}
    statuses = [(c.from_value, c.to_value) for c in issues["APP-3"].status_changes]
    expected = [(h["from"], h["to"]) for h in raw["history"] if h["field"] == "status"]
    assert statuses == expected
    assert any(p.endswith("/changelog/bulkfetch") for _, p in demo_sim.requests)


def test_issue_fields_are_mapped(demo_sim):
    issues = {i.key: i for i in JiraSource(settings(demo_sim.url)).fetch_issues()}
    blocked = issues["APP-145"]
    (link,) = [lnk for lnk in blocked.links if lnk.direction == "inward"]
    assert (link.key, link.project, link.status) == ("OPS-24", "OPS", "In Progress")
    assert link.since is not None
    assert "frontend" in blocked.labels
    assert blocked.assignee is not None and blocked.assignee.name
    assert blocked.created.tzinfo is not None


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_components_parent_and_resolution_are_read(jira_sim, deployment):
    sim = jira_sim(build_demo_dataset(), deployment=deployment)
    source = JiraSource(settings(sim.url, deployment=deployment))
    issues = {i.key: i for i in source.fetch_issues()}
    assert issues["APP-153"].components == ("Settings",)
    assert issues["APP-155"].parent == "APP-154" and issues["APP-155"].type == "Subtask"
    assert sum(i.components == ("Release engineering",) for i in issues.values()) == 7
    # the workflow resolves done issues; the data states two that disagree
    assert issues["APP-154"].resolution == "Done" and issues["APP-155"].resolution is None
    assert issues["APP-55"].status == "Done" and issues["APP-55"].resolution is None
    assert issues["APP-156"].status == "To Do" and issues["APP-156"].resolution == "Done"
    assert not any(i.components for i in issues.values() if ":" not in i.summary
                   and i.components != ("Release engineering",))  # fmt: skip


def test_label_update_touches_only_the_named_labels(demo_sim):
    source = JiraSource(settings(demo_sim.url))
    before = demo_sim.labels("APP-108")
    assert "customer" in before
    (outcome,) = source.apply([Operation("labels", "APP-108", add=("chase-off-track",))])
    assert outcome.error is None
    assert demo_sim.labels("APP-108") == [*before, "chase-off-track"]
    source.apply([Operation("labels", "APP-108", remove=("chase-off-track",))])
    assert demo_sim.labels("APP-108") == before


def test_bad_scope_jql_names_the_key(demo_sim):
    source = JiraSource(settings(demo_sim.url, scope="project = APP AND nonsense ~ x"))
    with pytest.raises(TrackerError, match=r"jira\.scope.*HTTP 400"):
        source.fetch_issues()


def test_wrong_credentials_give_one_clear_error(demo_sim):
    with pytest.raises(TrackerError, match=r"HTTP 401.*jira\.email"):
        JiraSource(settings(demo_sim.url, email="nobody@example.com")).identify()


def test_writing_a_missing_issue_is_a_per_issue_error(demo_sim):
    source = JiraSource(settings(demo_sim.url))
    (outcome,) = source.apply([Operation("labels", "APP-9999", add=("chase-at-risk",))])
    assert isinstance(outcome.error, IssueError)
    assert outcome.error.issue_key == "APP-9999" and outcome.error.status == 404


def test_unreachable_site_is_a_tracker_error():
    with pytest.raises(TrackerError, match="cannot reach Jira|connecting"):
        JiraSource(settings("http://127.0.0.1:9", timeout=2, retries=0)).identify()


def test_identify_reports_the_bot(demo_sim):
    identity = JiraSource(settings(demo_sim.url)).identify()
    assert identity.deployment == "Cloud" and identity.user == "chase-bot@example.com"


def test_duplicate_managed_comments_collapse_to_the_one_kept(demo_sim):
    """A slow server can make a comment after its answer was lost and the retry made a
    second one; the source then keeps one and deletes the other."""
    from jira_chase.comment import PROPERTY_KEY

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
    source = JiraSource(settings(demo_sim.url))
    assert source.find_managed_comment("APP-108").comment_id == ids[0]  # the oldest
    source.writer.remove_duplicates("APP-108", keep=ids[1])
    bots = [c["id"] for c in demo_sim.comments("APP-108") if c["author"] == "u-bot"]
    assert bots == [ids[1]]


def test_known_names_are_the_sites_statuses_and_resolutions(demo_sim):
    source = JiraSource(settings(demo_sim.url))
    names = source.known_names()
    assert names.statuses == ("Closed", "Code Review", "Done", "In Progress", "In QA", "To Do")
    assert not names.typed
    resolutions = source.known_resolutions()
    assert "Won't Do" in resolutions and "Duplicate" in resolutions


def test_an_issue_out_of_to_do_without_a_status_change_has_unknown_history(jira_sim):
    full = {i.key: i for i in JiraSource(settings(jira_sim(build_demo_dataset()).url))
            .fetch_issues()}  # fmt: skip
    bare_sim = jira_sim(build_demo_dataset(), changelog=False)
    bare = {i.key: i for i in JiraSource(settings(bare_sim.url)).fetch_issues()}
    assert all(issue.history_known for issue in full.values())
    unknown = {key for key, issue in bare.items() if not issue.history_known}
    # Exactly the issues that have left To Do: those in To Do could have been created there.
    assert unknown == {key for key, issue in full.items() if issue.status != "To Do"}
    assert all(issue.history == () for issue in bare.values())
