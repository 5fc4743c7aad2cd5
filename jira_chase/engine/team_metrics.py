"""Each team's flow metrics, measured like the scope's (`rules.metrics.measure`) over the
team's issues alone: what the report's team sections and the weekly check's team lines
show. Pure: the evaluation and settings in, numbers out."""

from __future__ import annotations

from jira_chase.config.settings import Settings
from jira_chase.engine.evaluate import Evaluation, Verdict
from jira_chase.engine.rules import RuleContext
from jira_chase.engine.rules.metrics import measure
from jira_chase.engine.rules.values import FlowMetrics


def by_team(evaluation: Evaluation) -> dict[str, list[Verdict]]:
    """Team name -> its verdicts (every team of the evaluation, in team order)."""
    teams = evaluation.teams
    found: dict[str, list[Verdict]] = {name: [] for name in teams.names}
    for verdict in evaluation.verdicts:
        key = verdict.issue.key
        found.setdefault(teams.team_of(key, verdict.issue.project), []).append(verdict)
    return found


def measure_teams(
    evaluation: Evaluation, settings: Settings, members: dict[str, list[Verdict]] | None = None
) -> dict[str, FlowMetrics]:
    """Team name -> its flow metrics as of the evaluation (`members`: `by_team`'s answer,
    when the caller has it)."""
    ctx = RuleContext.build(settings, evaluation.now)
    groups = members if members is not None else by_team(evaluation)
    return {name: measure(subjects, ctx) for name, subjects in groups.items()}
