"""Generated scale data: valid, realistic, deterministic, streamed; served fast."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import requests

from jira_chase.simulator import load_dataset
from jira_chase.simulator.generate import generate_dataset, write_dataset
from jira_chase.simulator.jql import parse
from tests.conftest import SimulatorFactory


def test_generated_data_loads_and_looks_like_a_real_site() -> None:
    doc = generate_dataset(1500, seed=7)
    dataset = load_dataset(doc)  # every rule of DATASET.md holds
    assert len(dataset.issues) == 1500 and dataset.bot == "u-bot"
    assert len(dataset.projects) >= 3 and len(dataset.users) >= 9
    statuses = Counter(issue["status"] for issue in doc["issues"])
    assert len(statuses) == 7 and statuses["Done"] + statuses["Closed"] > 300
    for issue in doc["issues"]:
        changes = [entry for entry in issue["history"] if entry["field"] == "status"]
        assert 5 <= len(changes) <= 30
        assert all(entry["at"] < doc["now"] for entry in issue["history"])
    assert any(entry["field"] == "assignee" for i in doc["issues"] for entry in i["history"])
    cross = [
        link
        for issue in doc["issues"]
        for link in issue.get("links", [])
        if link["type"] == "Blocks" and link["key"].split("-")[0] != issue["project"]
    ]
    assert len(cross) > 50
    assert sum(bool(issue.get("comments")) for issue in doc["issues"]) > 500
    assert sum("parent" in issue for issue in doc["issues"]) > 100


def test_the_same_seed_gives_the_same_bytes_and_streaming_matches() -> None:
    first = generate_dataset(300, seed=3)
    assert first == generate_dataset(300, seed=3)
    assert first != generate_dataset(300, seed=4)
    out = io.StringIO()
    write_dataset(out, 300, seed=3)
    assert json.loads(out.getvalue()) == first


def test_the_cli_writes_a_dataset(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    with target.open("w") as handle:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "jira_chase",
                "simulator",
                "--generate",
                "50",
                "--seed",
                "9",
            ],
            stdout=handle,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
    assert json.loads(target.read_text()) == generate_dataset(50, seed=9)


def test_searches_use_the_project_index_and_agree_with_a_full_scan() -> None:
    dataset = load_dataset(generate_dataset(2000, seed=1))
    now = dataset.now
    assert now is not None
    for jql in (
        "project = APP ORDER BY key",
        "project in (APP, OPS) AND status != Done",
        "(project = APP AND labels = customer) OR (project = WEB AND status = Blocked)",
        "project = APP OR status = Blocked",
        "NOT project = APP",
    ):
        prepared = parse(jql).prepare(dataset, now=now, current_user="u-bot")
        full = prepared.select(dataset.issues.values())
        assert prepared.run(dataset) == full, jql
    scoped = parse("project in (APP, OPS) AND status != Done").prepare(
        dataset, now=now, current_user=None
    )
    assert scoped.projects == frozenset({"APP", "OPS"})
    unscoped = parse("project = APP OR status = Blocked").prepare(
        dataset, now=now, current_user=None
    )
    assert unscoped.projects is None


def test_both_flavours_serve_a_generated_site(jira_sim: SimulatorFactory) -> None:
    doc = generate_dataset(200, seed=2)
    expected = sum(issue["project"] == "APP" for issue in doc["issues"])
    cloud = jira_sim(doc)
    body = requests.post(
        f"{cloud.url}/rest/api/3/search/jql",
        json={
            "jql": "project = APP",
            "maxResults": 60,
            "fields": ["*navigable"],
        },
        auth=("bot@example.com", "t"),
    ).json()
    assert len(body["issues"]) == 60 and not body["isLast"]
    dc = jira_sim(generate_dataset(200, seed=2), deployment="datacenter")
    page = requests.get(
        f"{dc.url}/rest/api/2/search",
        params={"jql": "project = APP", "maxResults": 1000, "fields": "status"},
        headers={"Authorization": "Bearer pat"},
    ).json()
    assert page["total"] == expected == len(page["issues"])
