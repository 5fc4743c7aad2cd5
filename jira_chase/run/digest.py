"""The weekly check in the tracker (`[digest]`): one managed comment per period on one
issue, summarising what changed since the period before — newly unhealthy, recovered,
a line per team (flagged, off track, its bottleneck), the goals' movement and forecast,
the waits between teams and the time to recovery.

Each `sync` builds it from the trends kept in the state store. Within a period the
comment is edited in place, and only when its content changed; a new period gets a new
comment. The comment is a `CommentDoc` tagged "digest", so it is rendered and escaped
like every managed comment and never taken for an issue's own managed comment. Its
digest starts with the period (`20261116…`), so the period's comment is found on the
tracker by its tag whatever the state store holds (fresh, lost, restored): every run
looks, keeps the oldest of the period's comments and deletes any other copy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from jira_chase.config.settings import WEEKDAYS, Settings
from jira_chase.engine.comment import CommentDoc
from jira_chase.engine.evaluate import Evaluation
from jira_chase.engine.model import Health
from jira_chase.engine.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, Operation
from jira_chase.engine.rules.context import fmt_share, fmt_time
from jira_chase.engine.timeline import Calendar
from jira_chase.errors import TrackerError
from jira_chase.sources.base import Source
from jira_chase.store import trends
from jira_chase.store.state import StateStore

TAG = "digest"
#: The facts kind that keeps, per digest issue, the period, comment id and digest.
FACT = "digest"
#: At most this many issue keys are named per line.
MAX_KEYS = 20
#: At most this many teams get a line (the most flagged).
MAX_TEAMS = 12


def period_start(settings: Settings, now: datetime) -> date:
    """The first day (in `calendar.timezone`) of the period `now` falls in."""
    today = Calendar(settings.calendar).local_date(now)
    first = WEEKDAYS.index(settings.digest.weekday)
    return today - timedelta(days=(today.weekday() - first) % 7)


def period_stamp(start: date) -> str:
    """How a digest comment's tag names its period (the digest starts with it)."""
    return start.strftime("%Y%m%d")


def _keys(keys: list[str]) -> str:
    shown = ", ".join(keys[:MAX_KEYS])
    return shown + (f" and {len(keys) - MAX_KEYS} more" if len(keys) > MAX_KEYS else "")


def team_lines(evaluation: Evaluation) -> list[str]:
    """A line per team (`[[teams]]`, or each project), the most flagged first, at most
    `MAX_TEAMS`: its flagged unfinished issues, off track, and its bottleneck."""
    teams = evaluation.teams
    counts = {name: [0, 0, 0] for name in teams.names}  # unfinished, flagged of them, off
    for verdict in evaluation.verdicts:
        row = counts.setdefault(teams.team_of(verdict.issue.key, verdict.issue.project), [0, 0, 0])
        if not verdict.timeline.is_done:
            row[0] += 1
            row[1] += bool(verdict.findings)
        row[2] += verdict.health is Health.OFF_TRACK
    metrics = evaluation.metrics
    bottlenecks = metrics.team_bottlenecks if metrics is not None else {}
    ranked = sorted(counts.items(), key=lambda item: (-item[1][1], -item[1][2]))
    lines = []
    for name, (unfinished, flagged, off) in ranked[:MAX_TEAMS]:
        bottleneck = bottlenecks.get(name)
        lines.append(
            f"{name}: {flagged} of {unfinished} unfinished flagged, {off} off track"
            + (f", bottleneck: {bottleneck}" if bottleneck else "")
        )
    more = len(ranked) - MAX_TEAMS
    if more > 0:
        lines.append(f"and {more} more team{'s' if more > 1 else ''} (see the report)")
    return lines


