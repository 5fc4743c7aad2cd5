"""Quiet by design, measured on realistic data: the example configuration on generated
trackers labels what is wrong without burying the team — no comment storm on rollout, a
short list of labels per issue — and then comments on what is new, and only that."""

from __future__ import annotations

import json
import statistics
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import tomllib
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.config.file import load_settings
from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.plan import COMMENT_CREATE, LEGACY_LABELS, Seen, desired_labels, plan_writes
from jira_chase.simulator.generate import generate_dataset
from jira_chase.simulator.generated_issues import example_on_generated, generated_issues

EXAMPLE = (Path(__file__).resolve().parent.parent / "config.example.toml").read_text()
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)  # the generated data's now


def example_settings(url: str = "http://127.0.0.1:9", state: str = "s.sqlite") -> Any:
    return load_settings(data=tomllib.loads(example_on_generated(EXAMPLE, url, state)))


@pytest.mark.parametrize("seed", [11, 5, 23])
def test_the_first_sync_on_a_generated_tracker_is_a_quiet_baseline(seed):
    settings = example_settings()
    issues, _ = generated_issues(3000, seed)
    evaluation = evaluate(issues, settings, NOW, bot_id="u-bot")
    plan = plan_writes(evaluation, settings.writeback, seen=Seen(first=True))
    ops = plan.operations + plan.deferred
    assert not [op for op in ops if op.kind == COMMENT_CREATE]
    flagged = evaluation.unhealthy()
    assert flagged and len(plan.withheld) == len(flagged)
    prefix = settings.writeback.label_prefix
    carried = [desired_labels(v, prefix) for v in flagged]
    counts = [len(labels) for labels in carried]
    assert max(counts) <= 4 and statistics.median(counts) <= 2
    legacy = {prefix + name for name in LEGACY_LABELS}
    assert not any(legacy & set(labels) for labels in carried)
    # A pull into a full step is said only of issues in such a step that entered it
    # within the step's time limit (or 5 days).
    limits = {s.name: s.limit_days or 5 for s in settings.workflow.steps if s.wip_limit}
    recent = [
        v
        for v in evaluation.verdicts
        if v.timeline.current.step in limits
        and (entered := v.timeline.current_step_entry()) is not None
        and (NOW - entered) < timedelta(days=2 * limits[v.timeline.current.step] + 4)
    ]
    wip = [f for v in flagged for f in v.findings if f.family == "wip"]
    assert len(wip) <= len(recent)
    # Team-level problems stay with the team: a step over its limit is one finding.
    team = {f.rule for f in evaluation.team_findings}
    assert "wip-limit" in team
    assert not [f for v in flagged for f in v.findings if f.family in ("focus", "hygiene")]


def sync(config: Any, now: datetime) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config), "--now", now.isoformat(), "--json"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def identities(doc: dict[str, Any]) -> dict[str, set[str]]:
    return {
        issue["key"]: {f"{f['family']}/{f['rule']}" for f in issue["findings"]}
        for issue in doc["issues"]
    }


def test_after_the_baseline_only_what_is_new_gets_a_comment(tmp_path, jira_sim):
    moved_at = NOW + timedelta(minutes=1)
    sim = jira_sim(generate_dataset(600, seed=11), clock=lambda: moved_at)
    state = str(tmp_path / "s.sqlite")
    config = tmp_path / "c.toml"
    config.write_text(example_on_generated(EXAMPLE, sim.url, state))
    first = sync(config, NOW)
    assert not [op for op in first["applied"] if op["kind"] == COMMENT_CREATE]
    flagged = {issue["key"] for issue in first["issues"]}
    # Five issues healthy at the baseline go into review, as people would move them:
    # through In Progress (a finished one is reopened), then to Code Review.
    candidates = [
        key
        for key in sorted(sim.dataset.issues, key=lambda k: int(k.split("-")[1]))
        if key.startswith("APP-") and key not in flagged
    ]
    auth = ("ann.lee@example.com", "t")
    moved = []
    for key in candidates:
        url = f"{sim.url}/rest/api/3/issue/{key}/transitions"
        for target in ("In Progress", "Code Review"):
            offered = requests.get(url, auth=auth, timeout=10).json()["transitions"]
            step = next((t for t in offered if t["to"]["name"] == target), None)
            if step is None:
                break
            answer = requests.post(url, json={"transition": {"id": step["id"]}}, auth=auth,
                                   timeout=10)  # fmt: skip
            assert answer.status_code == 204
        if sim.issue(key).status == "Code Review":
            moved.append(key)
        if len(moved) == 5:
            break
    assert len(moved) == 5
    # Past review's limit (2 business days): the five are stuck there.
    later = sync(config, moved_at + timedelta(days=4))
    created = {op["issue"] for op in later["applied"] if op["kind"] == COMMENT_CREATE}
    assert set(moved) <= created
    before, after = identities(first), identities(later)
    for key in created:
        # every comment is for a finding the issue did not have at the sync before
        assert after[key] - before.get(key, set()), key


def test_the_example_configuration_judges_the_generated_workflow_without_warnings():
    settings = example_settings()
    issues, _ = generated_issues(600, 3)
    # (the tracker's To Do category is the backlog: what `check` and `sync` fill in)
    settings = settings.model_copy(
        update={"workflow": settings.workflow.model_copy(update={"backlog": ["To Do"]})}
    )
    evaluation = evaluate(issues, settings, NOW)
    assert evaluation.coverage.lines(len(issues)) == []
