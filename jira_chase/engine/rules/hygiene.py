"""Hygiene: is the tracker used as the process intends?

Per-issue warn findings (family `hygiene`), each rule switchable in `hygiene.disabled`:

- `no-step`: finished without ever entering a workflow step (straight from a new
  status to done; cancelled work is not judged);
- `edited-in-done`: a person changed what the metrics count (the estimate or the fix
  version) while the issue was done — history rewritten after the fact. A move from
  one done status to another (Done -> Closed) is the workflow, not an edit;
- `backward-moves`: moved backwards in the step order (to an earlier step, or from a
  step back to a status of no step) more than `hygiene.max_backward_moves` times;
  leaving done is a reopen, not a backward move;
- `created-in-step`: created directly in a workflow step or a done status;
- `resolution` (Jira): a done issue without a resolution, or an open issue with one.
  Judged only when some issue in scope has a resolution: a site whose workflows never
  set one would otherwise flag every finished issue;
- `open-child`: an unfinished sub-task or child whose parent (in scope) is done.

Issues whose status history is unknown are judged only by `resolution` and `open-child`.

Hygiene is the team's to act on: its findings are notes on each issue (in `explain`, the
JSON and the report), never a label or a comment line; the team finding counts them.
And a team-level share: of the issues finished (not cancelled) in the metrics window, the part whose
history looks like the process (no hygiene finding), the number that says whether every
other figure can be trusted. Below `hygiene.min_process_share` it is a warn finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from jira_chase.engine.model import Finding, Severity, TeamFinding
from jira_chase.engine.rules.context import (
    Phrasebook,
    RuleContext,
    Subject,
    fmt_keys,
    fmt_share,
    fmt_time,
)
from jira_chase.engine.timeline import Interval


@dataclass(frozen=True)
class ProcessShare:
    """Of the issues finished in the window, how many look like the process."""

    finished: int
    clean: int

    @property
    def share(self) -> float | None:
        return self.clean / self.finished if self.finished else None

    def to_dict(self) -> dict[str, object]:
        share = self.share
        return {
            "finished": self.finished,
            "clean": self.clean,
            "share": None if share is None else round(share, 3),
        }

    def describe(self) -> str:
        if self.share is None:
            return "no finished issues in the window"
        return (
            f"{fmt_share(self.share)} of finished issues passed through the steps "
            f"({self.clean} of {self.finished})"
        )


class _Scope:
    """What the rules need to know about the whole scope, gathered in one pass."""

    def __init__(self, subjects: Sequence[Subject], ctx: RuleContext):
        self.done = {s.issue.key for s in subjects if s.timeline.is_done}
        self.resolutions = ctx.settings.tracker == "jira" and any(
            s.issue.resolution is not None for s in subjects
        )
        steps = ctx.settings.workflow.steps
        self.rank = {step.name: i for i, step in enumerate(steps)}
        self.off = set(ctx.settings.hygiene.disabled)
        self.say = Phrasebook()


def _finding(
    subject: Subject, rule: str, message: str, config_key: str, *evidence: tuple[str, str]
) -> Finding:
    return Finding(
        issue_key=subject.issue.key,
        family="hygiene",
        rule=rule,
        severity=Severity.WARN,
        message=message,
        config_key=config_key,
        evidence=evidence,
    )


def _judge(subject: Subject, ctx: RuleContext, scope: _Scope) -> list[Finding]:
    issue, timeline = subject.issue, subject.timeline
    intervals = timeline.intervals
    # The status the issue was created in (a move in the same instant still counts: the
    # timeline drops the empty interval, the history keeps it).
    created_in = issue.initial_status
    created_step = ctx.steps.step(created_in, issue.type)
    created_done = ctx.steps.is_done(created_in, issue.type)
    found: list[Finding] = []
    switch = "hygiene.disabled"
    # Without a status history (a tracker that shows none, or an issue created in its
    # status) there is no path to judge: only the rules on the issue as it is now run.
    known = timeline.known

    if known and "created-in-step" not in scope.off and (created_step is not None or created_done):
        where = f"step '{created_step}'" if created_step is not None else "done"
        found.append(_finding(
            subject, "created-in-step",
            f"created directly in '{created_in}' ({where}), not in a new status",
            switch, ("created in", created_in), ("created", fmt_time(issue.created)),
        ))  # fmt: skip
    if (
        known
        and "no-step" not in scope.off
        and timeline.is_done
        and not timeline.current.cancelled  # cancelled work skips the steps on purpose
        and not created_done
        and all(i.step is None for i in intervals)
    ):
        path = " -> ".join(i.status for i in intervals)
        found.append(_finding(
            subject, "no-step",
            f"finished without entering a workflow step ({path})",
            switch, ("path", path), ("finished", fmt_time(timeline.done_arrivals()[-1])),
        ))  # fmt: skip
    if known and len(intervals) > 1:
        found += _moves(subject, intervals, ctx, scope)
    if known and "edited-in-done" not in scope.off:
        found += _edited_in_done(subject, intervals, ctx)
    if "resolution" not in scope.off and scope.resolutions:
        if timeline.is_done and issue.resolution is None:
            found.append(_finding(
                subject, "resolution", f"done ('{issue.status}') without a resolution",
                switch, ("status", issue.status), ("resolution", "none"),
            ))  # fmt: skip
        elif not timeline.is_done and issue.resolution is not None:
            found.append(_finding(
                subject, "resolution",
                f"open ('{issue.status}') with resolution '{issue.resolution}'",
                switch, ("status", issue.status), ("resolution", issue.resolution),
            ))  # fmt: skip
    if (
        "open-child" not in scope.off
        and not timeline.is_done
        and issue.parent is not None
        and issue.parent in scope.done
    ):
        found.append(_finding(
            subject, "open-child",
            f"still '{issue.status}' under {issue.parent}, which is done",
            switch, ("parent", issue.parent), scope.say(("status", issue.status)),
        ))  # fmt: skip
    return found


def _moves(
    subject: Subject, intervals: tuple[Interval, ...], ctx: RuleContext, scope: _Scope
) -> list[Finding]:
    """Backward moves, in one pass over the moves between statuses: a move to an
    earlier place in the step order (a status of no step ranks before every step, done
    after them; leaving done, a reopen, is not counted)."""
    moves = 0
    last_move = None
    rank, done_rank = scope.rank, len(scope.rank)
    before = intervals[0]
    for k in range(1, len(intervals)):
        after = intervals[k]
        if not before.done and before.step is not None:
            to = done_rank if after.done else rank[after.step] if after.step is not None else -1
            if to < rank[before.step]:
                moves += 1
                last_move = (before, after)
        before = after
    found = []
    say = scope.say
    if last_move is not None and "backward-moves" not in scope.off:
        limit, config_key = ctx.threshold(subject.issue, "hygiene", "max_backward_moves")
        if moves > limit:
            a, b = last_move
            found.append(_finding(
                subject, "backward-moves",
                f"moved backwards in the step order {moves} times, limit {limit} "
                f"(last: '{a.status}' -> '{b.status}' on {fmt_time(b.start)})",
                config_key, say(("backward moves", str(moves))), say(("limit", str(limit))),
                say(("last", f"{a.status} -> {b.status}")),
            ))  # fmt: skip
    return found


#: Fields whose change rewrites what the metrics count (names as trackers show them).
COUNTED_FIELDS = frozenset(
    {"story points", "story point estimate", "estimate", "fix version", "fixversion",
     "fixversions", "fix version/s"}
)  # fmt: skip


def _edited_in_done(
    subject: Subject, intervals: tuple[Interval, ...], ctx: RuleContext
) -> list[Finding]:
    """A person changed the estimate or the fix version while the issue was done."""
    issue = subject.issue
    if issue.status_changes is issue.history:
        return []  # (a history of status changes alone)
    done = [(i.start, i.end_or(ctx.now)) for i in intervals if i.done]
    if not done:
        return []
    edits = [
        change
        for change in issue.history
        if change.field.casefold() in COUNTED_FIELDS
        and not ctx.is_own_change(change)
        and any(start < change.at < end for start, end in done)
    ]
    if not edits:
        return []
    last = edits[-1]
    change = f"{last.field}: {last.from_value or 'none'} -> {last.to_value or 'none'}"
    return [_finding(
        subject, "edited-in-done",
        f"{last.field} changed while done, on {fmt_time(last.at)} ({len(edits)} such edits)",
        "hygiene.disabled", ("change", change), ("at", fmt_time(last.at)),
        ("edits while done", str(len(edits))),
    )]  # fmt: skip


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Every enabled hygiene rule over every issue (one pass over the histories)."""
    scope = _Scope(subjects if ctx.scope is None else ctx.scope, ctx)
    findings: list[Finding] = []
    for subject in subjects:
        findings += _judge(subject, ctx, scope)
    return findings


