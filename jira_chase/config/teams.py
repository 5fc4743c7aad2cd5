"""The settings of the report and of the teams it is organised by: `[report]` and
`[[teams]]`. Each team is JQL within the scope, matched against the fetched issues like
a goal's scope (`jira_chase.jql`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jira_chase.jql import Filter, FilterError, parse_scope

#: The team of the issues no `[[teams]]` entry matches.
OTHER_TEAM = "other"


class TeamSettings(BaseModel):
    """One team: its name and the JQL (within the scope) that selects its issues; an
    issue belongs to the first team whose JQL matches it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    jql: str

    @field_validator("name")
    @classmethod
    def _not_the_rest(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a team's name must not be blank")
        if value.strip().casefold() == OTHER_TEAM:
            raise ValueError(f"{value!r} names the issues no team matches; choose another name")
        return value

    @field_validator("jql")
    @classmethod
    def _supported_jql(cls, value: str) -> str:
        try:
            parse_scope(value)
        except FilterError as exc:
            raise ValueError(
                f"{exc} (a team's jql is matched against the fetched issues)"
            ) from None
        return value

    @property
    def filter(self) -> Filter:
        return parse_scope(self.jql)


class ReportSettings(BaseModel):
    """The manager's report (`jira-chase report`) and the weekly check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Name people (assignees, people over their WIP limit); default false: no
    #: person's name appears in the report.
    name_people: bool = False


def check_team_names(teams: list[TeamSettings]) -> None:
    """Each team's name once (compared case-insensitively)."""
    seen: dict[str, int] = {}
    for i, team in enumerate(teams):
        first = seen.setdefault(team.name.strip().casefold(), i)
        if first != i:
            raise ValueError(
                f"teams[{i}].name: {team.name!r} is already the name of teams[{first}]; "
                "each team needs its own name"
            )
