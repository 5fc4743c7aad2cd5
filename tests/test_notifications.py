"""Who may write without notifying watchers: Jira lets only a project admin pass
`notifyUsers=false`; the sync suppresses notifications there and nowhere else."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import SERVER_ERROR, FaultPlan
from jira_chase.sources.jira.notifications import SILENT_WRITES
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
PAT = "pat-0123456789"
NO_SILENT = {
    "errorMessages": [
        "To discard the user notification either admin or project admin permissions are required."
    ],
    "errors": {},
}


def start(jira_sim, deployment, dataset=None, **options):
    """The demo data: the bot administers OPS but not APP."""
    dataset = dataset or build_demo_dataset()
    admins = {p["key"]: p["admins"] for p in dataset["projects"]}
    assert "u-bot" not in admins["APP"] and "u-bot" in admins["OPS"]
    if deployment == "datacenter":
        return jira_sim(dataset, deployment="datacenter", tokens={PAT: "u-bot"}, **options)
    return jira_sim(dataset, **options)


def config_for(tmp_path, sim, deployment, **jira):
    jira = {**jira, "retries": 0} if "retries" not in jira else jira
    if deployment == "datacenter":
        jira.update(deployment="datacenter", email="", token=PAT)
    data = demo_config(sim.url, "s.sqlite", jira=jira, cooperation={"label_blockers": True})
    return write_toml(tmp_path / "c.toml", data)


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def sync(config, *extra):
    result = invoke("sync", "--config", str(config), "--now", NOW, *extra)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def label_edits(sim, project):
    """(notifyUsers values, answer status) of every issue edit the simulator received in
    `project`."""
    return [
        (x.query.get("notifyUsers", []), x.status)
        for x in sim.exchanges
        if x.method == "PUT"
        and "/comment" not in x.path
        and x.path.rsplit("/", 1)[-1].startswith(project + "-")
    ]


def bulk_edits(sim):
    return [
        x for x in sim.exchanges if x.method == "POST" and x.path.endswith("/bulk/issues/fields")
    ]


@pytest.fixture(params=["cloud", "datacenter"])
def deployment(request):
    return request.param


def test_sync_exits_0_and_every_label_lands_where_the_bot_is_no_admin(
    tmp_path, jira_sim, deployment
):
    sim = start(jira_sim, deployment)
    doc = json.loads(sync(config_for(tmp_path, sim, deployment), "--json").stdout)
    labels = [op for op in doc["applied"] if op["kind"] == "labels"]
    assert {op["issue"].split("-")[0] for op in labels} == {"APP", "OPS"}
    assert doc["failed"] == []
    for op in labels:
        current = sim.labels(op["issue"])
        assert set(op["add"]) <= set(current) and not set(op["remove"]) & set(current)
    # Jira said so up front: no write was refused, none had to be repeated.
    assert not [x for x in sim.exchanges if x.status == 403]
    app = [op for op in labels if op["issue"].startswith("APP-")]
    assert doc["summary"]["noisy_writes"] == len(app)
    assert doc["summary"]["noisy_by_project"] == {"APP": len(app)}


def test_no_notify_users_false_where_the_bot_may_not_send_it(tmp_path, jira_sim, deployment):
    sim = start(jira_sim, deployment)
    sync(config_for(tmp_path, sim, deployment))
    app = label_edits(sim, "APP")
    if deployment == "datacenter":
        assert app  # Data Center has no bulk edit: every change is an issue edit
    assert all(notify == [] for notify, _ in app)
    # Cloud sends the many alike changes as bulk edits, which do notify there.
    for bulk in bulk_edits(sim):
        keys = bulk.request_json["selectedIssueIdsOrKeys"]
        assert all(key.startswith("APP-") for key in keys)
        assert bulk.request_json["sendBulkNotification"] is True
    assert bool(bulk_edits(sim)) == (deployment == "cloud")


def test_notify_users_false_where_the_bot_administers_the_project(tmp_path, jira_sim, deployment):
    sim = start(jira_sim, deployment)
    sync(config_for(tmp_path, sim, deployment))
    assert label_edits(sim, "OPS") == [(["false"], 204)]  # OPS-24 gets the blocking label


def test_the_simulator_refuses_notify_users_false_from_a_non_admin(jira_sim, deployment):
    import requests

    sim = start(jira_sim, deployment)
    http = requests.Session()
    if deployment == "datacenter":
        http.headers["Authorization"] = f"Bearer {PAT}"
        version = "2"
    else:
        http.auth = ("chase-bot@example.com", "t")
        version = "3"
    before = sim.labels("APP-1")
    url = f"{sim.url}/rest/api/{version}/issue/APP-1"
    body = {"update": {"labels": [{"add": "quiet"}]}}
    refused = http.put(url, params={"notifyUsers": "false"}, json=body)
    assert (refused.status_code, refused.json()) == (403, NO_SILENT)
    assert sim.labels("APP-1") == before
    assert http.put(url, json=body).status_code == 204
    assert sim.labels("APP-1") == [*before, "quiet"]
    silent = http.put(
        f"{sim.url}/rest/api/{version}/issue/OPS-24", params={"notifyUsers": "false"}, json=body
    )
    assert silent.status_code == 204
    asked = http.get(
        f"{sim.url}/rest/api/{version}/mypermissions",
        params={"projectKey": "APP", "permissions": "ADMINISTER_PROJECTS"},
    ).json()
    assert asked["permissions"]["ADMINISTER_PROJECTS"]["havePermission"] is False
    asked = http.get(
        f"{sim.url}/rest/api/{version}/mypermissions",
        params={"projectKey": "OPS", "permissions": "ADMINISTER_PROJECTS"},
    ).json()
    assert asked["permissions"]["ADMINISTER_PROJECTS"]["havePermission"] is True
    missing = http.get(
        f"{sim.url}/rest/api/{version}/mypermissions",
        params={"projectKey": "NOPE", "permissions": "ADMINISTER_PROJECTS"},
    )
    assert missing.status_code == 404


def test_cloud_mypermissions_needs_known_permission_keys(jira_sim):
    import requests

    sim = start(jira_sim, "cloud")
    url = f"{sim.url}/rest/api/3/mypermissions"
    auth = ("chase-bot@example.com", "t")
    assert requests.get(url, auth=auth).status_code == 400
    assert requests.get(url, auth=auth, params={"permissions": "FLY"}).status_code == 400
    issue = requests.get(
        url, auth=auth, params={"issueKey": "OPS-24", "permissions": "ADMINISTER_PROJECTS"}
    ).json()
    assert issue["permissions"]["ADMINISTER_PROJECTS"]["havePermission"] is True
    unknown = requests.get(
        url, auth=auth, params={"issueKey": "OPS-999", "permissions": "ADMINISTER_PROJECTS"}
    )
    assert unknown.status_code == 404


def test_the_summary_and_check_say_where_changes_email_watchers(tmp_path, jira_sim, deployment):
    sim = start(jira_sim, deployment)
    config = config_for(tmp_path, sim, deployment)
    text = sync(config).stdout
    assert "label writes could not be silent and notified watchers (APP " in text
    assert "grant the bot account Administer Projects in APP to make them silent" in text
    checked = invoke("check", "--config", str(config))
    assert checked.exit_code == 0, checked.output
    lines = checked.stdout.splitlines()
    assert "writes in OPS: silent (the bot may suppress notifications)" in lines
    (app,) = [line for line in lines if line.startswith("writes in APP:")]
    assert "email the issue's watchers" in app and "Administer Projects in APP" in app
    as_json = invoke("check", "--config", str(config), "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["label_writes"] == {"APP": "notifies", "OPS": "silent"}


def test_without_mypermissions_the_first_refusal_is_learnt_and_remembered(
    tmp_path, jira_sim, deployment
):
    """When Jira cannot say (mypermissions fails), the source tries, takes the 403, writes
    the same change again without the parameter, and never tries again in that project,
    in this run or the next."""
    faults = FaultPlan(rate=1.0, kinds=[SERVER_ERROR], endpoints=["GET */mypermissions"])
    sim = start(jira_sim, deployment, faults=faults)
    config = config_for(tmp_path, sim, deployment)
    doc = json.loads(sync(config, "--json").stdout)
    assert doc["failed"] == []
    for op in doc["applied"]:
        assert set(op["add"]) <= set(sim.labels(op["issue"]))
    app = label_edits(sim, "APP")
    assert [status for notify, status in app if notify == ["false"]] == [403]
    assert app[0] == (["false"], 403) and app[1] == ([], 204)
    assert all(notify == [] for notify, _ in app[1:])
    assert label_edits(sim, "OPS") == [(["false"], 204)]
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        facts = dict(db.execute("SELECT key, value FROM facts WHERE kind = ?", (SILENT_WRITES,)))
    assert facts == {"APP": "no"}
    # Next run: a label comes off APP-145 and OPS-24 (Tuesday), remembered: no 403.
    sim.exchanges.clear()
    result = invoke("sync", "--config", str(config), "--now", "2026-11-17T12:00:00Z", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    assert not [x for x in sim.exchanges if x.status == 403]
    assert all(notify == [] for notify, _ in label_edits(sim, "APP"))


def test_a_permission_granted_later_makes_the_next_run_silent(tmp_path, jira_sim):
    dataset = build_demo_dataset()
    sim = start(jira_sim, "datacenter", dataset)
    config = config_for(tmp_path, sim, "datacenter")
    sync(config)
    assert all(notify == [] for notify, _ in label_edits(sim, "APP"))
    # An admin grants the bot Administer Projects in APP.
    projects = sim.dataset.projects
    projects["APP"] = dataclasses.replace(projects["APP"], admins=frozenset({"u-bot"}))
    sim.exchanges.clear()
    result = invoke("sync", "--config", str(config), "--now", "2026-11-17T12:00:00Z", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    edits = label_edits(sim, "APP")
    assert edits and all(notify == ["false"] for notify, _ in edits)
    assert json.loads(result.stdout)["summary"]["noisy_writes"] == 0


def test_check_says_when_jira_does_not_tell(tmp_path, jira_sim):
    faults = FaultPlan(rate=1.0, kinds=[SERVER_ERROR], endpoints=["GET */mypermissions"])
    sim = start(jira_sim, "cloud", faults=faults)
    checked = invoke("check", "--config", str(config_for(tmp_path, sim, "cloud")))
    assert checked.exit_code == 0, checked.output
    (app,) = [line for line in checked.stdout.splitlines() if line.startswith("writes in APP:")]
    assert "Jira did not say whether the bot may suppress notifications" in app