def measure_process(
    subjects: Sequence[Subject], ctx: RuleContext, findings: Sequence[Finding]
) -> ProcessShare:
    """The issues finished in the metrics window, and how many have none of `findings`
    (what `check` found: the histories are not read again)."""
    flagged = {f.issue_key for f in findings}
    window_start = ctx.now - timedelta(weeks=ctx.settings.metrics.window_weeks)
    finished = clean = 0
    for subject in subjects:
        timeline = subject.timeline
        if timeline.finished_within(window_start, ctx.now):
            finished += 1
            clean += subject.issue.key not in flagged
    return ProcessShare(finished, clean)


def team_rules(findings: Sequence[Finding], ctx: RuleContext) -> list[TeamFinding]:
    """The hygiene findings of the run, counted by rule: one warn team finding."""
    if not findings:
        return []
    by_rule: dict[str, list[str]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding.issue_key)
    ranked = sorted(by_rule.items(), key=lambda item: (-len(item[1]), item[0]))
    issues = len({f.issue_key for f in findings})
    return [
        TeamFinding(
            subject="tracker hygiene",
            family="hygiene",
            rule="hygiene",
            severity=Severity.WARN,
            message=(
                f"{issues} {'issue does' if issues == 1 else 'issues do'} not follow the "
                "process in the tracker: "
                + ", ".join(f"{rule} {len(keys)}" for rule, keys in ranked)
            ),
            config_key="hygiene.disabled",
            evidence=tuple((rule, fmt_keys(keys)) for rule, keys in ranked),
        )
    ]


def team_share(share: ProcessShare, ctx: RuleContext) -> list[TeamFinding]:
    """A warn finding when the share is below `hygiene.min_process_share`."""
    floor = ctx.settings.hygiene.min_process_share
    if floor is None or share.share is None or share.share >= floor:
        return []
    return [
        TeamFinding(
            subject="process share",
            family="hygiene",
            rule="process-share",
            severity=Severity.WARN,
            message=f"only {share.describe()}, limit {fmt_share(floor)}",
            config_key="hygiene.min_process_share",
            evidence=(
                ("finished issues", str(share.finished)),
                ("through the steps", str(share.clean)),
                ("share", fmt_share(share.share)),
                ("limit", fmt_share(floor)),
            ),
        )
    ]
