"""The incremental pull: a quiet tracker is read cheaply, and every change is still seen.

Real simulator (Cloud and Data Center), real sockets, real SQLite; the simulator counts
what the runs asked for.
"""

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.sources.jira.reading import FETCH_FACTS
from jira_chase.store.state import StateStore
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
LATER = "2026-11-20T16:30:00Z"


def sync(config, now=NOW):
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--now", now, "--json", "--details"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def plan(config, now=LATER):
    result = CliRunner().invoke(
        main, ["plan", "--config", str(config), "--now", now, "--json", "--details"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def make(tmp_path, jira_sim, deployment, scope="project = APP ORDER BY key"):
    sim = jira_sim(build_demo_dataset(), deployment=deployment)

    def config(scope=scope):
        data = demo_config(sim.url, "s.sqlite", jira={"scope": scope})
        if deployment == "datacenter":
            data["jira"].update({"deployment": "datacenter", "email": ""})
        return write_toml(tmp_path / "c.toml", data)

    return sim, config


def scope_pages(sim):
    """Searches that read issues in full (with their changelog), by request path."""
    return [p for m, p in sim.requests if p.split("?")[0].endswith(("/search/jql", "/search"))]


def flagged(doc):
    return {issue["key"]: issue["health"] for issue in doc["issues"]}


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_an_unchanged_world_is_not_read_again(tmp_path, jira_sim, deployment):
    sim, config = make(tmp_path, jira_sim, deployment)
    first = sync(config())
    sync(config())  # reads what the first run wrote
    sim.reset_counts()
    again = plan(config())
    assert again["operations"] == []
    assert flagged(again) == flagged(first)
    # The listing of changed issues and one search for blockers outside the scope (on
    # Data Center the scope's count is a search too); no page of the whole scope.
    assert len(scope_pages(sim)) <= (2 if deployment == "cloud" else 3), sim.requests
    assert len(sim.requests) <= 8, sim.requests
    assert not [p for m, p in sim.requests if "/comment" in p]


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_a_changed_issue_is_judged_again(tmp_path, jira_sim, deployment):
    sim, config = make(tmp_path, jira_sim, deployment)
    sync(config())
    sync(config())
    # APP-122 reached Done without review: it goes back to review.
    sim.move("APP-122", "Code Review", "u-emeka")
    doc = sync(config(), LATER)
    assert {op["issue"] for op in doc["applied"]} == {"APP-122"}
    (issue,) = [i for i in doc["issues"] if i["key"] == "APP-122"]
    assert "redline" not in {f["family"] for f in issue["findings"]}


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_deleted_issues_and_issues_that_left_the_scope_are_noticed(tmp_path, jira_sim,
                                                                   deployment):  # fmt: skip
    sim, config = make(tmp_path, jira_sim, deployment, "project = APP AND status != Done")
    first = sync(config())
    assert "APP-108" in flagged(first)
    sim.delete_issue("APP-139")
    sim.move("APP-108", "Done", "u-emeka")  # out of the scope now
    doc = sync(config(), LATER)
    assert "APP-108" not in flagged(doc)
    assert doc["summary"]["issues"] == first["summary"]["issues"] - 2
    assert not [label for label in sim.labels("APP-108") if label.startswith("chase-")]


def test_a_changed_scope_is_read_in_full(tmp_path, jira_sim):
    sim, config = make(tmp_path, jira_sim, "cloud")
    sync(config())
    with StateStore(tmp_path / "s.sqlite") as store:
        assert len(store.issue_snapshots("jira")) == sync(config())["summary"]["issues"]
    narrower = "project = APP AND type != Bug ORDER BY key"
    sim.reset_counts()
    doc = plan(config(narrower))
    # The whole new scope is read with its history, page after page (100 a page).
    full = scope_pages(sim)
    assert len(full) >= 3 and doc["summary"]["issues"] < 150
    with StateStore(tmp_path / "s.sqlite") as store:  # a dry run changed nothing
        assert len(store.issue_snapshots("jira")) == 156


def test_a_blocker_outside_the_scope_is_seen_to_finish(tmp_path, jira_sim):
    sim, config = make(tmp_path, jira_sim, "cloud")
    first = sync(config())
    families = {i["key"]: {f["family"] for f in i["findings"]} for i in first["issues"]}
    assert "cooperation" in families["APP-145"]
    sim.move("OPS-24", "Done", "u-emeka")  # APP-145's blocker, in another project
    doc = sync(config(), LATER)
    (issue,) = [i for i in doc["issues"] if i["key"] == "APP-145"]
    assert "cooperation" not in {f["family"] for f in issue["findings"]}


def report(config, tmp_path, now=LATER):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["report", "--config", str(config), "--now", now, "--out", str(out),
               "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr


def runs(config):
    result = CliRunner().invoke(main, ["runs", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)["runs"]


def small_pages(config):
    """The configuration with 50 issues a page: reading the whole scope (156 issues)
    takes at least four pages."""
    config.write_text(config.read_text().replace("[jira]", "[jira]\npage_size = 50", 1))
    return config


def full_read_ago(tmp_path, hours):
    """Move the last full read of the scope `hours` back, as hours passing would."""
    with StateStore(tmp_path / "s.sqlite") as store:
        then = datetime.now(timezone.utc) - timedelta(hours=hours)
        store.remember(FETCH_FACTS, "full", then.isoformat())


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_a_report_reads_only_what_changed(tmp_path, jira_sim, deployment):
    sim, config = make(tmp_path, jira_sim, deployment)
    paged = small_pages(config())
    incremental = 2 if deployment == "cloud" else 3  # as an idle sync (see above)
    sync(paged)
    sync(paged)
    sim.reset_counts()
    report(paged, tmp_path)
    assert len(scope_pages(sim)) <= incremental, sim.requests
    assert runs(paged)[0]["requests"] <= 10
    # A report that kept the snapshots keeps when it read them: the next report, and
    # the sync after it, read only what changed.
    report(paged, tmp_path)
    sim.reset_counts()
    report(paged, tmp_path)
    assert len(scope_pages(sim)) <= incremental, sim.requests
    # When the daily full read is due, the report makes it, and it counts: the next
    # report and sync do not read the whole scope again.
    full_read_ago(tmp_path, 25)
    sim.reset_counts()
    report(paged, tmp_path)
    assert len(scope_pages(sim)) >= 4, sim.requests
    sim.reset_counts()
    report(paged, tmp_path)
    assert len(scope_pages(sim)) <= incremental, sim.requests
    sim.reset_counts()
    assert sync(paged)["summary"]["planned"] == 0
    assert len(scope_pages(sim)) <= incremental, sim.requests
    assert runs(paged)[0]["requests"] <= 10


def test_reports_alone_read_the_scope_once(tmp_path, jira_sim):
    """A state that only reports use (no sync yet) still spares the second report."""
    sim, config = make(tmp_path, jira_sim, "cloud")
    paged = small_pages(config())
    report(paged, tmp_path)
    assert len(scope_pages(sim)) >= 4, sim.requests
    sim.reset_counts()
    report(paged, tmp_path)
    assert len(scope_pages(sim)) <= 2, sim.requests
    assert runs(paged)[0]["requests"] <= 10
    # nor what it learnt of the site (kept a day, as a sync keeps it)
    asked = [path for _, path in sim.requests if path.endswith(("/status", "/field"))]
    assert asked == [], sim.requests
