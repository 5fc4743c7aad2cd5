"""Findings -> desired labels and managed comment -> diff against the tracker -> writes.

Pure. Only labels carrying the configured prefix are ever planned for removal; label
comparisons are case-insensitive, as trackers treat labels that way for filtering. A
comment is planned only when its digest differs from the managed comment's, so a rerun
over unchanged data plans nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from jira_chase.config.settings import WritebackSettings
from jira_chase.engine.comment import (
    RECOVERED,
    CommentDoc,
    ManagedComment,
    build_comment,
    recovery_comment,
    to_text,
)
from jira_chase.engine.evaluate import Evaluation, Verdict
from jira_chase.engine.model import Health, Severity
from jira_chase.engine.rules import CAUSE_LABELS
from jira_chase.engine.teams import project_of

LABELS = "labels"
#: Family-like name of the label put on another team's issue that blocks ours.
BLOCKING = "blocking"
COMMENT_CREATE = "comment.create"
COMMENT_UPDATE = "comment.update"
COMMENT_DELETE = "comment.delete"
#: Reason labels of earlier versions (one per rule family): owned, so they come off
#: wherever they are found, and never written again.
LEGACY_LABELS = (
    "stalled", "wip", "aging", "goal", "stale", "owner", "estimate", "focus",
    "cooperation", "hygiene",
)  # fmt: skip
#: Why an issue outside the scope loses our labels and comment.
LEFT_SCOPE = "left the scope"
DUPLICATE = "duplicate managed comment"


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

    def to_dict(self, text: bool = True) -> dict[str, object]:
        """The operation as the JSON documents show it; `text`: with the comment's text
        (the state keeps operations without it: the digest identifies the comment)."""
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
            if text:
                doc["text"] = to_text(self.comment) if self.comment else None
        return doc


@dataclass(frozen=True)
class Plan:
    """Operations to perform this run, in order, and those deferred by the budget.
    `withheld`: the issues whose comment the baseline holds back (`writeback.baseline
    = false` would create one on each). `held_back`: the operations in projects that
    refused every write of a recent sync (see `jira_chase.run.refusals`), not made this run
    and outside the budget."""

    now: datetime
    operations: tuple[Operation, ...]
    deferred: tuple[Operation, ...]
    withheld: tuple[str, ...] = ()
    held_back: tuple[Operation, ...] = ()


@dataclass(frozen=True)
class Seen:
    """What earlier syncs saw, for the baseline (`writeback.baseline`): `first` when no
    sync has taken the baseline yet (this one does: labels, no new comment), and each
    issue's findings (`Finding.identity`) at its previous sync. An issue is commented
    when it gains a finding it did not have there."""

    first: bool = True
    findings: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def new_findings(self, verdict: Verdict) -> frozenset[str]:
        """The verdict's findings the issue did not have at its previous sync."""
        had = self.findings.get(verdict.issue.key, frozenset())
        return frozenset(f.identity for f in verdict.findings) - had


def is_managed(label: str, prefix: str) -> bool:
    return label.casefold().startswith(prefix.casefold())


def writable_labels(prefix: str) -> tuple[str, ...]:
    """Every label name jira-chase can write: the searches that find its labels again
    outside the scope ask for exactly these."""
    names = (Health.OFF_TRACK.value, Health.AT_RISK.value, *CAUSE_LABELS, BLOCKING,
             *LEGACY_LABELS)  # fmt: skip
    return tuple(dict.fromkeys(prefix + name for name in names))


def desired_labels(verdict: Verdict, prefix: str, *, blocking: bool = False) -> list[str]:
    """The prefixed labels an issue should carry: its health plus one per cause its
    assignee has to act on (`Verdict.causes`), and `<prefix>blocking` when it blocks
    another team's issue (`blocking`)."""
    labels = [prefix + BLOCKING] if blocking else []
    if verdict.health is Health.HEALTHY:
        return labels
    health = [prefix + verdict.health.value] + [prefix + c for c in verdict.causes]
    return list(dict.fromkeys(health + labels))


def _reason(verdict: Verdict) -> str:
    if verdict.health is Health.HEALTHY:
        return "healthy again"
    return f"{verdict.health.value}: " + ", ".join(verdict.causes)


