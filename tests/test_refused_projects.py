"""A project where the bot may read but not write is not asked again on every run: the
sync that was refused every write there remembers it, the syncs of the next day hold
that project's writes back (counted, said once), a day later they are tried again, and
one write that goes through forgets it. Real simulator (the project is read-only to
the bot, as a permission scheme makes it), real sockets, real state file."""

import json

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import FORBIDDEN, FaultPlan
from tests.factories import demo_config, write_toml

FIRST = "2026-11-20T16:00:00Z"
SAME_DAY = ("2026-11-20T17:00:00Z", "2026-11-20T18:00:00Z")
NEXT_DAY = "2026-11-21T16:30:00Z"
SCOPE = "project in (APP, OPS) ORDER BY key"


def invoke(config, command, now, *extra):
    args = [command, "--config", str(config), "--now", now, *extra]
    return CliRunner().invoke(main, args)


def sync(config, now, *extra, code=0):
    result = invoke(config, "sync", now, "--json", *extra)
    assert result.exit_code == code, result.output + result.stderr
    return json.loads(result.stdout)


def last_run(config):
    result = CliRunner().invoke(main, ["runs", "--config", str(config), "--json", "--last", "1"])
    return json.loads(result.stdout)["runs"][0]


def app_writes(sim):
    """The requests that wrote to APP's issues (or bulk-edited anything)."""
    return [
        (method, path)
        for method, path in sim.requests
        if method in ("PUT", "POST", "DELETE") and ("/issue/APP-" in path or "/bulk/" in path)
    ]


def metric(path, name, **labels):
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    (line,) = [ln for ln in path.read_text().splitlines() if ln.startswith(name + "{") and
               wanted in ln]  # fmt: skip
    return int(float(line.rsplit(" ", 1)[1]))


def start(jira_sim, deployment, **options):
    dataset = build_demo_dataset()
    for project in dataset["projects"]:
        project["readonly"] = project["key"] == "APP"  # the bot may only read APP
    overrides: dict = {"jira": {"scope": SCOPE}}
    if deployment == "datacenter":
        sim = jira_sim(dataset, deployment="datacenter", tokens={"pat-bot": "u-bot"}, **options)
        overrides["jira"].update({"deployment": "datacenter", "email": "", "token": "pat-bot"})
    else:
        sim = jira_sim(dataset, **options)
    return sim, overrides


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_a_project_that_refused_every_write_is_left_alone_for_a_day(tmp_path, jira_sim, deployment):
    sim, overrides = start(jira_sim, deployment)
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite", **overrides))
    metrics = tmp_path / "metrics.prom"

    first = sync(config, FIRST, code=4)
    app = [op for op in first["operations"] if op["issue"].startswith("APP-")]
    assert app and {f["issue"] for f in first["failed"]} == {op["issue"] for op in app}
    assert all(f["error"].startswith(f"{f['issue']}: HTTP 403 on ") for f in first["failed"])
    assert any(op["issue"].startswith("OPS-") for op in first["applied"])
    (refused,) = first["refused_projects"]
    assert refused["project"] == "APP" and refused["this_run"] is True
    assert (refused["status"], refused["refused_writes"]) == (403, len(app))
    assert first["summary"]["held_back"] == 0

    # The same day: APP's writes are not sent, and are counted as held back, not failed.
    for now in SAME_DAY:
        sim.reset_counts()
        doc = sync(config, now, "--metrics-file", str(metrics))
        assert app_writes(sim) == [], sim.requests
        summary = doc["summary"]
        assert (summary["failed"], summary["applied"], summary["outcome"]) == (0, 0, "ok")
        assert summary["held_back"] == len(app)
        assert [(op["issue"], op["kind"]) for op in doc["held_back"]] == [
            (op["issue"], op["kind"]) for op in app
        ]
        (held,) = doc["refused_projects"]
        assert held["held_back"] == len(app) and held["this_run"] is False
        assert held["retry_after"].startswith("2026-11-21T16:00:00")
        counts = last_run(config)["counts"]
        assert (counts["held_back"], counts["failed"], counts["applied"]) == (len(app), 0, 0)
        assert metric(metrics, "jira_chase_run_writes", result="held_back") == len(app)
        assert metric(metrics, "jira_chase_run_writes", result="failed") == 0

    # Said once, not once per issue; the dry run shows the same.
    for command in ("sync", "plan"):
        text = invoke(config, command, SAME_DAY[1])
        assert text.exit_code == 0, text.output
        said = [ln for ln in text.output.splitlines() if "APP" in ln and "held" in ln.lower()]
        assert said == [
            "Held back: project APP refused every write at 2026-11-20 16:00 UTC; retrying after "
            f"2026-11-21 16:00 UTC ({len(app)} writes not made; `sync --retry-refused` tries now)."
        ]
        assert "HTTP 403" not in text.output

    # A day later they are tried again: refused again, held back for another day.
    sim.reset_counts()
    again = sync(config, NEXT_DAY, code=4)
    assert app_writes(sim) and len(again["failed"]) == len(app)
    assert again["refused_projects"][0]["refused_at"].startswith("2026-11-21T16:30:00")

    # The bot is given the permission: --retry-refused writes now, which clears it.
    sim.set_readonly("APP", False)
    assert sync(config, "2026-11-21T17:00:00Z")["summary"]["held_back"] == len(app)
    done = sync(config, "2026-11-21T17:30:00Z", "--retry-refused")
    assert len(done["applied"]) == len(app) and done["failed"] == []
    assert done["refused_projects"] == []
    quiet = sync(config, "2026-11-21T18:00:00Z")
    assert quiet["summary"]["held_back"] == 0 and quiet["refused_projects"] == []


def test_a_project_where_one_write_went_through_is_not_held_back(tmp_path, jira_sim):
    # One issue refuses its write (an issue-level refusal); the rest of APP is writable.
    faults = FaultPlan(rate=1.0, kinds=[FORBIDDEN], endpoints=["PUT */issue/APP-107"])
    dataset = build_demo_dataset()
    for user in dataset["users"]:
        user["bulkChange"] = user["id"] != dataset["bot"]  # every label edit on its own
    sim = jira_sim(dataset, faults=faults)
    data = demo_config(sim.url, "s.sqlite", writeback={"comments": False})
    config = write_toml(tmp_path / "c.toml", data)
    first = sync(config, FIRST, code=4)
    assert [f["issue"] for f in first["failed"]] == ["APP-107"] and first["applied"]
    assert first["refused_projects"] == []
    sim.reset_counts()
    second = sync(config, SAME_DAY[0], code=4)
    assert second["summary"]["held_back"] == 0
    assert [f["issue"] for f in second["failed"]] == ["APP-107"]
    assert [p for m, p in sim.requests if m == "PUT"] == ["/rest/api/3/issue/APP-107"]
