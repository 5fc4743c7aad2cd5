"""A goal's status on the goal's own issue (`goals[].issue`, an epic or any issue): one
managed comment per goal, tagged "goal", kept up to date in place.

It says what the team reads nowhere else on the tracker: where the goal stands against
its plan, each checkpoint's status and forecast, and which of its issues must move now
(the goal's issues themselves hear only that they must move). The comment is edited
only when what it says changes — a checkpoint's status, the work done, the issues that
must move — not as the forecast drifts by a day.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from jira_chase.config.settings import Settings
from jira_chase.engine.comment import CommentDoc
from jira_chase.engine.evaluate import Evaluation
from jira_chase.engine.plan import COMMENT_CREATE, COMMENT_UPDATE, Operation
from jira_chase.engine.rules.context import fmt_share, fmt_time
from jira_chase.engine.rules.values import GoalStatus
from jira_chase.errors import TrackerError
from jira_chase.sources.base import Source
from jira_chase.store.state import StateStore

TAG = "goal"
#: The facts kind that keeps, per goal issue, the comment id and the digest written.
FACT = "goal-comment"
#: At most this many issue keys are named.
MAX_KEYS = 20


def goal_stamp(index: int) -> str:
    """How a goal comment's digest starts: which goal it is for (several goals may name
    one issue), so the comment is found again on the tracker after a lost state."""
    return f"{index}z"


def build_goal_comment(goal: GoalStatus, evaluation: Evaluation) -> CommentDoc:
    """The goal's comment as of the evaluation."""
    must = sorted(
        {
            f.issue_key
            for v in evaluation.verdicts
            for f in v.findings
            if f.family == "goal" and f.issue_key in set(goal.open_issues)
        }
    )
    checkpoints = tuple(
        f"{c.name} on {c.date}: {c.status.replace('-', ' ')} — {c.reason}"
        + (
            f" (forecast p85 {c.forecast_p85})"
            if c.forecast_p85 and c.status != "met" and "forecast p85" not in c.reason
            else ""
        )
        for c in goal.checkpoints
    )
    progress = (
        f"{round(goal.done, 1):g} of {goal.describe(goal.total)} done "
        f"({fmt_share(goal.fraction)}); the plan says {fmt_share(goal.planned_today)} today",
        "weekly throughput (oldest first): "
        + (", ".join(f"{x:g}" for x in goal.weekly_throughput) or "none"),
    )
    shown = must[:MAX_KEYS]
    more = f" and {len(must) - MAX_KEYS} more" if len(must) > MAX_KEYS else ""
    moving = (", ".join(shown) + more,) if must else ("none",)
    sections = (
        ("Checkpoints", checkpoints),
        ("Progress", progress),
        ("Must move now (started too long ago, or must start for the checkpoint)", moving),
    )
    stable = [
        goal.name,
        goal.status,
        [(c.name, c.status) for c in goal.checkpoints],
        round(goal.done, 2),
        round(goal.total, 2),
        must,
    ]
    return CommentDoc(
        heading=f"jira-chase: goal '{goal.name}' is {goal.status.replace('-', ' ')}",
        items=(),
        footer=(
            f"As of {fmt_time(evaluation.now)}. jira-chase edits this comment when the "
            "goal's status, its progress or the issues that must move change."
        ),
        digest=goal_stamp(goal.index)
        + hashlib.sha256(json.dumps(stable).encode()).hexdigest()[:14],
        tag=TAG,
        sections=sections,
    )


@dataclass(frozen=True)
class GoalCommentOutcome:
    goal: str
    issue: str
    action: str  # created | edited | unchanged | failed
    comment_id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "issue": self.issue,
            "action": self.action,
            "comment_id": self.comment_id,
            "error": self.error,
        }

    def describe(self) -> str:
        where = f"goal '{self.goal}' on {self.issue}"
        if self.action == "failed":
            return f"{where} failed: {self.error}"
        return f"{where}: {self.action} comment {self.comment_id}"


def post_goal_comments(
    source: Source, store: StateStore, settings: Settings, evaluation: Evaluation
) -> list[GoalCommentOutcome]:
    """Create or edit the comment of every goal that names an issue (`goals[].issue`)."""
    outcomes = []
    known_all = store.recall(FACT)
    for goal, config in zip(evaluation.goals, settings.goals):
        if config.issue is None:
            continue
        issue = config.issue
        doc = build_goal_comment(goal, evaluation)
        fact = f"{goal.index}:{issue}"
        known = json.loads(known_all.get(fact, "{}"))
        if not known.get("comment_id"):
            # Not in the state (a first run, or a lost state): the tracker may have it.
            try:
                stamp = goal_stamp(goal.index)
                found = [c for c in source.managed_comments(issue, TAG) if c.said.startswith(stamp)]
            except TrackerError as exc:
                outcomes.append(GoalCommentOutcome(goal.name, issue, "failed", error=str(exc)))
                continue
            if found:
                known = {"comment_id": found[0].comment_id, "digest": found[0].digest}
        if known.get("comment_id") and known.get("digest") == doc.digest:
            outcomes.append(GoalCommentOutcome(goal.name, issue, "unchanged", known["comment_id"]))
            continue
        operation = Operation(COMMENT_CREATE, issue, reason=f"goal {goal.name}", comment=doc)
        if known.get("comment_id"):
            operation = Operation(COMMENT_UPDATE, issue, reason=f"goal {goal.name}",
                                  comment=doc, comment_id=known["comment_id"])  # fmt: skip
        (outcome,) = source.apply([operation])
        gone = getattr(outcome.error, "status", None) == 404
        if outcome.error is not None and operation.kind == COMMENT_UPDATE and gone:
            # Someone deleted the comment: write it again.
            operation = Operation(COMMENT_CREATE, issue, reason=f"goal {goal.name}",
                                  comment=doc)  # fmt: skip
            (outcome,) = source.apply([operation])
        if outcome.error is not None:
            outcomes.append(
                GoalCommentOutcome(goal.name, issue, "failed", error=str(outcome.error))
            )
            continue
        store.remember(FACT, fact, json.dumps({"comment_id": outcome.comment_id,
                                               "digest": doc.digest}))  # fmt: skip
        edited = operation.kind == COMMENT_UPDATE and outcome.comment_id == operation.comment_id
        outcomes.append(
            GoalCommentOutcome(
                goal.name, issue, "edited" if edited else "created", outcome.comment_id
            )  # fmt: skip
        )
    return outcomes