def build_digest(
    settings: Settings, store: StateStore, evaluation: Evaluation, start: date
) -> CommentDoc:
    """The period's comment: what changed between the last run before the period began
    and now."""
    zone = Calendar(settings.calendar).zone
    boundary = datetime.combine(start, time.min, zone)
    before: dict[str, str] = {}
    for key, at, state, _ in store.health_changes():
        if at < boundary:
            before[key] = state
    earlier = [team for _, _, at, team in store.trend_runs() if at < boundary]
    baseline: dict[str, Any] | None = earlier[-1] if earlier else None
    unhealthy_now = {v.issue.key: v for v in evaluation.unhealthy()}
    was_unhealthy = {k for k, s in before.items() if s not in (Health.HEALTHY.value, "gone")}
    new = [k for k in unhealthy_now if k not in was_unhealthy]
    healthy_now = {v.issue.key for v in evaluation.verdicts if not v.findings}
    recovered = sorted(k for k in was_unhealthy if k in healthy_now)

    off = [k for k in new if unhealthy_now[k].health is Health.OFF_TRACK]
    flagged = [
        f"{len(new)} newly unhealthy" + (f" ({len(off)} off track)" if off else "")
        + (f": {_keys(new)}" if new else ""),
        f"{len(recovered)} recovered" + (f": {_keys(recovered)}" if recovered else ""),
    ]  # fmt: skip
    taken, rollout = store.open_since_rollout()
    if taken is not None:
        then_open = (baseline or {}).get("since_rollout")
        was = f" (when the week began: {then_open})" if then_open is not None else ""
        flagged.append(
            f"open since rollout ({fmt_time(taken)}): {rollout}{was} — what was "
            "already wrong then and has not recovered since"
        )
    goals = []
    then = {g["name"]: g for g in (baseline or {}).get("goals", [])}
    for goal in evaluation.goals:
        last = goal.checkpoints[-1] if goal.checkpoints else None
        moved = f"{fmt_share(then[goal.name]['fraction'])} → " if goal.name in then else ""
        forecast = (
            f", forecast p85 {last.forecast_p85} for {last.name} ({last.date})"
            if last is not None and last.forecast_p85
            else ""
        )
        goals.append(
            f"{goal.name}: {moved}{fmt_share(goal.fraction)} done, plan "
            f"{fmt_share(goal.planned_today)}, {goal.status}{forecast}"
        )
    waits = []
    if evaluation.waits is not None:
        before_waits: dict[str, Any] = (baseline or {}).get("waits") or {}
        for team in evaluation.waits.caused:
            caused, suffered = evaluation.waits.caused[team], evaluation.waits.suffered[team]
            if not caused.count and not suffered.count:
                continue
            start_of_week: dict[str, Any] | None = before_waits.get(team)
            trend = (
                f" (when the week began: {start_of_week['caused_open']} and "
                f"{start_of_week['suffered_open']} open)"
                if start_of_week
                else ""
            )
            waits.append(
                f"{team}: others waited on us {caused.describe()}; we waited on others "
                f"{suffered.describe()}{trend}"
            )
    flow = []
    summary = trends.recovery_summary(trends.episodes(store.health_changes()))
    overall = summary.get(trends.ANY)
    if overall and overall["recovered"]:
        flow.append(
            f"time to recovery: median {overall['median_days']:g} days, p85 "
            f"{overall['p85_days']:g} days over {overall['recovered']} recovered issues"
        )
    else:
        flow.append("time to recovery: no flagged issue has recovered yet")
    sections: list[tuple[str, tuple[str, ...]]] = [
        ("Health", tuple(flagged)),
        ("Teams", tuple(team_lines(evaluation))),
    ]
    if goals:
        sections.append(("Goals", tuple(goals)))
    if waits:
        sections.append(("Waits between teams", tuple(waits)))
    sections.append(("Flow", tuple(flow)))
    heading = f"jira-chase weekly check: the week from {start.isoformat()}"
    digest = (
        period_stamp(start)
        + hashlib.sha256(json.dumps([heading, sections], ensure_ascii=False).encode()).hexdigest()[
            :16
        ]
    )
    url = settings.digest.report_url
    return CommentDoc(
        heading=heading,
        items=(),
        footer=(
            "Compared with the last run before this week began. jira-chase edits this "
            "comment as the week goes on and starts a new one next week."
        ),
        digest=digest,
        tag=TAG,
        sections=tuple(sections),
        link=("The full report", url) if url else None,
    )


