"""`jira-chase demo`: the whole loop on the built-in simulator, as a team rolling it out
sees it: the plan (the findings most severe first), a first sync that takes the
baseline (labels on what is already wrong, no comment), a second sync writing nothing,
then a new problem made in the tracker and the sync that comments on it, with the
comment as it reads on the issue; then the manager's report of the demo data (after
weekly reports of the three weeks before, which give it its trend), written to the
temporary directory."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from jira_chase.config.file import load_settings
from jira_chase.config.settings import Settings
from jira_chase.engine.comment import to_text
from jira_chase.engine.plan import COMMENT_CREATE
from jira_chase.reports.manager.produce import produce, write_report
from jira_chase.reports.summary import render_noisy, run_to_dict, summary_lines, writes_line
from jira_chase.run.pipeline import RunResult
from jira_chase.run.runner import Finished, execute


def _read_toml_resource(name: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    text = resources.files("jira_chase.cli").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def demo_settings(
    url: str, state_dir: Path, tracker: str = "jira", deployment: str = "cloud"
) -> Settings:
    """The demo configuration (demo.toml; for ZenTao with zentao_demo.toml's sections
    over it) pointed at a simulator and a state file in `state_dir`."""
    data = _read_toml_resource("demo.toml")
    if tracker == "zentao":
        del data["jira"]
        data.update(_read_toml_resource("zentao_demo.toml"))
    elif deployment == "datacenter":
        # Data Center signs in with a personal access token alone.
        data["jira"].update({"deployment": "datacenter", "email": ""})
    data[tracker]["url"] = url
    data["state"]["path"] = str(state_dir / "demo.sqlite")
    return load_settings(data=data)


def demo_report_path() -> Path:
    """Where the demo leaves its report: a folder of its own made fresh in the system's
    temporary directory (no one else's file or link is there), so it outlives the demo's
    simulator and state."""
    return Path(tempfile.mkdtemp(prefix="jira-chase-demo-")) / "jira-chase-demo-report.html"


def comment_example(result: RunResult) -> list[str]:
    """The managed comment with the most findings that the run creates (the first such
    in plan order: the most severe), as plain text, indented."""
    created = [op for op in result.plan.operations
               if op.kind == COMMENT_CREATE and op.comment is not None]  # fmt: skip
    if not created:
        return []
    op = max(created, key=lambda o: len(o.comment.items) if o.comment else 0)
    assert op.comment is not None
    heading = f"The managed comment jira-chase wrote on {op.issue_key}, as the team reads it there:"
    return [heading, ""] + [f"  | {line}" for line in to_text(op.comment).splitlines()]


def new_problem_candidate(result: RunResult, step: str) -> tuple[str, str] | None:
    """A healthy, unfinished story not yet past `step` (in it, or not started) with an
    assignee, to break in the demo (issue key, assignee id): the first by key."""
    for verdict in result.evaluation.verdicts:
        issue, current = verdict.issue, verdict.timeline.current
        if (
            not verdict.findings
            and issue.assignee is not None
            and issue.type.casefold() == "story"
            and not current.done
            and current.step in (None, step)
        ):
            return issue.key, issue.assignee.id
    return None


def show(
    intro: str,
    settings: Settings,
    first: Finished,
    applied: Finished,
    second: Finished,
    broken: tuple[str, str, Finished] | None,
) -> list[str]:
    """The demo as text."""
    lines = [intro, ""]
    lines += summary_lines(first.result, settings, duration=first.duration, details=True)
    lines += ["", "=" * 72, ""]
    lines += [
        f"First sync (the baseline) — {writes_line(applied.result, settings)}",
        "What was already wrong is labelled, not commented: "
        f"{len(applied.result.plan.withheld)} flagged issues get no comment (and their "
        "watchers no email) until a finding is new to them (writeback.baseline).",
        f"{applied.result.stats.requests} requests to the tracker, "
        f"{applied.result.stats.retries} retried; took {applied.duration:.1f} s.",
        *render_noisy(applied.result),
        "",
        f"Second sync over unchanged data: {len(second.result.plan.operations)} operations "
        f"planned, {len(second.result.applied)} performed.",
    ]
    if broken is not None:
        key, what, third = broken
        lines += ["", "=" * 72, ""]
        lines += [
            f"A new problem: {key} {what}.",
            f"Next sync — {writes_line(third.result, settings)}",
            "",
            *comment_example(third.result),
        ]
    return lines


def run_demo(tracker: str, deployment: str, as_json: bool) -> tuple[list[str], bool]:
    """Run the demo; returns what to print and whether it proved its point (the second
    sync had nothing to do, no write failed)."""
    from jira_chase.simulator import JiraSimulator
    from jira_chase.simulator.demo import DEMO_NOW, build_demo_dataset
    from jira_chase.simulator.zentao import ZenTaoSimulator

    sim: Any
    sim = (
        ZenTaoSimulator(build_demo_dataset())
        if tracker == "zentao"
        else JiraSimulator(build_demo_dataset(), deployment=deployment)
    )
    with tempfile.TemporaryDirectory(prefix="jira-chase-demo-") as tmp, sim:
        settings = demo_settings(sim.url, Path(tmp), tracker, deployment)
        # Weekly reports of the weeks before give the final report its trend (time to
        # recovery, change since the last report); a report writes nothing to the tracker.
        for weeks in (3, 2, 1):
            produce(settings, DEMO_NOW - timedelta(weeks=weeks))
        first = execute(settings, DEMO_NOW, write=False)
        applied = execute(settings, DEMO_NOW, write=True)
        second = execute(settings, DEMO_NOW, write=True)
        broken: tuple[str, str, Finished] | None = None
        candidate = new_problem_candidate(applied.result, settings.workflow.steps[0].name)
        if candidate is not None:
            # A person skips review in the tracker: the next sync comments on it alone.
            key, person = candidate
            sim.move(key, "In QA", person)
            moment: datetime = max(sim.clock(), DEMO_NOW) + timedelta(minutes=1)
            third = execute(settings, moment, write=True)
            broken = (key, "moved straight to In QA by its assignee, skipping review", third)
        prefix = settings.writeback.label_prefix
        keys = [v.issue.key for v in applied.result.evaluation.verdicts]
        written = {key: [t for t in sim.labels(key) if t.startswith(prefix)] for key in keys}
        written = {key: tokens for key, tokens in written.items() if tokens}
        doc: dict[str, Any] = {
            "plan": run_to_dict(first.result, settings, first.duration, details=True),
            "sync": run_to_dict(applied.result, settings, applied.duration, details=True),
            "second_sync": run_to_dict(second.result, settings, second.duration, details=True),
            "labels_in_tracker": written,
        }
        if broken is not None:
            key, what, third = broken
            doc["new_problem"] = {
                "issue": key,
                "what": what,
                "sync": run_to_dict(third.result, settings, third.duration, details=True),
            }
        ok = (
            not second.result.plan.operations
            and not applied.result.failed
            and (broken is None or not broken[2].result.failed)
        )
        report = write_report(produce(settings, DEMO_NOW), demo_report_path(), "html")
        doc["report"] = str(report)
        if tracker == "zentao":
            assert settings.zentao is not None
            bot = settings.zentao.account
            commented = [k for k in keys if any(c["actor"] == bot for c in sim.comments(k))]
            unlabelled = [v.issue.key for v in applied.result.evaluation.unhealthy()
                          if not v.issue.labels_supported]  # fmt: skip
            doc.update(
                unhealthy_without_labels=unlabelled,
                comments_in_tracker=commented,
                dataset_keys={key: sim.dataset_key(key) for key in keys},
            )
        if as_json:
            return [json.dumps(doc, indent=2)], ok
        if tracker == "zentao":
            intro = (
                f"Simulated ZenTao {sim.version} at {sim.url} with the demo data set "
                "(product 1 and execution 1 are the APP team)."
            )
        else:
            flavour = "Cloud" if deployment == "cloud" else "Data Center"
            intro = f"Simulated Jira {flavour} at {sim.url} with the demo data set."
        lines = show(intro, settings, first, applied, second, broken)
        where = "Keywords now in ZenTao" if tracker == "zentao" else "Labels now in the tracker"
        lines += ["", f"{where} (jira-chase's own only):"]
        lines += [f"  {key:<10} {' '.join(tokens)}" for key, tokens in written.items()]
        if tracker == "zentao":
            lines += [
                "",
                f"ZenTao tasks have no keywords: {len(doc['unhealthy_without_labels'])} "
                "unhealthy tasks carry their findings in the managed comment only.",
                f"Items with the managed comment in ZenTao: {len(doc['comments_in_tracker'])}.",
                "Not expressible in ZenTao: Jira components (modules are not read), so no "
                "knowledge concentration; a second done status (Done -> Closed); a sub-task "
                "under a story; and review spread, since tasks and bugs leave the review "
                "status only when they are closed after test.",
            ]
        lines += [
            "",
            "The manager's report (open it in a browser; `jira-chase report --out FILE` writes "
            "it for your tracker):",
            f"  {report}",
        ]
        return lines, ok
