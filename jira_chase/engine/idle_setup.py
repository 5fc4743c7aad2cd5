"""Setups that judge nothing: parts of the configuration the scope's data gives no work
to, said by `jira-chase check` before anyone trusts their silence.

A goal whose scope matches no issue (`fixVersion = Betta`), a points goal whose issues
carry no estimate, a workflow step no issue was in during the metrics window, aging
with too few finished issues for its percentiles: each stays quiet in every run, which
reads as "all is well". Pure: settings and a judgement in, one line per gap out, each
naming the key that fixes it.
"""

from __future__ import annotations

from jira_chase.config.settings import Settings
from jira_chase.engine.evaluate import Evaluation
from jira_chase.engine.rules.values import EMPTY, UNKNOWN


def idle_setup_warnings(settings: Settings, evaluation: Evaluation) -> list[str]:
    """One line per part of the configuration that judges nothing on this data."""
    lines = _goal_lines(settings, evaluation)
    metrics = evaluation.metrics
    if metrics is None:
        return lines
    window = f"the last {metrics.window_weeks} weeks (metrics.window_weeks)"
    if not evaluation.coverage.no_history:
        for index, (step, stats) in enumerate(zip(settings.workflow.steps, metrics.steps)):
            if stats.visits == 0 and stats.wip == 0:
                lines.append(
                    f"workflow.steps[{index}]: no issue was in step '{step.name}' "
                    f"(statuses {', '.join(step.statuses)}) in {window}: its limits judge "
                    "nothing; check its statuses"
                )
    if not metrics.percentiles_ready:
        count = metrics.cycle_time.count if metrics.cycle_time else 0
        short = (
            f"{count} issues finished in {window}, fewer than metrics.min_samples "
            f"({metrics.min_samples})"
        )
        if settings.metrics.aging:
            lines.append(f"metrics.aging: {short}: aging work judges nothing yet")
        if settings.goals and "goal" not in settings.rules.disabled:
            lines.append(
                f"goals: {short}: no issue is told to start or finish for a checkpoint yet"
            )
    return lines


def _goal_lines(settings: Settings, evaluation: Evaluation) -> list[str]:
    lines = []
    for goal in evaluation.goals:
        key = f"goals[{goal.index}]"
        if goal.status == EMPTY:
            lines.append(
                f"{key}.scope: goal '{goal.name}' ({goal.scope}) matches no issue in the "
                "scope: its checkpoints judge nothing; check the scope query"
            )
        elif goal.status == UNKNOWN:
            where = (
                "jira.estimate_field" if settings.tracker == "jira" else "ZenTao's estimate field"
            )
            lines.append(
                f"{key}.unit: goal '{goal.name}' counts estimates, but none of its "
                f"{len(goal.issues)} issues carries one (read from {where}): its progress is "
                "unknown and its checkpoints judge nothing"
            )
        elif goal.unestimated:
            lines.append(
                f"{key}.unit: {goal.unestimated} of the {len(goal.issues)} issues of goal "
                f"'{goal.name}' carry no estimate: they count as 0"
            )
    return lines