def _label_diff(
    current: tuple[str, ...], desired: list[str], managed: Callable[[str], bool]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    have = {label.casefold() for label in current if managed(label)}
    want = {label.casefold() for label in desired}
    add = tuple(label for label in desired if label.casefold() not in have)
    remove = tuple(label for label in current if managed(label) and label.casefold() not in want)
    return add, remove


def label_operation(verdict: Verdict, prefix: str, *, blocking: bool = False) -> Operation | None:
    if not verdict.issue.labels_supported:
        return None
    desired = desired_labels(verdict, prefix, blocking=blocking)
    add, remove = _label_diff(
        verdict.issue.labels, desired, lambda label: is_managed(label, prefix)
    )
    if not add and not remove:
        return None
    reason = _reason(verdict)
    if blocking:
        reason += "; blocks another team's issue"
    return Operation(LABELS, verdict.issue.key, add, remove, verdict.worst, reason)


def blocker_operations(
    evaluation: Evaluation, prefix: str, outside: Mapping[str, tuple[str, ...]]
) -> list[Operation]:
    """`<prefix>blocking` on issues outside the scope (`outside`: their current labels)
    that block an issue in it, and off those that no longer do. Nothing else of another
    team's issue is touched — not even other labels with our prefix."""
    label = prefix + BLOCKING
    ops = []
    for key, current in sorted(outside.items()):
        blocked = evaluation.blockers.get(key, ())
        add, remove = _label_diff(
            current, [label] if blocked else [], lambda lbl: lbl.casefold() == label.casefold()
        )
        if add or remove:
            keys = ", ".join(sorted({f.issue_key for f in blocked}))
            reason = f"blocks {keys}" if blocked else "no longer blocks an issue in scope"
            ops.append(Operation(LABELS, key, add, remove, Severity.WARN if blocked else None,
                                 reason))  # fmt: skip
    return ops


def left_scope_operations(
    evaluation: Evaluation,
    writeback: WritebackSettings,
    left: Mapping[str, tuple[str, ...]],
    managed: Mapping[str, ManagedComment],
) -> list[Operation]:
    """Issues that carry our labels or comment but are no longer in the scope (`left`:
    their current labels): every label we can write comes off — but `<prefix>blocking`
    stays while the issue blocks one in the scope — and the comment is handled as
    `writeback.on_recovery` says."""
    prefix = writeback.label_prefix
    ours = {label.casefold() for label in writable_labels(prefix)}
    ops = []
    for key, current in sorted(left.items()):
        blocked = evaluation.blockers.get(key, ())
        desired = [prefix + BLOCKING] if blocked else []
        add, remove = _label_diff(current, desired, lambda lbl: lbl.casefold() in ours)
        if add or remove:
            reason = LEFT_SCOPE + ("; blocks an issue in scope" if blocked else "")
            ops.append(Operation(LABELS, key, add, remove, Severity.WARN if add else None,
                                 reason))  # fmt: skip
        comment = managed.get(key)
        if not writeback.comments or comment is None or comment.digest == RECOVERED:
            continue
        if writeback.on_recovery == "edit":
            ops.append(Operation(COMMENT_UPDATE, key, reason=LEFT_SCOPE,
                                 comment=recovery_comment(evaluation.now, LEFT_SCOPE),
                                 comment_id=comment.comment_id))  # fmt: skip
        elif writeback.on_recovery == "delete":
            ops.append(Operation(COMMENT_DELETE, key, reason=LEFT_SCOPE,
                                 comment_id=comment.comment_id))  # fmt: skip
    return ops


#: Why an issue gets a new comment under the baseline.
NEW_FINDING = "new finding"


def comment_operation(
    verdict: Verdict,
    writeback: WritebackSettings,
    managed: ManagedComment | None,
    now: datetime,
    seen: Seen | None = None,
) -> Operation | None:
    """Create, edit or delete the managed comment so it matches the verdict. With
    `writeback.baseline` (and what earlier syncs saw, `seen`), a comment is created only
    for a finding the issue did not have at its previous sync — never on the sync that
    takes the baseline; an existing comment is kept up to date as always."""
    if not writeback.comments:
        return None
    key, reason = verdict.issue.key, _reason(verdict)
    if verdict.health is not Health.HEALTHY:
        if managed is None and writeback.baseline:
            seen = seen or Seen()
            new = () if seen.first else sorted(seen.new_findings(verdict))
            if not new:
                return None
            reason += f"; {NEW_FINDING}: " + ", ".join(new)
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
    outside_blockers: Mapping[str, tuple[str, ...]] | None = None,
    *,
    left_scope: Mapping[str, tuple[str, ...]] | None = None,
    duplicates: Mapping[str, Sequence[ManagedComment]] | None = None,
    seen: Seen | None = None,
    held: Collection[str] = (),
) -> Plan:
    """Diff every verdict against its issue's labels and managed comment (`managed`, by
    issue key), the blocking label against the current labels of blockers outside the
    scope (`outside_blockers`), and clean the issues that left the scope (`left_scope`,
    their current labels) and extra copies of a managed comment (`duplicates`); keep at
    most `writeback.max_writes` operations, most severe first, then the oldest issues;
    defer the rest to the next run. `seen`: what earlier syncs saw, for the baseline
    (see `comment_operation`; None: this is the sync that takes it). The operations on
    issues of the `held` projects are held back, before the budget is counted."""
    managed = managed or {}
    seen = seen or Seen()
    prefix = writeback.label_prefix
    candidates: list[tuple[int, datetime, str, int, Operation]] = []
    withheld: list[str] = []
    for verdict in evaluation.verdicts:
        key = verdict.issue.key
        comment = comment_operation(verdict, writeback, managed.get(key), evaluation.now, seen)
        if (
            comment is None
            and writeback.comments
            and writeback.baseline
            and verdict.findings
            and key not in managed
        ):
            withheld.append(key)
        ops = [label_operation(verdict, prefix, blocking=key in evaluation.blockers), comment]
        for order, op in enumerate(ops):
            if op is not None:
                rank = -int(op.severity) if op.severity is not None else 0
                candidates.append((rank, verdict.issue.created, key, order, op))
    # Issues outside the scope: after ours of the same severity.
    last = datetime.max.replace(tzinfo=evaluation.now.tzinfo)
    outside = [
        *blocker_operations(evaluation, prefix, outside_blockers or {}),
        *left_scope_operations(evaluation, writeback, left_scope or {}, managed),
    ]
    for order, op in enumerate(outside):
        rank = -int(op.severity) if op.severity is not None else 0
        candidates.append((rank, last, op.issue_key, order, op))
    for key, extras in sorted((duplicates or {}).items()):
        for extra in extras:
            op = Operation(COMMENT_DELETE, key, reason=DUPLICATE, comment_id=extra.comment_id)
            # Before the edit of the comment that stays, so one comment is ever seen.
            candidates.append((-int(Severity.CRITICAL) - 1, last, key, 0, op))
    candidates.sort(key=lambda c: c[:4])
    ordered = tuple(c[4] for c in candidates)
    held_back: tuple[Operation, ...] = ()
    if held:
        held_back = tuple(op for op in ordered if project_of(op.issue_key) in held)
        ordered = tuple(op for op in ordered if project_of(op.issue_key) not in held)
    budget = writeback.max_writes
    return Plan(evaluation.now, ordered[:budget], ordered[budget:], tuple(withheld), held_back)


