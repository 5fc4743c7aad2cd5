"""The Jira Data Center flavour over real sockets, with ``requests`` and the ``jira`` library.

Every simulator started through ``jira_sim(..., deployment="datacenter")`` has all its
answers validated against Atlassian's Jira Data Center 10.3 OpenAPI document.
"""

from __future__ import annotations

from typing import Any

import jira
import pytest
import requests

from jira_chase.simulator import JiraSimulator
from tests.conftest import SimulatorFactory
from tests.simulator.test_server import many_issues

DC = "datacenter"


def pat_session(token: str = "any-pat") -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def dc_client(sim: JiraSimulator, token: str = "any-pat") -> jira.JIRA:
    return jira.JIRA(
        server=sim.url, token_auth=token, options={"rest_api_version": "2"}, timeout=10
    )


def search(sim: JiraSimulator, **params: Any) -> dict[str, Any]:
    answer = pat_session().get(f"{sim.url}/rest/api/2/search", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- server and sign-in --------------------------------------------------------------------


def test_server_info_says_server_10_3(jira_sim: SimulatorFactory, demo_like_dataset: dict) -> None:
    sim = jira_sim(demo_like_dataset, deployment=DC)
    info = pat_session().get(f"{sim.url}/rest/api/2/serverInfo").json()
    assert info["deploymentType"] == "Server"
    assert info["versionNumbers"][:2] == [10, 3]
    # Data Center writes times with its own zone's offset (Sydney here), not in UTC.
    assert info["serverTime"][-5:] in ("+1000", "+1100")


def test_a_pat_signs_in_as_the_bot_and_users_have_names_and_keys(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=DC)
    answer = pat_session().get(f"{sim.url}/rest/api/2/myself")
    me = answer.json()
    assert (me["name"], me["displayName"], me["emailAddress"]) == (
        "u-bot",
        "Chase Bot",
        "bot@example.com",
    )
    assert me["key"].startswith("JIRAUSER") and "accountId" not in me
    assert answer.headers["X-AUSERNAME"] == "u-bot"
    # A PAT naming a user signs in as that user; basic auth takes a username or email.
    assert pat_session("u-ann").get(f"{sim.url}/rest/api/2/myself").json()["name"] == "u-ann"
    for login in ("u-cat", "cat@example.com"):
        basic = requests.get(f"{sim.url}/rest/api/2/myself", auth=(login, "password"))
        assert basic.json()["name"] == "u-cat"
    by_key = pat_session().get(f"{sim.url}/rest/api/2/user", params={"key": me["key"]}).json()
    assert by_key["name"] == "u-bot"
    missing = pat_session().get(f"{sim.url}/rest/api/2/user", params={"username": "nobody"})
    assert missing.status_code == 404


def test_credentials_are_checked_when_given(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(
        demo_like_dataset,
        deployment=DC,
        credentials={"u-ann": "ann-password"},
        tokens={"secret-pat": "u-bot"},
    )
    url = f"{sim.url}/rest/api/2/myself"
    assert pat_session("secret-pat").get(url).json()["name"] == "u-bot"
    assert requests.get(url, auth=("u-ann", "ann-password")).json()["name"] == "u-ann"
    for answer in (
        pat_session("wrong-pat").get(url),
        pat_session("u-ann").get(url),
        requests.get(url, auth=("u-ann", "wrong")),
        requests.get(url, auth=("u-bob", "anything")),
        requests.get(url),
    ):
        assert answer.status_code == 401
        assert answer.json()["errorMessages"] == [
            "You are not authenticated. Authentication required to perform this operation."
        ]
    assert pat_session("wrong-pat").get(url).headers["X-Seraph-LoginReason"] == (
        "AUTHENTICATED_FAILED"
    )


def test_cloud_only_endpoints_are_not_there(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=DC)
    session = pat_session()
    for method, path in (
        ("GET", "/rest/api/3/myself"),
        ("GET", "/rest/api/2/search/jql"),
        ("POST", "/rest/api/2/search/approximate-count"),
        ("POST", "/rest/api/2/changelog/bulkfetch"),
        ("GET", "/rest/api/2/issue/APP-1/changelog"),
        ("POST", "/rest/api/2/bulk/issues/fields"),
    ):
        answer = session.request(method, f"{sim.url}{path}", json={})
        assert answer.status_code == 404, path
        assert answer.json()["errorMessages"]
    assert session.get(f"{sim.url}/rest/api/latest/serverInfo").status_code == 200


# -- search ----------------------------------------------------------------------------------


def test_search_pages_by_start_at_and_total(jira_sim: SimulatorFactory) -> None:
    sim = jira_sim(many_issues(25), deployment=DC)
    seen: list[str] = []
    start = 0
    while True:
        page = search(sim, jql="project = BIG ORDER BY key", startAt=start, maxResults=10)
        assert (page["startAt"], page["maxResults"], page["total"]) == (start, 10, 25)
        seen += [issue["key"] for issue in page["issues"]]
        start += len(page["issues"])
        if start >= page["total"]:
            break
    assert seen == [f"BIG-{n}" for n in range(1, 26)]
    past_the_end = search(sim, jql="project = BIG", startAt=30)
    assert past_the_end["issues"] == [] and past_the_end["total"] == 25
    count_only = search(sim, jql="project = BIG", maxResults=0)
    assert count_only["issues"] == [] and count_only["total"] == 25


def test_max_results_is_capped_silently(jira_sim: SimulatorFactory) -> None:
    sim = jira_sim(many_issues(30), deployment=DC, max_results_cap=12)
    page = search(sim, jql="project = BIG ORDER BY key", maxResults=100)
    assert page["maxResults"] == 12 and len(page["issues"]) == 12 and page["total"] == 30
    assert len(search(sim, jql="project = BIG")["issues"]) == 12  # default 50, capped


def test_search_defaults_to_navigable_fields_and_speaks_data_center(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=DC)
    (issue,) = search(sim, jql="key = APP-1")["issues"]
    fields = issue["fields"]
    assert "comment" not in fields and "summary" in fields and "issuelinks" in fields
    assert fields["assignee"]["name"] == "u-ann" and "accountId" not in fields["assignee"]
    assert fields["customfield_10106"] == 3  # Story Points
    assert issue["self"] == f"{sim.url}/rest/api/2/issue/{issue['id']}"
    names = {
        field["id"]: field["name"]
        for field in pat_session().get(f"{sim.url}/rest/api/2/field").json()
    }
    assert names["customfield_10106"] == "Story Points" and names["customfield_10000"] == "Flagged"
    (flagged,) = search(sim, jql="key = APP-5", fields="customfield_10000")["issues"]
    assert flagged["fields"]["customfield_10000"][0]["value"] == "Impediment"


def test_expand_changelog_gives_the_whole_history(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=DC)
    history = sim.history("APP-1")
    assert len(history) == 46
    (issue,) = search(sim, jql="key = APP-1", expand="changelog", fields="summary")["issues"]
    changelog = issue["changelog"]
    assert (changelog["startAt"], changelog["maxResults"], changelog["total"]) == (0, 46, 46)
    assert [h["id"] for h in changelog["histories"]] == [h.id for h in history]
    # People in changelog items are user keys; items carry no fieldId.
    (app2,) = search(sim, jql="key = APP-2", expand="changelog")["issues"]
    status, assignee = app2["changelog"]["histories"][0]["items"]
    assert "fieldId" not in status and status["toString"] == "In Progress"
    ann_bob = pat_session().get(f"{sim.url}/rest/api/2/user", params={"username": "u-bob"})
    assert assignee["to"] == ann_bob.json()["key"] and assignee["toString"] == "Bob Stone"
    full = pat_session().get(f"{sim.url}/rest/api/2/issue/APP-1", params={"expand": "changelog"})
    assert full.json()["changelog"]["total"] == 46
    assert len(full.json()["changelog"]["histories"]) == 46


def test_post_search_takes_the_request_bean(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=DC)
    url = f"{sim.url}/rest/api/2/search"
    body = {
        "jql": "project = OPS ORDER BY key",
        "startAt": 1,
        "maxResults": 5,
        "fields": ["summary"],
        "expand": ["changelog"],
        "validateQuery": True,
    }
    page = pat_session().post(url, json=body).json()
    assert [i["key"] for i in page["issues"]] == ["OPS-8", "OPS-9"] and page["total"] == 3
    assert set(page["issues"][0]["fields"]) == {"summary"} and "changelog" in page["issues"][0]
    rejected = pat_session().post(url, json={"jql": "project = OPS", "properties": "x"})
    assert rejected.status_code == 400 and "properties" in rejected.json()["errorMessages"][0]


def test_search_errors_and_an_empty_query(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=DC)
    bad = pat_session().get(f"{sim.url}/rest/api/2/search", params={"jql": "status = Nope"})
    assert bad.status_code == 400
    assert bad.json()["errorMessages"] == [
        "The value 'Nope' does not exist for the field 'status'."
    ]
    assert search(sim, jql="")["total"] == 10  # Data Center answers an unbounded query


def test_a_search_window_stops_deep_paging(jira_sim: SimulatorFactory) -> None:
    sim = jira_sim(many_issues(30), deployment=DC, search_window=20)
    assert len(search(sim, jql="project = BIG", startAt=10, maxResults=10)["issues"]) == 10
    deep = pat_session().get(
        f"{sim.url}/rest/api/2/search", params={"jql": "project = BIG", "startAt": 15}
    )
    assert deep.status_code == 400 and "Result window is too large" in deep.text


def test_pages_are_live_writes_between_pages_shift_them(jira_sim: SimulatorFactory) -> None:
    sim = jira_sim(many_issues(6), deployment=DC)
    jql = "project = BIG AND labels is EMPTY ORDER BY key"
    first = search(sim, jql=jql, maxResults=3)
    assert [i["key"] for i in first["issues"]] == ["BIG-1", "BIG-2", "BIG-3"]
    edit = pat_session().put(
        f"{sim.url}/rest/api/2/issue/BIG-1", json={"update": {"labels": [{"add": "x"}]}}
    )
    assert edit.status_code == 204
    second = search(sim, jql=jql, startAt=3, maxResults=3)
    assert [i["key"] for i in second["issues"]] == ["BIG-5", "BIG-6"]  # BIG-4 slid back
    assert second["total"] == 5


# -- writes ------------------------------------------------------------------------------------


def test_labels_and_wiki_comments_on_v2(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=DC)
    session = pat_session()
    issue_url = f"{sim.url}/rest/api/2/issue/APP-2"
    answer = session.put(
        issue_url,
        json={"update": {"labels": [{"remove": "chase-stale"}, {"add": "chase-late"}]}},
        params={"notifyUsers": "false"},
    )
    assert answer.status_code == 204
    assert sim.labels("APP-2") == ["needs-design", "chase-late"]
    assert sim.history("APP-2")[-1].by == "u-bot"

    created = session.post(f"{issue_url}/comment", json={"body": "h3. Chase\n*stalled* 5d"})
    assert created.status_code == 201
    comment = created.json()
    assert comment["body"] == "h3. Chase\n*stalled* 5d" and comment["author"]["name"] == "u-bot"
    adf = {"type": "doc", "version": 1, "content": []}
    assert session.post(f"{issue_url}/comment", json={"body": adf}).status_code == 400
    comment_url = f"{issue_url}/comment/{comment['id']}"
    edited = session.put(comment_url, json={"body": "*stalled* 6d"})
    assert edited.status_code == 200 and edited.json()["body"] == "*stalled* 6d"
    page = session.get(f"{issue_url}/comment").json()
    assert [c["body"] for c in page["comments"]] == ["*stalled* 6d"]
    prop = f"{sim.url}/rest/api/2/comment/{comment['id']}/properties/chase"
    assert session.put(prop, json={"v": 1}).status_code == 201
    assert session.get(prop).json() == {"key": "chase", "value": {"v": 1}}
    assert session.delete(comment_url).status_code == 204
    assert sim.comments("APP-2") == []


def test_the_jira_library_on_data_center(jira_sim: SimulatorFactory) -> None:
    sim = jira_sim(many_issues(30), deployment=DC, max_results_cap=20)
    client = dc_client(sim)
    assert client.deploymentType == "Server" and not client._is_cloud
    # Jira reads validateQuery as the docs write it; the library's default sends "True".
    lower: Any = "true"
    first = client.search_issues(
        "project = BIG ORDER BY key",
        startAt=0,
        maxResults=50,
        json_result=True,
        validate_query=lower,
    )
    assert isinstance(first, dict)
    assert (first["maxResults"], first["total"], len(first["issues"])) == (20, 30, 20)
    rest = client.search_issues(
        "project = BIG ORDER BY key",
        startAt=20,
        maxResults=50,
        json_result=True,
        validate_query=lower,
    )
    assert isinstance(rest, dict)
    keys = [i["key"] for i in first["issues"] + rest["issues"]]
    assert keys == [f"BIG-{n}" for n in range(1, 31)]
    everything = client.search_issues(
        "project = BIG ORDER BY key", maxResults=False, validate_query=lower
    )
    assert len(everything) == 30  # the library pages by the maxResults the server used
    comment = client.add_comment("BIG-3", "wiki *text*")
    assert comment.body == "wiki *text*" and comment.author.name == "u-bot"
    assert sim.comments("BIG-3")[0]["body"] == "wiki *text*"
    issue = client.issue("BIG-3", expand="changelog")
    issue.update(update={"labels": [{"add": "chase-late"}]}, notify=False)
    assert sim.labels("BIG-3") == ["chase-late"]
    assert client.issue("BIG-3", expand="changelog").changelog.total == 2


def test_read_only_projects_refuse_writes(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    demo_like_dataset["projects"][1]["readonly"] = True  # OPS
    sim = jira_sim(demo_like_dataset, deployment=DC)
    session = pat_session()
    url = f"{sim.url}/rest/api/2/issue/OPS-7"
    refused = session.put(url, json={"update": {"labels": [{"add": "x"}]}})
    assert refused.status_code == 403
    assert refused.json()["errorMessages"] == [
        "You do not have permission to edit issues in this project."
    ]
    assert session.post(f"{url}/comment", json={"body": "x"}).status_code == 403
    assert session.put(f"{url}/properties/chase", json={"v": 1}).status_code == 403
    assert session.get(url).status_code == 200  # still readable
    assert sim.labels("OPS-7") == ["infra"] and sim.comments("OPS-7") == []


@pytest.mark.parametrize("deployment", ["cloud", DC])
def test_issue_properties(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, deployment: str
) -> None:
    sim = jira_sim(demo_like_dataset, deployment=deployment)
    session = pat_session() if deployment == DC else requests.Session()
    session.auth = None if deployment == DC else ("bot@example.com", "token")
    version = "2" if deployment == DC else "3"
    url = f"{sim.url}/rest/api/{version}/issue/APP-3/properties"
    assert session.get(url).json() == {"keys": []}
    assert session.get(f"{url}/chase").status_code == 404
    assert session.put(f"{url}/chase", json={"run": 1}).status_code == 201
    assert session.put(f"{url}/chase", json={"run": 2}).status_code == 200
    assert session.get(f"{url}/chase").json() == {"key": "chase", "value": {"run": 2}}
    assert session.get(url).json() == {"keys": [{"key": "chase", "self": f"{url}/chase"}]}
    assert sim.issue_properties("APP-3") == {"chase": {"run": 2}}
    too_big = session.put(f"{url}/big", json={"x": "y" * 40000})
    assert too_big.status_code == 400
    search_path = "search" if deployment == DC else "search/jql"
    found = session.get(
        f"{sim.url}/rest/api/{version}/{search_path}",
        params={"jql": "key = APP-3", "properties": "chase", "fields": "summary"},
    ).json()
    assert found["issues"][0]["properties"] == {"chase": {"run": 2}}
    assert session.delete(f"{url}/chase").status_code == 204
    assert session.delete(f"{url}/chase").status_code == 404


# -- the Data Center spec check itself ----------------------------------------------------------


def test_the_dc_spec_check_catches_cloud_isms(dc_spec: Any) -> None:
    from tests.openapi_check import Exchange, validate_exchanges

    def exchange(path: str, body: Any, status: int = 200) -> Exchange:
        return Exchange("GET", path, {}, None, status, {}, body)

    user = {
        "self": "http://x/u",
        "name": "ann",
        "key": "JIRAUSER1",
        "displayName": "A",
        "active": True,
    }
    validate_exchanges([exchange("/rest/api/2/myself", user)], spec=dc_spec)
    page = {"startAt": 0, "maxResults": 1, "total": 0, "issues": []}
    validate_exchanges([exchange("/rest/api/latest/search", page)], spec=dc_spec)
    history = {"id": "1", "created": "2026-10-01T09:00:00.000+0000", "items": []}

    def issue_with(changelog_item: dict[str, Any]) -> dict[str, Any]:
        changelog = {
            "startAt": 0,
            "maxResults": 1,
            "total": 1,
            "histories": [dict(history, items=[changelog_item])],
        }
        return {"id": "1", "key": "A-1", "self": "http://x", "changelog": changelog}

    values = {"from": "1", "fromString": "To Do", "to": None, "toString": None}
    validate_exchanges(
        [exchange("/rest/api/2/issue/A-1", issue_with({"field": "status", "fieldtype": "jira",
                                                       **values}))],
        spec=dc_spec,
    )  # fmt: skip
    broken = [
        exchange("/rest/api/2/myself", dict(user, accountId="abc")),
        exchange("/rest/api/2/search", {"issues": [], "isLast": True}),
        exchange(
            "/rest/api/2/issue/A-1",
            issue_with({"field": "status", "fieldtype": "jira", "fieldId": "status", **values}),
        ),
        exchange("/rest/api/2/issue/A-1", issue_with({"field": "status", "fieldtype": "jira"})),
        exchange("/rest/api/2/serverInfo", {"deploymentType": "Cloud"}),
        exchange("/rest/api/2/field", {"id": "summary"}),
        exchange("/rest/api/3/myself", user),
        exchange("/rest/api/2/myself", {"errorMessages": ["x"]}, 401),
    ]
    for case in broken:
        with pytest.raises(AssertionError):
            validate_exchanges([case], spec=dc_spec)


def test_the_cli_serves_data_center(tmp_path: Any) -> None:
    import json
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import build_demo_like_dataset

    dataset = tmp_path / "data.json"
    dataset.write_text(json.dumps(build_demo_like_dataset()))
    command = [sys.executable, "-u", "-m", "jira_chase", "simulator", "--dataset", str(dataset)]
    command += ["--port", "0", "--deployment", "datacenter", "--faults", "0.5", "--fault-seed", "3"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2]
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(" at ")[1].strip()
        statuses = []
        for _ in range(4):
            try:
                statuses.append(
                    pat_session().get(f"{url}/rest/api/2/serverInfo", timeout=5).status_code
                )
            except requests.RequestException:
                statuses.append(0)
        assert statuses.count(200) == 2  # half of the requests fail
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
