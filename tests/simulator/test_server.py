"""The Jira Cloud simulator over real sockets, with ``requests`` and the ``jira`` library.

Every simulator started through the ``jira_sim`` fixture has all its answers validated
against the Jira Cloud OpenAPI document when the test ends.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jira
import pytest
import requests

from jira_chase.simulator import JiraSimulator, load_dataset
from tests.conftest import NOW, SimulatorFactory, build_demo_like_dataset
from tests.openapi_check import CloudSpec, Exchange, validate_exchanges

ANN = ("ann@example.com", "any-token")
BOT = ("bot@example.com", "any-token")
FIXED = datetime(2026, 11, 5, 12, 30, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return FIXED


def http(auth: tuple[str, str] | None = ANN) -> requests.Session:
    session = requests.Session()
    if auth:
        session.auth = auth
    return session


def many_issues(count: int) -> dict[str, Any]:
    """The demo-like users and statuses with ``count`` plain issues in project BIG."""
    doc = build_demo_like_dataset()
    doc["projects"].append({"key": "BIG", "name": "Big project"})
    start = datetime(2026, 9, 1, tzinfo=timezone.utc)
    doc["issues"] += [
        {
            "key": f"BIG-{n}",
            "project": "BIG",
            "type": "Task",
            "summary": f"Task {n}",
            "status": "In Progress",
            "created": (start + timedelta(hours=n)).isoformat(),
            "history": [
                {
                    "at": (start + timedelta(hours=n, minutes=30)).isoformat(),
                    "by": "u-cat",
                    "field": "status",
                    "from": "To Do",
                    "to": "In Progress",
                }
            ],
        }
        for n in range(1, count + 1)
    ]
    return doc


def jira_client(sim: JiraSimulator) -> jira.JIRA:
    return jira.JIRA(server=sim.url, basic_auth=ANN, options={"rest_api_version": "3"}, timeout=10)


# -- server basics -------------------------------------------------------------------------


def test_server_info_on_v2_and_v3(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset, clock=fixed_clock)
    for version in ("2", "3"):
        info = http().get(f"{sim.url}/rest/api/{version}/serverInfo").json()
        assert info["deploymentType"] == "Cloud"
        assert info["baseUrl"] == sim.url
        assert info["serverTime"] == "2026-11-05T12:30:00.000+0000"
        assert info["versionNumbers"][0] >= 1000


def test_the_clock_starts_at_the_dataset_now(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    served = http().get(f"{sim.url}/rest/api/3/serverInfo").json()["serverTime"]
    moment = datetime.strptime(served, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert NOW <= moment < NOW + timedelta(minutes=1)


def test_myself_is_the_authenticated_user(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    me = http(BOT).get(f"{sim.url}/rest/api/3/myself").json()
    assert (me["accountId"], me["displayName"], me["emailAddress"]) == (
        "u-bot",
        "Chase Bot",
        "bot@example.com",
    )


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer some-token",
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"stranger@example.com:x").decode(),
    ],
    ids=["missing", "bearer", "garbled", "no password", "unknown email"],
)
def test_requests_without_valid_basic_auth_are_401(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, authorization: str | None
) -> None:
    sim = jira_sim(demo_like_dataset)
    headers = {"Authorization": authorization} if authorization else {}
    answer = requests.get(f"{sim.url}/rest/api/3/myself", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["errorMessages"] == [
        "Client must be authenticated to access this resource."
    ]
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_paths_are_404_and_wrong_methods_405(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    missing = http().get(f"{sim.url}/rest/api/3/dashboard")
    assert missing.status_code == 404
    assert missing.json() == {
        "errorMessages": ["No resource found for GET /rest/api/3/dashboard."],
        "errors": {},
    }
    assert http().delete(f"{sim.url}/rest/api/3/issue/APP-1").status_code == 405


def test_requests_are_counted_in_order(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    session = http()
    session.get(f"{sim.url}/rest/api/3/myself")
    session.get(f"{sim.url}/rest/api/3/issue/APP-1")
    assert sim.request_count == 2
    assert sim.requests == [("GET", "/rest/api/3/myself"), ("GET", "/rest/api/3/issue/APP-1")]
    sim.reset_counts()
    assert sim.request_count == 0 and sim.requests == []


def test_start_stop_and_context_manager(demo_like_dataset: dict) -> None:
    with JiraSimulator(demo_like_dataset) as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        assert http().get(f"{sim.url}/rest/api/3/serverInfo").status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sim.url}/rest/api/3/serverInfo", timeout=2)
    dataset = load_dataset(demo_like_dataset)
    other = JiraSimulator(dataset).start()
    assert other.dataset is dataset  # a loaded dataset is served, and edited, as is
    assert http().get(f"{other.url}/rest/api/3/serverInfo").status_code == 200
    other.stop()


def test_run_serves_until_interrupted(tmp_path: Path) -> None:
    dataset = tmp_path / "data.json"
    dataset.write_text(json.dumps(build_demo_like_dataset()))
    code = "import sys; from jira_chase.simulator.server import run; run(sys.argv[1])"
    process = subprocess.Popen(
        [sys.executable, "-u", "-c", code, str(dataset)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split(" at ")[1].strip()
        assert http().get(f"{url}/rest/api/3/serverInfo", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


# -- the jira library --------------------------------------------------------------------------


def test_the_jira_library_connects_reads_fields_and_pages_through_a_search(
    jira_sim: SimulatorFactory,
) -> None:
    sim = jira_sim(many_issues(250))
    client = jira_client(sim)
    assert client.deploymentType == "Cloud"
    fields = {field["id"]: field for field in client.fields()}
    assert fields["customfield_10016"]["name"] == "Story point estimate"
    assert fields["customfield_10021"]["name"] == "Flagged"
    sim.reset_counts()
    issues = client.enhanced_search_issues("project = BIG ORDER BY key", maxResults=0)
    assert [issue.key for issue in issues] == [f"BIG-{n}" for n in range(1, 251)]
    assert issues[0].fields.status.name == "In Progress"
    searches = [path for _, path in sim.requests if path.endswith("/search/jql")]
    assert len(searches) == 3  # 100 + 100 + 50


def test_the_jira_library_searches_with_post_and_json(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    client = jira_client(sim)
    result = client.enhanced_search_issues(
        "project = OPS ORDER BY key", maxResults=2, json_result=True, use_post=True
    )
    assert [issue["key"] for issue in result["issues"]] == ["OPS-7", "OPS-8"]
    assert result["isLast"] is False and "total" not in result
    rest = client.enhanced_search_issues(
        "project = OPS ORDER BY key",
        nextPageToken=result["nextPageToken"],
        maxResults=2,
        json_result=True,
        use_post=True,
    )
    assert [issue["key"] for issue in rest["issues"]] == ["OPS-9"]
    assert rest["isLast"] is True and "nextPageToken" not in rest


def test_the_jira_library_edits_labels_and_comments(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    client = jira_client(sim)
    issue = client.issue("APP-3")
    issue.update(update={"labels": [{"add": "chase-late"}]}, notify=False)
    assert sim.labels("APP-3") == ["chase-late"]
    assert ("PUT", f"/rest/api/3/issue/{sim.issue('APP-3').id}") in sim.requests
    comments = client.comments("APP-1")
    assert [c.author.accountId for c in comments] == ["u-bob", "u-ann"]
    changelog = client.issue("APP-1", expand="changelog").changelog
    assert changelog.total == len(sim.history("APP-1"))


# -- search --------------------------------------------------------------------------------------


def search(sim: JiraSimulator, **params: Any) -> requests.Response:
    return http().get(f"{sim.url}/rest/api/3/search/jql", params=params)


def test_search_answers_ids_by_default(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    body = search(sim, jql="project = OPS ORDER BY key").json()
    ids = [sim.issue(key).id for key in ("OPS-7", "OPS-8", "OPS-9")]
    assert body == {"issues": [{"id": i} for i in ids], "isLast": True}


def test_search_fields_selection(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    jql = "key = APP-1"
    (issue,) = search(sim, jql=jql, fields="summary,labels").json()["issues"]
    assert issue["key"] == "APP-1" and set(issue["fields"]) == {"summary", "labels"}
    (issue,) = search(sim, jql=jql, fields=["summary", "status"]).json()["issues"]
    assert set(issue["fields"]) == {"summary", "status"}
    (issue,) = search(sim, jql=jql, fields="*navigable").json()["issues"]
    assert "comment" not in issue["fields"] and "issuelinks" in issue["fields"]
    (issue,) = search(sim, jql=jql, fields="*all,-comment,-project").json()["issues"]
    assert "comment" not in issue["fields"] and "project" not in issue["fields"]
    assert "customfield_10016" in issue["fields"]
    (issue,) = search(sim, jql=jql, fields="-summary").json()["issues"]
    assert "summary" not in issue["fields"] and "status" in issue["fields"]
    (issue,) = search(sim, jql=jql, fields="key").json()["issues"]
    assert issue["key"] == "APP-1" and "fields" not in issue


def test_issue_json_shape(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    issues = search(sim, jql="key in (APP-1, OPS-7, APP-5)", fields="*all").json()["issues"]
    by_key = {issue["key"]: issue["fields"] for issue in issues}
    app = by_key["APP-1"]
    assert app["status"]["name"] == "Code Review"
    assert app["status"]["statusCategory"]["key"] == "indeterminate"
    assert app["assignee"]["accountId"] == "u-ann" and app["reporter"]["accountId"] == "u-bob"
    assert app["created"] == "2026-10-01T09:00:00.000+0000"
    assert app["duedate"] == "2026-11-30"
    assert [v["name"] for v in app["fixVersions"]] == ["Beta"]
    assert app["parent"]["key"] == "APP-10"
    assert app["parent"]["fields"]["summary"] == "Beta launch"
    assert app["customfield_10016"] == 3 and app["customfield_10021"] is None
    assert app["project"]["key"] == "APP"
    assert [c["body"]["type"] for c in app["comment"]["comments"]] == ["doc", "doc"]
    (link,) = app["issuelinks"]
    assert link["type"] == {
        "id": "10000",
        "name": "Blocks",
        "inward": "is blocked by",
        "outward": "blocks",
        "self": f"{sim.url}/rest/api/3/issueLinkType/10000",
    }
    assert link["inwardIssue"]["key"] == "OPS-7" and "outwardIssue" not in link
    (mirror,) = by_key["OPS-7"]["issuelinks"]
    assert mirror["outwardIssue"]["key"] == "APP-1" and mirror["id"] == link["id"]
    assert by_key["APP-5"]["customfield_10021"] == [
        {
            "self": f"{sim.url}/rest/api/3/customFieldOption/10019",
            "value": "Impediment",
            "id": "10019",
        }
    ]
    assert by_key["APP-5"]["assignee"]["displayName"] == "Cat Diaz"


def test_search_pages_with_next_page_tokens_on_get_and_post(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    for method in ("GET", "POST"):
        seen: list[str] = []
        token = None
        while True:
            params: dict[str, Any] = {"jql": "project = APP ORDER BY key", "maxResults": 3}
            params["fields"] = ["key"]
            if token:
                params["nextPageToken"] = token
            if method == "GET":
                body = search(sim, **params).json()
            else:
                body = http().post(f"{sim.url}/rest/api/3/search/jql", json=params).json()
            assert "total" not in body and "startAt" not in body
            seen += [issue["key"] for issue in body["issues"]]
            if body["isLast"]:
                assert "nextPageToken" not in body
                break
            token = body["nextPageToken"]
        assert seen == ["APP-1", "APP-2", "APP-3", "APP-4", "APP-5", "APP-10", "APP-11"]


def test_search_page_size_limits(jira_sim: SimulatorFactory) -> None:
    sim = jira_sim(many_issues(150))
    assert len(search(sim, jql="project = BIG", maxResults=1000).json()["issues"]) == 150
    assert (
        len(search(sim, jql="project = BIG", maxResults=1000, fields="*all").json()["issues"])
        == 100
    )
    heavy = search(sim, jql="project = BIG", maxResults=1000, expand="changelog").json()
    assert len(heavy["issues"]) == 100 and heavy["isLast"] is False
    assert len(search(sim, jql="project = BIG").json()["issues"]) == 50


def test_bad_page_tokens_are_400(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    first = search(sim, jql="project = APP ORDER BY key", maxResults=2).json()
    garbled = search(sim, jql="project = APP ORDER BY key", nextPageToken="%%not-a-token")
    assert garbled.status_code == 400 and garbled.json()["errorMessages"]
    other_query = search(sim, jql="project = OPS", nextPageToken=first["nextPageToken"])
    assert other_query.status_code == 400


def test_bad_jql_is_400_with_error_messages(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    answer = search(sim, jql="project = APP AND (status = Done xyz")
    assert answer.status_code == 400
    assert answer.json() == {
        "errorMessages": [
            "Error in the JQL Query: Expecting ')' but got 'xyz'. (line 1, character 34)"
        ],
        "errors": {},
    }
    unknown = http().post(f"{sim.url}/rest/api/3/search/jql", json={"jql": "status = Nope"})
    assert unknown.status_code == 400
    assert unknown.json()["errorMessages"] == [
        "The value 'Nope' does not exist for the field 'status'."
    ]
    unbounded = search(sim, jql="ORDER BY key")
    assert unbounded.status_code == 400 and "Unbounded" in unbounded.json()["errorMessages"][0]
    typo = http().post(
        f"{sim.url}/rest/api/3/search/jql", json={"jql": "project = APP", "feilds": []}
    )
    assert typo.status_code == 400


def test_relative_dates_follow_the_simulator_clock(jira_sim: SimulatorFactory) -> None:
    doc = build_demo_like_dataset()
    late = {"now": datetime(2026, 11, 5, 12, 0, tzinfo=timezone.utc)}
    sim = jira_sim(doc, clock=lambda: late["now"])
    jql = "updated >= -17d ORDER BY key"
    assert [i["key"] for i in search(sim, jql=jql, fields="key").json()["issues"]] == [
        "APP-1",
        "OPS-7",
    ]
    late["now"] += timedelta(days=10)
    assert search(sim, jql=jql, fields="key").json()["issues"] == []


def test_the_removed_search_endpoints_answer_410(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    for version in ("2", "3"):
        for answer in (
            http().get(f"{sim.url}/rest/api/{version}/search", params={"jql": "project = APP"}),
            http().post(f"{sim.url}/rest/api/{version}/search", json={"jql": "project = APP"}),
        ):
            assert answer.status_code == 410
            assert "/rest/api/3/search/jql" in answer.json()["errorMessages"][0]


def test_approximate_count(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    answer = http().post(
        f"{sim.url}/rest/api/3/search/approximate-count", json={"jql": "project = APP"}
    )
    assert answer.json() == {"count": 7}


# -- changelogs --------------------------------------------------------------------------------


def test_inline_changelog_in_search_is_capped_at_the_latest_40(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    history = sim.history("APP-1")
    assert len(history) == 46  # 45 dataset entries and the Link entry
    (issue,) = search(sim, jql="key = APP-1", expand="changelog").json()["issues"]
    changelog = issue["changelog"]
    assert (changelog["startAt"], changelog["maxResults"], changelog["total"]) == (6, 40, 46)
    assert [h["id"] for h in changelog["histories"]] == [h.id for h in history[6:]]
    link_item = changelog["histories"][-1]["items"][0]
    assert link_item == {
        "field": "Link",
        "fieldtype": "jira",
        "from": None,
        "fromString": None,
        "to": "OPS-7",
        "toString": "This issue is blocked by OPS-7",
    }
    # GET issue returns up to 100 histories.
    full = http().get(f"{sim.url}/rest/api/3/issue/APP-1", params={"expand": "changelog"}).json()
    assert (full["changelog"]["startAt"], full["changelog"]["total"]) == (0, 46)
    assert len(full["changelog"]["histories"]) == 46


def test_changelog_items_speak_jira(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    issue = http().get(f"{sim.url}/rest/api/3/issue/APP-2", params={"expand": "changelog"}).json()
    first, labels = issue["changelog"]["histories"]
    status, assignee = first["items"]
    statuses = sim.dataset.statuses
    assert status == {
        "field": "status",
        "fieldtype": "jira",
        "fieldId": "status",
        "from": statuses["To Do"].id,
        "fromString": "To Do",
        "to": statuses["In Progress"].id,
        "toString": "In Progress",
    }
    assert assignee == {
        "field": "assignee",
        "fieldtype": "jira",
        "fieldId": "assignee",
        "from": None,
        "fromString": None,
        "to": "u-bob",
        "toString": "Bob Stone",
    }
    assert first["author"]["accountId"] == "u-bob"
    assert labels["items"][0]["toString"] == "needs-design chase-stale"
    flagged = http().get(f"{sim.url}/rest/api/3/issue/APP-5", params={"expand": "changelog"}).json()
    item = flagged["changelog"]["histories"][-1]["items"][0]
    assert (item["field"], item["fieldId"], item["fieldtype"]) == (
        "Flagged",
        "customfield_10021",
        "custom",
    )


def bulkfetch(sim: JiraSimulator, **body: Any) -> requests.Response:
    return http().post(f"{sim.url}/rest/api/3/changelog/bulkfetch", json=body)


def test_bulk_changelog_pages_oldest_first(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    wanted = ["APP-1", sim.issue("APP-2").id, "APP-4", "NOPE-1"]  # ids or keys; unknown ignored
    pages: list[list[tuple[str, int]]] = []  # (created, issue id) per page
    ids: dict[str, list[str]] = {}
    token = None
    while True:
        body: dict[str, Any] = {"issueIdsOrKeys": wanted, "maxResults": 10}
        if token:
            body["nextPageToken"] = token
        page = bulkfetch(sim, **body).json()
        pages.append([])
        for log in page["issueChangeLogs"]:
            for history in log["changeHistories"]:
                pages[-1].append((history["created"], int(log["issueId"])))
                ids.setdefault(log["issueId"], []).append(history["id"])
        token = page.get("nextPageToken")
        if not token:
            break
    assert [len(page) for page in pages] == [10, 10, 10, 10, 10, 1]  # 46 + 2 + 3 histories
    for key in ("APP-1", "APP-2", "APP-4"):
        assert ids[sim.issue(key).id] == [h.id for h in sim.history(key)]
    # Pages follow each other by changelog date, then issue id.
    for earlier, later in zip(pages, pages[1:]):
        assert max(earlier) <= min(later)


def test_bulk_changelog_filters_by_field(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    page = bulkfetch(
        sim, issueIdsOrKeys=["APP-2", "APP-5"], fieldIds=["labels", "customfield_10021"]
    ).json()
    items = [
        (log["issueId"], item["fieldId"])
        for log in page["issueChangeLogs"]
        for history in log["changeHistories"]
        for item in history["items"]
    ]
    assert items == [
        (sim.issue("APP-2").id, "labels"),
        (sim.issue("APP-5").id, "customfield_10021"),
    ]
    assert "nextPageToken" not in page


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"issueIdsOrKeys": []},
        {"issueIdsOrKeys": [f"APP-{n}" for n in range(1001)]},
        {"issueIdsOrKeys": ["APP-1"], "fieldIds": [f"f{n}" for n in range(11)]},
        {"issueIdsOrKeys": ["APP-1"], "fieldIds": ["status", "status"]},
        {"issueIdsOrKeys": ["APP-1"], "maxResults": 0},
        {"issueIdsOrKeys": ["APP-1"], "maxResults": 10001},
        {"issueIdsOrKeys": ["APP-1"], "nextPageToken": "garbage"},
        {"issueIdsOrKeys": ["APP-1"], "colour": "red"},
    ],
    ids=[
        "empty",
        "no issues",
        "1001 issues",
        "11 fields",
        "repeated field",
        "0 results",
        "10001 results",
        "bad token",
        "unknown key",
    ],
)
def test_bad_bulk_changelog_requests_are_400(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, body: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    answer = bulkfetch(sim, **body)
    assert answer.status_code == 400 and answer.json()["errorMessages"]


def test_issue_changelog_pages(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    url = f"{sim.url}/rest/api/3/issue/APP-1/changelog"
    first = http().get(url, params={"maxResults": 40}).json()
    second = http().get(url, params={"startAt": 40, "maxResults": 40}).json()
    assert (first["total"], first["isLast"], second["isLast"]) == (46, False, True)
    assert first["nextPage"].endswith("startAt=40&maxResults=40")
    assert [h["id"] for h in first["values"] + second["values"]] == [
        h.id for h in sim.history("APP-1")
    ]


NOT_ON_SCREEN = "It is not on the appropriate screen, or unknown."


# -- issues and labels ------------------------------------------------------------------------


def edit(
    sim: JiraSimulator, key: str, body: Any, auth: tuple[str, str] = BOT, **params: Any
) -> requests.Response:
    return http(auth).put(f"{sim.url}/rest/api/3/issue/{key}", json=body, params=params)


def test_get_issue(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    issue = http().get(f"{sim.url}/rest/api/2/issue/app-1").json()
    assert issue["key"] == "APP-1" and "comment" in issue["fields"]
    assert issue["fields"]["comment"]["comments"][1]["body"] == "Waiting for OPS-7.\n\nThen yes."
    same = (
        http().get(f"{sim.url}/rest/api/3/issue/{issue['id']}", params={"fields": "summary"}).json()
    )
    assert same["fields"] == {"summary": "Checkout page"}
    missing = http().get(f"{sim.url}/rest/api/3/issue/APP-99")
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."
    ]


def test_labels_are_added_and_removed_with_history_by_the_author(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, clock=fixed_clock)
    before = len(sim.history("APP-2"))
    answer = edit(
        sim,
        "APP-2",
        {"update": {"labels": [{"remove": "chase-stale"}, {"add": "chase-blocked"}]}},
        notifyUsers="false",
    )
    assert answer.status_code == 204 and answer.content == b""
    assert sim.labels("APP-2") == ["needs-design", "chase-blocked"]
    entry = sim.history("APP-2")[-1]
    assert len(sim.history("APP-2")) == before + 1
    assert (entry.by, entry.at) == ("u-bot", FIXED)
    assert (entry.items[0].from_value, entry.items[0].to_value) == (
        "needs-design chase-stale",
        "needs-design chase-blocked",
    )
    assert sim.issue("APP-2").updated == FIXED
    shown = http().get(f"{sim.url}/rest/api/3/issue/APP-2", params={"expand": "changelog"}).json()
    assert shown["fields"]["updated"] == "2026-11-05T12:30:00.000+0000"
    item = shown["changelog"]["histories"][-1]["items"][0]
    assert (item["fieldId"], item["fromString"], item["toString"]) == (
        "labels",
        "needs-design chase-stale",
        "needs-design chase-blocked",
    )
    assert shown["changelog"]["histories"][-1]["author"]["accountId"] == "u-bot"


def test_a_label_edit_that_changes_nothing_leaves_no_trace(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, clock=fixed_clock)
    updated, history = sim.issue("APP-2").updated, len(sim.history("APP-2"))
    answer = edit(
        sim, "APP-2", {"update": {"labels": [{"add": "needs-design"}, {"remove": "absent"}]}}
    )
    assert answer.status_code == 204
    assert sim.issue("APP-2").updated == updated and len(sim.history("APP-2")) == history


def test_labels_can_be_set_through_fields_or_set(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    assert edit(sim, "APP-3", {"fields": {"labels": ["a", "b"]}}).status_code == 204
    assert sim.labels("APP-3") == ["a", "b"]
    assert edit(sim, "APP-3", {"update": {"labels": [{"set": ["c"]}]}}).status_code == 204
    assert sim.labels("APP-3") == ["c"]
    returned = edit(sim, "APP-3", {"fields": {"labels": []}}, returnIssue="true")
    assert returned.status_code == 200 and returned.json()["fields"]["labels"] == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"fields": {"labels": ["x"]}, "update": {"labels": [{"add": "y"}]}},
            {"labels": "Field 'labels' cannot be both set in 'fields' and changed in 'update'"},
        ),
        (
            {"fields": {"duedate": "2026-12-01"}},
            {"duedate": f"Field 'duedate' cannot be set. {NOT_ON_SCREEN}"},
        ),
        (
            {"update": {"labels": [{"add": "two words"}]}},
            {"labels": "The label 'two words' contains spaces which is invalid."},
        ),
        (
            {"update": {"labels": [{"copy": "x"}]}},
            {"labels": "The simulator does not support the 'copy' operation."},
        ),
    ],
    ids=["both", "other field", "space", "unsupported verb"],
)
def test_invalid_edits_are_400_and_change_nothing(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, body: dict, errors: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    answer = edit(sim, "APP-1", body)
    assert answer.status_code == 400
    assert answer.json() == {"errorMessages": [], "errors": errors}
    assert sim.labels("APP-1") == ["customer"]


def test_editing_an_unknown_issue_is_404(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    assert edit(sim, "APP-99", {"update": {"labels": [{"add": "x"}]}}).status_code == 404


def test_concurrent_label_writes_all_land(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    before = len(sim.history("APP-3"))

    def add(label: str) -> None:
        assert edit(sim, "APP-3", {"update": {"labels": [{"add": label}]}}).status_code == 204

    threads = [threading.Thread(target=add, args=(f"chase-{n}",)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sim.labels("APP-3")) == sorted(f"chase-{n}" for n in range(20))
    assert len(sim.history("APP-3")) == before + 20
    assert sim.request_count == 20


# -- comments -----------------------------------------------------------------------------------


def adf(text: str) -> dict[str, Any]:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def test_comments_are_listed_as_pages_of_adf(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    url = f"{sim.url}/rest/api/3/issue/APP-1/comment"
    page = http().get(url).json()
    assert (page["startAt"], page["maxResults"], page["total"]) == (0, 100, 2)
    first, second = page["comments"]
    assert first["author"]["accountId"] == "u-bob"
    assert first["body"] == adf("Can we ship this before Beta?")
    assert [p["type"] for p in second["body"]["content"]] == ["paragraph", "paragraph"]
    newest_first = http().get(url, params={"orderBy": "-created", "maxResults": 1}).json()
    assert [c["id"] for c in newest_first["comments"]] == [second["id"]]
    assert http().get(url, params={"orderBy": "author"}).status_code == 400


def test_a_comment_is_added_tagged_edited_and_deleted(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, clock=fixed_clock)
    bot = http(BOT)
    url = f"{sim.url}/rest/api/3/issue/APP-3/comment"
    created = bot.post(
        url,
        json={"body": adf("Stale for 5 days"), "properties": [{"key": "chase", "value": {"v": 1}}]},
    )
    assert created.status_code == 201
    comment = created.json()
    assert comment["author"]["accountId"] == "u-bot" and comment["body"] == adf("Stale for 5 days")
    assert sim.issue("APP-3").updated == FIXED
    (stored,) = sim.comments("APP-3")
    assert stored["body"] == adf("Stale for 5 days") and stored["properties"] == {"chase": {"v": 1}}

    listed = bot.get(url, params={"expand": "properties"}).json()["comments"]
    assert listed[0]["properties"] == [{"key": "chase", "value": {"v": 1}}]

    edited = bot.put(
        f"{url}/{comment['id']}",
        json={"body": adf("Stale for 6 days")},
        params={"notifyUsers": "false"},
    )
    assert edited.status_code == 200 and edited.json()["body"] == adf("Stale for 6 days")
    assert sim.comments("APP-3")[0]["body"] == adf("Stale for 6 days")

    prop = f"{sim.url}/rest/api/3/comment/{comment['id']}/properties/chase-run"
    assert bot.put(prop, json={"run": 7}).status_code == 201
    assert bot.put(prop, json={"run": 8}).status_code == 200
    assert bot.get(prop).json() == {"key": "chase-run", "value": {"run": 8}}
    assert (
        bot.get(f"{sim.url}/rest/api/3/comment/{comment['id']}/properties/nope").status_code == 404
    )

    assert bot.delete(f"{url}/{comment['id']}").status_code == 204
    assert sim.comments("APP-3") == []
    assert bot.get(f"{url}/{comment['id']}").status_code == 404


def test_comment_rules(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset)
    bot = http(BOT)
    url = f"{sim.url}/rest/api/3/issue/APP-1/comment"
    plain = bot.post(url, json={"body": "plain text is not ADF"})
    assert plain.status_code == 400 and "comment" in plain.json()["errors"]
    foreign = sim.comments("APP-1")[0]["id"]
    assert bot.put(f"{url}/{foreign}", json={"body": adf("hijack")}).status_code == 400
    assert bot.delete(f"{url}/{foreign}").status_code == 400
    assert (
        bot.put(f"{sim.url}/rest/api/3/comment/{foreign}/properties/x", json=1).status_code == 403
    )
    assert len(sim.comments("APP-1")) == 2
    assert (
        bot.post(f"{sim.url}/rest/api/3/issue/APP-99/comment", json={"body": adf("x")}).status_code
        == 404
    )
    wrong_issue = bot.get(f"{sim.url}/rest/api/3/issue/APP-2/comment/{foreign}")
    assert wrong_issue.status_code == 404
    # v2 speaks plain text.
    v2 = bot.post(f"{sim.url}/rest/api/2/issue/APP-1/comment", json={"body": "wiki *text*"})
    assert v2.status_code == 201 and v2.json()["body"] == "wiki *text*"


# -- the spec check itself ----------------------------------------------------------------------


def _exchange(path: str, body: Any, status: int = 200, method: str = "GET") -> Exchange:
    return Exchange(method, path, {}, None, status, {}, body)


def test_the_spec_check_catches_missing_fields_and_wrong_types(cloud_spec: CloudSpec) -> None:
    good = {"issues": [{"id": "1"}], "isLast": True}
    validate_exchanges([_exchange("/rest/api/3/search/jql", good)], spec=cloud_spec)

    def bean(fields: dict[str, Any]) -> dict[str, Any]:
        issue = {"id": "1", "key": "A-1", "self": "http://x", "fields": fields}
        return {"issues": [issue], "isLast": True}

    broken = [
        {"issues": [{"id": "1"}]},  # no isLast
        {"issues": [{"id": 1}], "isLast": True},  # id is not a string
        bean({"labels": "a"}),  # labels is not an array
        bean({"created": "2026-10-01T09:00:00Z"}),  # not Jira's time format
        bean({"sumary": "typo"}),  # a field the simulator does not declare
        bean({"status": {"name": "Done"}}),  # status without id, self, statusCategory
    ]
    for body in broken:
        with pytest.raises(AssertionError):
            validate_exchanges([_exchange("/rest/api/3/search/jql", body)], spec=cloud_spec)


def test_the_spec_check_holds_errors_to_jiras_error_shape(cloud_spec: CloudSpec) -> None:
    validate_exchanges(
        [_exchange("/rest/api/3/nowhere", {"errorMessages": ["x"], "errors": {}}, 404)],
        spec=cloud_spec,
    )
    with pytest.raises(AssertionError, match="errors"):
        validate_exchanges(
            [_exchange("/rest/api/3/myself", {"errorMessages": ["x"]}, 401)], spec=cloud_spec
        )
    with pytest.raises(AssertionError, match="not an operation"):
        validate_exchanges([_exchange("/rest/api/3/nowhere", {}, 200)], spec=cloud_spec)
    with pytest.raises(AssertionError, match="server error"):
        validate_exchanges(
            [_exchange("/rest/api/3/myself", {"errorMessages": ["boom"], "errors": {}}, 500)],
            spec=cloud_spec,
        )


def test_the_spec_location_can_be_overridden(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.openapi_check import SPEC_ENV, spec_path

    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "spec.json"))
    assert spec_path() == tmp_path / "spec.json"
    monkeypatch.delenv(SPEC_ENV)
    assert spec_path().name == "jira-cloud-platform-swagger-v3.v3.json"
    assert os.path.exists(spec_path())


def test_the_spec_check_can_hold_request_bodies_to_the_spec(cloud_spec: CloudSpec) -> None:
    answer = {"issueChangeLogs": []}
    bad_request = Exchange(
        "POST", "/rest/api/3/changelog/bulkfetch", {}, {"issueIdsOrKeys": []}, 200, {}, answer
    )
    validate_exchanges([bad_request], spec=cloud_spec)  # answers only, by default
    with pytest.raises(AssertionError, match="request"):
        validate_exchanges([bad_request], spec=cloud_spec, check_requests=True)
