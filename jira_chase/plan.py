"""Findings -> desired labels -> diff against the tracker -> concrete write operations.

Pure. Only labels carrying the configured prefix are ever planned for removal; all
comparisons are case-insensitive, as trackers treat labels that way for filtering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jira_chase.evaluate import Evaluation, Verdict
from jira_chase.model import Health, Severity


@dataclass(frozen=True)
class Operation:
    """One write to the tracker. `kind` is "labels" (add/remove on one issue)."""

    kind: str
    issue_key: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    severity: Severity | None = None
    reason: str = ""

    def describe(self) -> str:
        parts = []
        if self.add:
            parts.append("add " + ", ".join(self.add))
        if self.remove:
            parts.append("remove " + ", ".join(self.remove))
        return f"{self.issue_key}: {'; '.join(parts)}  ({self.reason})"

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "issue": self.issue_key,
            "add": list(self.add),
            "remove": list(self.remove),
            "severity": self.severity.label if self.severity else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Plan:
    """Operations to perform this run, in order, and those deferred by the budget."""

    now: datetime
    operations: tuple[Operation, ...]
    deferred: tuple[Operation, ...]


def is_managed(label: str, prefix: str) -> bool:
    return label.casefold().startswith(prefix.casefold())


def desired_labels(verdict: Verdict, prefix: str) -> list[str]:
    """The prefixed labels an issue should carry: its health plus one per rule family."""
    if verdict.health is Health.HEALTHY:
        return []
    return [prefix + verdict.health.value] + [prefix + family for family in verdict.families]


def label_operation(verdict: Verdict, prefix: str) -> Operation | None:
    current = verdict.issue.labels
    desired = desired_labels(verdict, prefix)
    have = {label.casefold() for label in current if is_managed(label, prefix)}
    want = {label.casefold() for label in desired}
    add = tuple(label for label in desired if label.casefold() not in have)
    remove = tuple(
        label for label in current if is_managed(label, prefix) and label.casefold() not in want
    )
    if not add and not remove:
        return None
    if verdict.health is Health.HEALTHY:
        reason = "healthy again"
    else:
        reason = f"{verdict.health.value}: " + ", ".join(verdict.families)
    return Operation("labels", verdict.issue.key, add, remove, verdict.worst, reason)


def plan_writes(evaluation: Evaluation, *, prefix: str, max_writes: int) -> Plan:
    """Diff every verdict against its issue's labels; keep at most `max_writes`
    operations, most severe first, then the oldest issues; defer the rest."""
    candidates: list[tuple[int, datetime, str, Operation]] = []
    for verdict in evaluation.verdicts:
        op = label_operation(verdict, prefix)
        if op is not None:
            rank = -int(op.severity) if op.severity is not None else 0
            candidates.append((rank, verdict.issue.created, verdict.issue.key, op))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    ordered = tuple(c[3] for c in candidates)
    return Plan(evaluation.now, ordered[:max_writes], ordered[max_writes:])
