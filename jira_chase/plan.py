"""Findings -> desired labels and managed comment -> diff against the tracker -> writes.

Pure. Only labels carrying the configured prefix are ever planned for removal; label
comparisons are case-insensitive, as trackers treat labels that way for filtering. A
comment is planned only when its digest differs from the managed comment's, so a rerun
over unchanged data plans nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from jira_chase.comment import (
    RECOVERED,
    CommentDoc,
    ManagedComment,
    build_comment,
    recovery_comment,
    to_text,
)
from jira_chase.config import WritebackSettings
from jira_chase.evaluate import Evaluation, Verdict
from jira_chase.model import Health, Severity

LABELS = "labels"
COMMENT_CREATE = "comment.create"
COMMENT_UPDATE = "comment.update"
COMMENT_DELETE = "comment.delete"


@dataclass(frozen=True)
class Operation:
    """One write to the tracker.

    `labels`: add/remove labels on one issue. `comment.create` / `comment.update` /
    `comment.delete`: the issue's managed comment (`comment_id` names the existing one).
    """

    kind: str
    issue_key: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    severity: Severity | None = None
    reason: str = ""
    comment: CommentDoc | None = None
    comment_id: str | None = None

    def describe(self) -> str:
        if self.kind == LABELS:
            parts = []
            if self.add:
                parts.append("add " + ", ".join(self.add))
            if self.remove:
                parts.append("remove " + ", ".join(self.remove))
            what = "; ".join(parts)
        elif self.kind == COMMENT_CREATE:
            what = "create the managed comment"
        elif self.kind == COMMENT_UPDATE:
            what = f"edit the managed comment {self.comment_id}"
        else:
            what = f"delete the managed comment {self.comment_id}"
        return f"{self.issue_key}: {what}  ({self.reason})"

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "kind": self.kind,
            "issue": self.issue_key,
            "add": list(self.add),
            "remove": list(self.remove),
            "severity": self.severity.label if self.severity else None,
            "reason": self.reason,
        }
        if self.kind != LABELS:
            doc["comment_id"] = self.comment_id
            doc["digest"] = self.comment.digest if self.comment else None
            doc["text"] = to_text(self.comment) if self.comment else None
        return doc


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


def _reason(verdict: Verdict) -> str:
    if verdict.health is Health.HEALTHY:
        return "healthy again"
    return f"{verdict.health.value}: " + ", ".join(verdict.families)


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
    return Operation(LABELS, verdict.issue.key, add, remove, verdict.worst, _reason(verdict))


def comment_operation(
    verdict: Verdict,
    writeback: WritebackSettings,
    managed: ManagedComment | None,
    now: datetime,
) -> Operation | None:
    """Create, edit or delete the managed comment so it matches the verdict."""
    if not writeback.comments:
        return None
    key, reason = verdict.issue.key, _reason(verdict)
    if verdict.health is not Health.HEALTHY:
        doc = build_comment(verdict, writeback.hints, now)
        if managed is None:
            return Operation(COMMENT_CREATE, key, severity=verdict.worst, reason=reason,
                             comment=doc)  # fmt: skip
        if managed.digest != doc.digest:
            return Operation(COMMENT_UPDATE, key, severity=verdict.worst, reason=reason,
                             comment=doc, comment_id=managed.comment_id)  # fmt: skip
        return None
    if managed is None or managed.digest == RECOVERED:
        return None
    if writeback.on_recovery == "edit":
        return Operation(COMMENT_UPDATE, key, reason=reason, comment=recovery_comment(now),
                         comment_id=managed.comment_id)  # fmt: skip
    if writeback.on_recovery == "delete":
        return Operation(COMMENT_DELETE, key, reason=reason, comment_id=managed.comment_id)
    return None


def plan_writes(
    evaluation: Evaluation,
    writeback: WritebackSettings,
    managed: Mapping[str, ManagedComment] | None = None,
) -> Plan:
    """Diff every verdict against its issue's labels and managed comment (`managed`, by
    issue key); keep at most `writeback.max_writes` operations, most severe first, then
    the oldest issues; defer the rest to the next run."""
    managed = managed or {}
    candidates: list[tuple[int, datetime, str, int, Operation]] = []
    for verdict in evaluation.verdicts:
        ops = [
            label_operation(verdict, writeback.label_prefix),
            comment_operation(verdict, writeback, managed.get(verdict.issue.key), evaluation.now),
        ]
        for order, op in enumerate(ops):
            if op is not None:
                rank = -int(op.severity) if op.severity is not None else 0
                candidates.append((rank, verdict.issue.created, verdict.issue.key, order, op))
    candidates.sort(key=lambda c: c[:4])
    ordered = tuple(c[4] for c in candidates)
    budget = writeback.max_writes
    return Plan(evaluation.now, ordered[:budget], ordered[budget:])
