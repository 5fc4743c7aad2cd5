"""`--metrics-file PATH`: the run in Prometheus text format, for node_exporter's
textfile collector. Written to a temporary file in the same directory and renamed, so
the collector never reads half a file. Written for failed runs too: an alert on
`jira_chase_run_success == 0` or on a stale `jira_chase_run_finished_timestamp_seconds`
is the point."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jira_chase.errors import ConfigError
from jira_chase.run.pipeline import RunResult
from jira_chase.store.files import umask_mode
from jira_chase.store.trends import run_details

OUTCOMES = ("ok", "partial", "failed", "interrupted")
HEALTHS = ("healthy", "at-risk", "off-track")
GOAL_STATUSES = ("met", "on-track", "at-risk", "off-track", "empty", "unknown")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


class _Family:
    def __init__(self, name: str, help_text: str):
        self.name = name
        self.help = help_text
        self.samples: list[tuple[dict[str, str], float]] = []

    def add(self, value: float, **labels: str) -> _Family:
        self.samples.append((labels, value))
        return self

    def lines(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} gauge"
        for labels, value in self.samples:
            yield f"{self.name}{_labels(labels)} {_number(value)}"


def _number(value: float) -> str:
    """A sample value exactly: integers as integers, other numbers in the shortest form
    that reads back as the same float (never rounded to six digits)."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render_metrics(
    *,
    mode: str,
    outcome: str,
    exit_code: int,
    duration: float,
    requests: int,
    retries: int,
    result: RunResult | None,
) -> str:
    """The metrics text. `result` is None when the run failed before judging."""
    mode_label = {"mode": mode}
    families = [
        _Family("jira_chase_run_success", "1 if the last run ended ok, else 0.").add(
            1 if outcome == "ok" else 0, **mode_label
        ),
        _Family("jira_chase_run_outcome", "The last run's outcome (1 for the one it had)."),
    ]
    for name in OUTCOMES:
        families[-1].add(1 if name == outcome else 0, outcome=name, **mode_label)
    families += [
        _Family("jira_chase_run_exit_code", "The last run's exit code.").add(
            exit_code, **mode_label
        ),
        _Family("jira_chase_run_finished_timestamp_seconds", "When the last run ended.").add(
            round(time.time(), 3), **mode_label
        ),
        _Family("jira_chase_run_duration_seconds", "How long the last run took.").add(
            round(duration, 3), **mode_label
        ),
        _Family("jira_chase_run_requests", "Requests the last run sent to the tracker.").add(
            requests, **mode_label
        ),
        _Family("jira_chase_run_retries", "Requests the last run sent again.").add(
            retries, **mode_label
        ),
    ]
    if result is not None:
        counts = result.counts()
        details: dict[str, Any] = run_details(result.evaluation)
        writes = _Family("jira_chase_run_writes", "The last run's writes by result.")
        for name in ("planned", "applied", "failed", "deferred", "held_back"):
            writes.add(counts[name], result=name, **mode_label)
        issues = _Family("jira_chase_issues", "Issues in scope by health.")
        for health in HEALTHS:
            issues.add(details["health"].get(health, 0), health=health)
        findings = _Family("jira_chase_unhealthy_issues", "Unhealthy issues by rule family.")
        for family, count in details["families"].items():
            findings.add(count, family=family)
        goals = _Family("jira_chase_goals", "Goals by status.")
        for status in GOAL_STATUSES:
            goals.add(details["goal_status"].get(status, 0), status=status)
        goal = _Family("jira_chase_goal_status", "Each goal's status (1 for the one it has).")
        for name, status in details["goals"].items():
            for candidate in GOAL_STATUSES:
                goal.add(1 if candidate == status else 0, goal=name, status=candidate)
        families += [writes, issues, findings, goals, goal]
    return "\n".join(line for family in families for line in family.lines()) + "\n"


def check_writable(path: Path) -> None:
    """Refuse a metrics file whose directory is missing before the run, not after it."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        raise ConfigError(
            [f"--metrics-file: cannot write {path}: {directory} is not a writable directory"]
        )


def write(path: Path, text: str) -> None:
    """Replace the file at `path` with `text` in one rename."""
    directory = path.parent if str(path.parent) else Path(".")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, umask_mode())  # meant to be read: the umask decides
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise ConfigError([f"--metrics-file: cannot write {path}: {exc}"]) from exc