def label_load(evaluation: Evaluation, writeback: WritebackSettings) -> dict[str, object]:
    """How much of the tracker carries a health label: the share of unfinished issues
    flagged, and how many of our labels a flagged issue carries (max, median)."""
    prefix = writeback.label_prefix
    unfinished = [v for v in evaluation.verdicts if not v.timeline.is_done]
    flagged_open = sum(1 for v in unfinished if v.findings)
    counts = sorted(
        len(desired_labels(v, prefix, blocking=v.issue.key in evaluation.blockers))
        for v in evaluation.verdicts
        if v.findings
    )
    median = (counts[(len(counts) - 1) // 2] + counts[len(counts) // 2]) / 2 if counts else 0
    return {
        "unfinished": len(unfinished),
        "flagged_unfinished": flagged_open,
        "flagged_share": round(flagged_open / len(unfinished), 3) if unfinished else 0.0,
        "labels_per_flagged_issue": {"max": counts[-1] if counts else 0, "median": median},
    }


def attention(
    evaluation: Evaluation, plan: Plan, writeback: WritebackSettings, created: int
) -> dict[str, object]:
    """What the run costs the team's attention: its `label_load`, the comments created
    (`created`: planned by a dry run, applied by a sync; each one emails the issue's
    watchers) and those the baseline holds back."""
    return {
        **label_load(evaluation, writeback),
        "comments_created": created,
        "comments_withheld": len(plan.withheld),
    }
