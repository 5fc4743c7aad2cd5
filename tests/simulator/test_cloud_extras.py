"""Jira Cloud: credentials, read-only projects, bulk edit and its task queue, properties."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from jira_chase.simulator import JiraSimulator
from tests.conftest import SimulatorFactory

BOT = ("bot@example.com", "bot-token")


def http(auth: tuple[str, str] = BOT) -> requests.Session:
    session = requests.Session()
    session.auth = auth
    return session


def labels_edit(keys: list[str], option: str, labels: list[str]) -> dict[str, Any]:
    return {
        "selectedIssueIdsOrKeys": keys,
        "selectedActions": ["labels"],
        "editedFieldsInput": {
            "labelsFields": [
                {
                    "fieldId": "labels",
                    "bulkEditMultiSelectFieldOption": option,
                    "labels": [{"name": name} for name in labels],
                }
            ]
        },
        "sendBulkNotification": False,
    }


def submit(sim: JiraSimulator, body: Any, auth: tuple[str, str] = BOT) -> requests.Response:
    return http(auth).post(f"{sim.url}/rest/api/3/bulk/issues/fields", json=body)


def poll(sim: JiraSimulator, task_id: str, auth: tuple[str, str] = BOT) -> dict[str, Any]:
    answer = http(auth).get(f"{sim.url}/rest/api/3/bulk/queue/{task_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- credentials -------------------------------------------------------------------------------


def test_credentials_are_checked_when_given(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset, credentials={"bot@example.com": "bot-token"})
    url = f"{sim.url}/rest/api/3/myself"
    assert requests.get(url, auth=BOT).json()["accountId"] == "u-bot"
    assert requests.get(url, auth=("BOT@example.com", "bot-token")).status_code == 200
    for auth in (("bot@example.com", "wrong"), ("ann@example.com", "bot-token")):
        answer = requests.get(url, auth=auth)
        assert answer.status_code == 401
        assert answer.json() == {
            "errorMessages": ["Client must be authenticated to access this resource."],
            "errors": {},
        }
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
    # Bulk operations document their 401 in their own shape.
    refused = requests.post(f"{sim.url}/rest/api/3/bulk/issues/fields", json={}, auth=("x", "y"))
    assert refused.status_code == 401
    assert refused.json() == {
        "errors": [{"message": "Client must be authenticated to access this resource."}]
    }


def test_without_credentials_any_token_of_a_known_user_works(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    basic = base64.b64encode(b"ann@example.com:whatever").decode()
    answer = requests.get(
        f"{sim.url}/rest/api/3/myself", headers={"Authorization": f"Basic {basic}"}
    )
    assert answer.json()["accountId"] == "u-ann"
    bearer = requests.get(f"{sim.url}/rest/api/3/myself", headers={"Authorization": "Bearer x"})
    assert bearer.status_code == 401  # Cloud takes API tokens by basic auth only


def test_cloud_read_only_projects_refuse_every_write(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    demo_like_dataset["projects"][1]["readonly"] = True  # OPS
    sim = jira_sim(demo_like_dataset)
    bot = http()
    base = f"{sim.url}/rest/api/3"
    adf = {"type": "doc", "version": 1, "content": []}
    bot_comment = sim.comments("OPS-9")[0]["id"]  # the bot's own comment
    for method, path, body in (
        ("PUT", "/issue/OPS-8", {"update": {"labels": [{"add": "x"}]}}),
        ("POST", "/issue/OPS-8/comment", {"body": adf}),
        ("PUT", f"/issue/OPS-9/comment/{bot_comment}", {"body": adf}),
        ("DELETE", f"/issue/OPS-9/comment/{bot_comment}", None),
        ("PUT", f"/comment/{bot_comment}/properties/chase", {"v": 1}),
        ("PUT", "/issue/OPS-8/properties/chase", {"v": 1}),
    ):
        answer = bot.request(method, f"{base}{path}", json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["errorMessages"]
    assert sim.labels("OPS-8") == ["infra"] and len(sim.comments("OPS-9")) == 1
    assert bot.put(f"{base}/issue/APP-3", json={"fields": {"labels": ["ok"]}}).status_code == 204


def test_the_dataset_loader_checks_the_permission_keys(demo_like_dataset: dict) -> None:
    from jira_chase.simulator import DatasetError, load_dataset

    demo_like_dataset["projects"][0]["readonly"] = "yes"
    with pytest.raises(DatasetError, match="project APP: readonly must be true or false"):
        load_dataset(demo_like_dataset)
    demo_like_dataset["projects"][0]["readonly"] = False
    demo_like_dataset["users"][0]["bulkChange"] = 0
    with pytest.raises(DatasetError, match="user u-ann: bulkChange must be true or false"):
        load_dataset(demo_like_dataset)
    demo_like_dataset["users"][0]["bulkChange"] = False
    loaded = load_dataset(demo_like_dataset)
    assert not loaded.users["u-ann"].bulk_change and loaded.users["u-bob"].bulk_change


# -- bulk edit ---------------------------------------------------------------------------------


def test_a_bulk_edit_runs_over_a_few_polls(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    demo_like_dataset["projects"][1]["readonly"] = True  # OPS
    sim = jira_sim(demo_like_dataset)
    keys = ["APP-1", "APP-2", "APP-3", "APP-4", "OPS-8", "NOPE-1", "APP-1"]
    answer = submit(sim, labels_edit(keys, "ADD", ["chase-late", "customer"]))
    assert answer.status_code == 201
    task_id = answer.json()["taskId"]
    assert sim.labels("APP-3") == []  # queued, not run yet
    first = poll(sim, task_id)
    assert (first["status"], first["progressPercent"]) == ("ENQUEUED", 0)
    assert first["submittedBy"]["accountId"] == "u-bot"
    second = poll(sim, task_id)
    assert second["status"] == "RUNNING" and 0 < second["progressPercent"] < 100
    assert sim.labels("APP-1") == ["customer", "chase-late"]  # the first half is done
    assert sim.labels("APP-4") == []
    done = poll(sim, task_id)
    assert done["status"] == "COMPLETE" and done["progressPercent"] == 100
    assert sorted(done["processedAccessibleIssues"]) == sorted(
        int(sim.issue(key).id) for key in ("APP-1", "APP-2", "APP-3", "APP-4")
    )
    assert done["failedAccessibleIssues"] == {
        sim.issue("OPS-8").id: ["You do not have permission to edit issues in this project."]
    }
    assert (done["invalidOrInaccessibleIssueCount"], done["totalIssueCount"]) == (1, 6)
    assert sim.labels("APP-2") == ["needs-design", "chase-stale", "chase-late", "customer"]
    assert sim.labels("OPS-8") == ["infra"]
    assert sim.history("APP-3")[-1].by == "u-bot"
    assert poll(sim, task_id)["status"] == "COMPLETE"  # stays complete


@pytest.mark.parametrize(
    ("option", "labels", "expected"),
    [
        ("REMOVE", ["chase-stale", "absent"], ["needs-design"]),
        ("REPLACE", ["only"], ["only"]),
        ("REMOVE_ALL", [], []),
    ],
)
def test_bulk_label_options(
    jira_sim: SimulatorFactory,
    demo_like_dataset: dict,
    option: str,
    labels: list[str],
    expected: list[str],
) -> None:
    sim = jira_sim(demo_like_dataset)
    task_id = submit(sim, labels_edit(["APP-2"], option, labels)).json()["taskId"]
    sim.complete_bulk_tasks()
    assert sim.labels("APP-2") == expected
    assert poll(sim, task_id)["status"] == "COMPLETE"


@pytest.mark.parametrize(
    "body",
    [
        labels_edit([], "ADD", ["x"]),
        labels_edit([f"APP-{n}" for n in range(1001)], "ADD", ["x"]),
        labels_edit(["APP-1"], "ADD", ["two words"]),
        labels_edit(["APP-1"], "SET", ["x"]),
        labels_edit(["APP-1"], "ADD", []),
        {**labels_edit(["APP-1"], "ADD", ["x"]), "selectedActions": ["priority"]},
        {**labels_edit(["APP-1"], "ADD", ["x"]), "colour": "red"},
    ],
    ids=["no issues", "1001 issues", "space", "bad option", "no labels", "priority", "unknown"],
)
def test_bad_bulk_edits_are_400_in_the_bulk_error_shape(
    jira_sim: SimulatorFactory, demo_like_dataset: dict, body: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    answer = submit(sim, body)
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["message"]


def test_bulk_edit_needs_the_bulk_change_permission(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    demo_like_dataset["users"][3]["bulkChange"] = False  # the bot
    sim = jira_sim(demo_like_dataset)
    refused = submit(sim, labels_edit(["APP-1"], "ADD", ["x"]))
    assert refused.status_code == 403 and refused.json()["errorMessages"]
    ann = ("ann@example.com", "t")
    task_id = submit(sim, labels_edit(["APP-1"], "ADD", ["x"]), ann).json()["taskId"]
    assert http().get(f"{sim.url}/rest/api/3/bulk/queue/{task_id}").status_code == 403
    assert poll(sim, task_id, ann)["status"] == "ENQUEUED"
    assert http(ann).get(f"{sim.url}/rest/api/3/bulk/queue/999").status_code == 404


def test_approximate_count_and_property_keys_of_comments(
    jira_sim: SimulatorFactory, demo_like_dataset: dict
) -> None:
    sim = jira_sim(demo_like_dataset)
    bot = http()
    count = bot.post(
        f"{sim.url}/rest/api/3/search/approximate-count", json={"jql": "project = OPS"}
    )
    assert count.json() == {"count": 3}
    unbounded = bot.post(f"{sim.url}/rest/api/3/search/approximate-count", json={"jql": ""})
    assert unbounded.status_code == 400
    comment_id = sim.comments("OPS-9")[0]["id"]
    url = f"{sim.url}/rest/api/3/comment/{comment_id}/properties"
    assert bot.get(url).json() == {"keys": []}
    assert bot.put(f"{url}/chase", json={"v": 1}).status_code == 201
    assert bot.get(url).json() == {"keys": [{"key": "chase", "self": f"{url}/chase"}]}
    assert bot.delete(f"{url}/chase").status_code == 204
