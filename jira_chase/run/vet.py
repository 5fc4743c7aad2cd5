"""The configuration checked against the tracker: every status and resolution that
`[workflow]` names must exist there, or the run stops before it judges or writes; and
what `jira-chase check` found, for people and machines.

A one-letter typo in a required step's status would otherwise turn every finished
issue into a "skipped the required step" red line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jira_chase.config.settings import Settings
from jira_chase.config.values import closest_names
from jira_chase.errors import ConfigError
from jira_chase.sources.base import ServerIdentity, Source, TrackerNames

CHECK_FORMAT = "jira-chase-check/1"


def _named_statuses(settings: Settings) -> list[tuple[str, str]]:
    """(config key, status) for every status `[workflow]` names."""
    workflow = settings.workflow
    named = [("workflow.done", s) for s in workflow.done]
    for i, step in enumerate(workflow.steps):
        named += [(f"workflow.steps[{i}].statuses", s) for s in step.statuses]
    if workflow.cancelled is not None:
        named += [("workflow.cancelled", s) for s in workflow.cancelled]
    if workflow.backlog is not None:
        named += [("workflow.backlog", s) for s in workflow.backlog]
    return named


def workflow_problems(
    settings: Settings, names: TrackerNames, resolutions: Iterable[str] = ()
) -> list[str]:
    """One line per status or resolution the configuration names that the tracker
    does not have (`resolutions`: the tracker's, when the configuration names some)."""
    statuses = {s.casefold() for s in names.statuses}
    plain = [s for s in names.statuses if ":" not in s]
    problems = []
    tracker = settings.tracker
    for key, status in _named_statuses(settings):
        folded = status.casefold()
        if folded in statuses:
            continue
        kind, colon, bare = status.partition(":")
        if colon and not names.typed and bare.strip().casefold() in statuses:
            continue  # a type qualifier on a tracker whose statuses are shared by types
        pool = names.statuses if colon and names.typed else plain
        problems.append(
            f"{key}: status {status!r} does not exist in the {tracker} tracker; "
            f"{closest_names(status, pool)}"
        )
    given = settings.workflow.cancelled_resolutions
    if given:
        spelled = list(resolutions)
        known = {r.casefold() for r in spelled}
        for resolution in given:
            if resolution.casefold() not in known:
                problems.append(
                    f"workflow.cancelled_resolutions: resolution {resolution!r} does not "
                    f"exist in the {tracker} tracker; {closest_names(resolution, spelled)}"
                )
    return problems


def estimate_field_problem(
    settings: Settings, field_id: str | None, number_fields: Iterable[str]
) -> str | None:
    """Jira: the line saying what to set when estimates are needed (a goal counted in
    estimates, `habits.require_estimate`) and the site has no story-point field to read
    them from (`field_id` None); `number_fields`: the site's number fields' names."""
    habits = settings.habits.require_estimate or any(
        o.habits is not None and o.habits.require_estimate for o in settings.overrides
    )
    needed = habits or any(goal.unit == "estimate" for goal in settings.goals)
    if field_id is not None or not needed:
        return None
    spelled = sorted(number_fields, key=str.casefold)
    listed = f"its number fields: {', '.join(spelled)}" if spelled else "it has no number field"
    return (
        "jira.estimate_field: the Jira site has no story-point field (none of Jira "
        "Software's type, no number field named 'Story Points' or 'Story point estimate'); "
        f"set it to the name or id of the field that holds estimates ({listed})"
    )


def check_workflow(settings: Settings, source: Source) -> Settings:
    """Raise ConfigError (exit 2) when `[workflow]` names a status or resolution the
    tracker lacks; else the settings to judge by, with `workflow.backlog` filled in from
    the tracker when the configuration leaves it out. Resolutions are asked for only
    when the configuration names some."""
    resolutions = source.known_resolutions() if settings.workflow.cancelled_resolutions else ()
    names = source.known_names()
    problems = workflow_problems(settings, names, resolutions)
    if problems:
        # The statuses may be an earlier run's reading: the tracker has the last word.
        names = source.known_names(fresh=True)
        problems = workflow_problems(settings, names, resolutions)
    if problems:
        raise ConfigError(problems)
    return with_backlog(settings, names)


def with_backlog(settings: Settings, names: TrackerNames) -> Settings:
    """`settings` with `workflow.backlog` set to the tracker's own statuses before work
    (`names.backlog`) when the configuration does not name them, leaving out any status
    the workflow already places (a step, done or cancelled)."""
    workflow = settings.workflow
    if workflow.backlog is not None:
        return settings
    placed = {
        s.casefold()
        for s in [*workflow.done, *settings.cancelled_statuses,
                  *(s for step in workflow.steps for s in step.statuses)]
    }  # fmt: skip
    bare = {name.partition(":")[2] or name for name in placed}
    backlog = [
        name
        for name in names.backlog
        if name.casefold() not in placed and (name.partition(":")[2] or name).casefold() not in bare
    ]
    return settings.model_copy(
        update={"workflow": workflow.model_copy(update={"backlog": backlog})}
    )


@dataclass(frozen=True)
class CheckResult:
    """What `jira-chase check` found once the configuration passed (a problem raises)."""

    identity: ServerIdentity
    #: How many issues the scope query matches.
    matches: int
    #: How many issues were read, what judging them covered and a line per gap (none
    #: when the scope matches no issues).
    issues_read: int | None = None
    coverage: dict[str, object] | None = None
    warnings: list[str] = field(default_factory=list)
    #: Jira: per project, whether the bot's label writes are silent (None: unknown).
    notification_modes: dict[str, bool | None] = field(default_factory=dict)


def check_to_dict(result: CheckResult, settings: Settings, where: str) -> dict[str, Any]:
    """`check --json`; `where` names the configuration file."""
    identity = result.identity
    doc: dict[str, Any] = {
        "format": CHECK_FORMAT,
        "config": where,
        "tracker": {
            "kind": identity.tracker,
            "deployment": identity.deployment,
            "version": identity.version,
            "url": identity.url,
            "user": identity.user,
        },
        "workflow": {"ok": True},
        "scope": {"ok": True, "matches": result.matches},
        "issues_read": result.issues_read,
        "coverage": result.coverage,
        "warnings": result.warnings,
    }
    if settings.tracker == "jira":
        words = {True: "silent", False: "notifies", None: "unknown"}
        modes = result.notification_modes
        doc["label_writes"] = {project: words[mode] for project, mode in modes.items()}
    return doc


def render_check(result: CheckResult, where: str) -> list[str]:
    """`check` for people: one line per thing checked; when the scope matches issues,
    what reading them found and whether label writes notify watchers."""
    identity = result.identity
    lines = [
        f"config ok: {where}",
        f"tracker ok: {identity.tracker} {identity.deployment} {identity.version} at "
        f"{identity.url}, signed in as {identity.user}",
        "workflow ok: every status named in [workflow] exists in the tracker",
        f"scope ok: the scope query is accepted and matches {result.matches} issues",
    ]
    if result.matches == 0:
        return lines
    lines.append(f"scope read: {result.issues_read} issues")
    lines += [f"warning: {line}" for line in result.warnings]
    for project, silent in result.notification_modes.items():
        if silent:
            lines.append(f"writes in {project}: silent (the bot may suppress notifications)")
        elif silent is None:
            lines.append(
                f"writes in {project}: Jira did not say whether the bot may suppress "
                "notifications (mypermissions failed, see --verbose); the first sync "
                "finds out"
            )
        else:
            lines.append(
                f"writes in {project}: label changes email the issue's watchers — grant "
                f"the bot account Administer Projects in {project} to make them silent "
                "(the next sync notices)"
            )
    return lines
