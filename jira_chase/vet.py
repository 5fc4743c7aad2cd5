"""The configuration checked against the tracker: every status and resolution that
`[workflow]` names must exist there, or the run stops before it judges or writes.

A one-letter typo in a required step's status would otherwise turn every finished
issue into a "skipped the required step" red line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from jira_chase.config import Settings
from jira_chase.errors import ConfigError
from jira_chase.sources.base import Source, TrackerNames


def _suggest(name: str, known: Iterable[str]) -> str:
    """ "; did you mean 'Code Review'?" for the closest known names, else the list."""
    spelled = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.casefold(), list(spelled), n=3, cutoff=0.6)
    if close:
        names = " or ".join(repr(spelled[c]) for c in close)
        return f"did you mean {names}?"
    listed = sorted(spelled.values(), key=str.casefold)
    more = f" and {len(listed) - 12} more" if len(listed) > 12 else ""
    return f"the tracker has: {', '.join(listed[:12])}{more}"


def _named_statuses(settings: Settings) -> list[tuple[str, str]]:
    """(config key, status) for every status `[workflow]` names."""
    workflow = settings.workflow
    named = [("workflow.done", s) for s in workflow.done]
    for i, step in enumerate(workflow.steps):
        named += [(f"workflow.steps[{i}].statuses", s) for s in step.statuses]
    if workflow.cancelled is not None:
        named += [("workflow.cancelled", s) for s in workflow.cancelled]
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
            f"{_suggest(status, pool)}"
        )
    given = settings.workflow.cancelled_resolutions
    if given:
        spelled = list(resolutions)
        known = {r.casefold() for r in spelled}
        for resolution in given:
            if resolution.casefold() not in known:
                problems.append(
                    f"workflow.cancelled_resolutions: resolution {resolution!r} does not "
                    f"exist in the {tracker} tracker; {_suggest(resolution, spelled)}"
                )
    return problems


def check_workflow(settings: Settings, source: Source) -> None:
    """Raise ConfigError (exit 2) when `[workflow]` names a status or resolution the
    tracker lacks. Resolutions are asked for only when the configuration names some."""
    resolutions = source.known_resolutions() if settings.workflow.cancelled_resolutions else ()
    problems = workflow_problems(settings, source.known_names(), resolutions)
    if problems:
        raise ConfigError(problems)
