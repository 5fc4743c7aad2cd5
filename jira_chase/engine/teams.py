"""Which team each issue of the scope belongs to (pure: settings and issues in, names
out).

With `[[teams]]`, an issue belongs to the first team whose JQL matches it, and the
issues no team matches to the team named "other" (a team only when it has issues).
Without, each project of the scope is a team (on ZenTao each product and execution, as
its project key). An issue outside the scope (a blocker that was not fetched) is of its
project.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from jira_chase.config.settings import Settings
from jira_chase.config.teams import OTHER_TEAM
from jira_chase.engine.model import Issue


def project_of(key: str) -> str:
    """The project an issue key names (its part before the last dash)."""
    return key.rsplit("-", 1)[0]


@dataclass(frozen=True)
class Teams:
    """The teams of the scope in their order (`[[teams]]` order, "other" last; or the
    projects, sorted) and each issue's team."""

    names: tuple[str, ...] = ()
    of_issue: Mapping[str, str] = field(default_factory=dict)
    #: True when the teams come from `[[teams]]`.
    configured: bool = False
    #: Index in `[[teams]]` -> how many issues of the scope that team holds.
    sizes: tuple[int, ...] = ()

    def team_of(self, key: str, project: str | None = None) -> str:
        """The issue's team; of an issue outside the scope, its project (`project`
        when known, else the key's)."""
        team = self.of_issue.get(key)
        if team is not None:
            return team
        return project if project is not None else project_of(key)

    def members(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """Team name -> the keys of `keys` in it (every team, in team order)."""
        found: dict[str, list[str]] = {name: [] for name in self.names}
        for key in keys:
            team = self.of_issue.get(key)
            if team is not None:
                found[team].append(key)
        return found


def assign(issues: Iterable[Issue], settings: Settings) -> Teams:
    """Each issue's team (see the module's docstring)."""
    configured = settings.teams
    if not configured:
        of_issue = {issue.key: issue.project for issue in issues}
        return Teams(tuple(sorted(set(of_issue.values()))), of_issue)
    filters = [(team.name, team.filter) for team in configured]
    sizes = [0] * len(filters)
    of_issue = {}
    for issue in issues:
        for i, (name, query) in enumerate(filters):
            if query.matches(issue):
                of_issue[issue.key] = name
                sizes[i] += 1
                break
        else:
            of_issue[issue.key] = OTHER_TEAM
    names = [team.name for team in configured]
    if len(of_issue) > sum(sizes):
        names.append(OTHER_TEAM)
    return Teams(tuple(names), of_issue, configured=True, sizes=tuple(sizes))


def unmatched(teams: Teams, settings: Settings) -> list[str]:
    """A warning for each `[[teams]]` entry that holds no issue of the scope."""
    return [
        f"teams[{i}] ({team.name!r}): its jql matches no issue in scope, or an earlier "
        "team took them all"
        for i, (team, size) in enumerate(zip(settings.teams, teams.sizes))
        if size == 0
    ]