@dataclass(frozen=True)
class DigestOutcome:
    issue: str
    action: str  # created | edited | unchanged | failed
    comment_id: str | None = None
    error: str | None = None
    #: Extra copies of the period's comment found on the tracker and deleted.
    removed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "issue": self.issue,
            "action": self.action,
            "comment_id": self.comment_id,
            "error": self.error,
            "removed": self.removed,
        }

    def describe(self) -> str:
        extra = f"; deleted {self.removed} extra copies" if self.removed else ""
        if self.action == "failed":
            return f"weekly check on {self.issue} failed: {self.error}{extra}"
        if self.action == "unchanged":
            return f"weekly check on {self.issue}: unchanged (comment {self.comment_id}){extra}"
        return f"weekly check on {self.issue}: {self.action} comment {self.comment_id}{extra}"


def post_digest(
    source: Source, store: StateStore, settings: Settings, evaluation: Evaluation
) -> DigestOutcome | None:
    """Create or edit the period's comment on `digest.issue`; None when none is set."""
    issue = settings.digest.issue
    if issue is None:
        return None
    start = period_start(settings, evaluation.now)
    doc = build_digest(settings, store, evaluation, start)
    known = json.loads(store.recall(FACT).get(issue, "{}"))
    # The tracker says which comments the period has; the store only which one to keep
    # when there are several.
    stamp = period_stamp(start)
    try:
        # (by what its marker says: a comment whose seal the current secret cannot check
        # is still this week's, and is rewritten under the current secret)
        found = [c for c in source.managed_comments(issue, TAG) if c.said.startswith(stamp)]
    except TrackerError as exc:
        return DigestOutcome(issue, "failed", error=f"digest.issue: {exc}")
    keep = next((c for c in found if c.comment_id == known.get("comment_id")), None)
    keep = keep or (found[0] if found else None)
    extras = [c for c in found if keep is not None and c.comment_id != keep.comment_id]
    removed = 0
    if extras:
        deletes = [Operation(COMMENT_DELETE, issue, reason="weekly check (extra copy)",
                             comment_id=c.comment_id) for c in extras]  # fmt: skip
        for outcome in source.apply(deletes):
            if outcome.error is not None:
                return DigestOutcome(issue, "failed", error=str(outcome.error), removed=removed)
            removed += 1
    if keep is not None and keep.digest == doc.digest:
        _remember(store, issue, start, keep.comment_id, doc.digest)
        return DigestOutcome(issue, "unchanged", keep.comment_id, removed=removed)
    operation = Operation(COMMENT_CREATE, issue, reason="weekly check", comment=doc)
    if keep is not None:
        operation = Operation(COMMENT_UPDATE, issue, reason="weekly check", comment=doc,
                              comment_id=keep.comment_id)  # fmt: skip
    (outcome,) = source.apply([operation])
    if outcome.error is not None and operation.kind == COMMENT_UPDATE:
        if getattr(outcome.error, "status", None) != 404:
            return DigestOutcome(issue, "failed", error=str(outcome.error), removed=removed)
        # Deleted between the look and the edit: write it again.
        operation = Operation(COMMENT_CREATE, issue, reason="weekly check", comment=doc)
        (outcome,) = source.apply([operation])
    if outcome.error is not None:
        return DigestOutcome(issue, "failed", error=str(outcome.error), removed=removed)
    comment_id = outcome.comment_id
    _remember(store, issue, start, comment_id, doc.digest)
    # A source may itself write a deleted comment anew: a new id means it was created.
    edited = operation.kind == COMMENT_UPDATE and comment_id == operation.comment_id
    return DigestOutcome(issue, "edited" if edited else "created", comment_id, removed=removed)


def _remember(store: StateStore, issue: str, start: date, comment_id: str | None,
              digest: str) -> None:  # fmt: skip
    store.remember(
        FACT,
        issue,
        json.dumps({"period": start.isoformat(), "comment_id": comment_id, "digest": digest}),
    )
