"""Settings: the shape of the configuration, section by section, with each section's
checks. Built once, at start, from one TOML file plus `JIRA_CHASE_<SECTION>__<KEY>`
environment overrides by `config_file.load_settings`. Unknown keys are errors.
`config.example.toml` documents every key and is loaded by the test suite.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from jira_chase import jql
from jira_chase.config.env import SelectedTrackerEnv
from jira_chase.config.teams import ReportSettings, TeamSettings, check_team_names
from jira_chase.config.values import ENV_PREFIX, check_site_url, issue_key

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: Rule families that judge single issues (`hygiene`'s findings stay notes for the
#: team: see `rules.NOTE_FAMILIES`).
ISSUE_FAMILIES = (
    "stalled",
    "wip",
    "redline",
    "aging",
    "goal",
    "stale",
    "owner",
    "estimate",
    "cooperation",
    "hygiene",
)
#: Every family `[rules]` can name; `focus`, `metrics` and `skills` judge only the team
#: (no issue labels); `stuck` names `stalled`, `aging` and `stale` together (the one
#: finding they make on an issue).
RULE_FAMILIES = (*ISSUE_FAMILIES, "focus", "metrics", "skills", "stuck")

#: The rules of the `hygiene` family, each switchable in `hygiene.disabled`.
HYGIENE_RULES = (
    "no-step",
    "edited-in-done",
    "backward-moves",
    "created-in-step",
    "resolution",
    "open-child",
)

#: Issue fields `redlines.required_fields[].field` may name (lower case) -> the
#: attribute of `model.Issue` that holds it.
ISSUE_FIELDS = {
    "assignee": "assignee",
    "reporter": "reporter",
    "duedate": "duedate",
    "estimate": "estimate",
    "priority": "priority",
    "fixversion": "fix_versions",
    "fixversions": "fix_versions",
    "labels": "labels",
    "parent": "parent",
}

Severities = Literal["warn", "critical"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JiraSettings(Section):
    url: str = Field(description="Base URL of the Jira site")
    deployment: Literal["cloud", "datacenter"] = "cloud"
    email: str = ""
    token: SecretStr = SecretStr("")
    scope: str = Field(description="JQL selecting the issues to chase")
    timeout: float = Field(default=30.0, gt=0, description="seconds per HTTP request")
    page_size: int = Field(default=100, ge=1, le=5000)
    retries: int = Field(default=3, ge=0, le=10)
    backoff: float = Field(default=5.0, ge=0, le=60)
    estimate_field: str = Field(
        default="", description="the field holding estimates (name or id); default: found"
    )

    @field_validator("url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        return check_site_url(value, "jira.url", ("/rest/api/3", "/rest/api/2", "/rest"))

    @model_validator(mode="after")
    def _auth_complete(self) -> JiraSettings:
        if self.deployment == "cloud" and not self.email:
            raise ValueError("jira.email is required for deployment = 'cloud' (basic auth)")
        return self


class ZenTaoSettings(Section):
    url: str = Field(description="Base URL of the ZenTao site (where index.php lives)")
    account: str = Field(min_length=1, description="the bot account's login name")
    password: SecretStr = SecretStr("")
    products: list[int] = Field(default=[], description="stories and bugs of these products")
    executions: list[int] = Field(default=[], description="tasks of these executions")
    timezone: str = Field(default="Asia/Shanghai", description="the server's time zone")
    timeout: float = Field(default=30.0, gt=0, description="seconds per HTTP request")
    page_size: int = Field(default=100, ge=1, le=1000)
    retries: int = Field(default=3, ge=0, le=10)
    backoff: float = Field(default=2.0, ge=0, le=60)

    @field_validator("url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        return check_site_url(value, "zentao.url", ("/api.php/v1", "/api.php", "/index.php"))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _has_scope(self) -> ZenTaoSettings:
        if not self.products and not self.executions:
            raise ValueError("name at least one of zentao.products or zentao.executions")
        for name in ("products", "executions"):
            for i, number in enumerate(getattr(self, name)):
                if number < 1:
                    raise ValueError(f"zentao.{name}[{i}] = {number} is not a ZenTao id")
        return self


class CalendarSettings(Section):
    kind: Literal["business", "calendar"] = "calendar"
    timezone: str = "UTC"
    workdays: list[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]] = [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
    ]
    holidays: list[date] = []

    @model_validator(mode="after")
    def _known_timezone(self) -> CalendarSettings:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if not self.workdays:
            raise ValueError("calendar.workdays must name at least one day")
        return self


class StepSettings(Section):
    name: str = Field(min_length=1)
    statuses: list[str] = Field(min_length=1)
    limit_days: float | None = Field(default=None, gt=0)
    wip_limit: int | None = Field(default=None, ge=1)
    required: bool = False
    waiting: bool = False


#: What ends work without doing it when `workflow.cancelled` is not given, per tracker:
#: ZenTao's cancelled tasks. (ZenTao stories and bugs closed for a reason other than
#: done or fixed are cancelled through `ZENTAO_CANCELLED_RESOLUTIONS`.)
CANCELLED_DEFAULTS: dict[str, tuple[str, ...]] = {"jira": (), "zentao": ("task:cancel",)}
#: ZenTao's close reasons (stories) and resolutions (bugs) that mean the work was not
#: done; the default of `workflow.cancelled_resolutions` there.
ZENTAO_CANCELLED_RESOLUTIONS = (
    "bydesign", "cancel", "duplicate", "external", "notrepro", "postponed", "subdivided",
    "tostory", "willnotdo", "willnotfix",
)  # fmt: skip
CANCELLED_RESOLUTION_DEFAULTS: dict[str, tuple[str, ...]] = {
    "jira": (),
    "zentao": ZENTAO_CANCELLED_RESOLUTIONS,
}


class WorkflowSettings(Section):
    done: list[str] = Field(min_length=1)
    steps: list[StepSettings] = []
    #: Statuses that end work without doing it (None: the tracker's default).
    cancelled: list[str] | None = None
    #: Resolutions that make a finished issue cancelled (None: the tracker's default).
    cancelled_resolutions: list[str] | None = None
    #: Statuses where work waits before it starts (None: the tracker's own: Jira's "To
    #: Do" status category, ZenTao's states before work): not unmapped, never a warning.
    backlog: list[str] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> WorkflowSettings:
        names = [s.name for s in self.steps]
        dup_names = sorted({n for n in names if names.count(n) > 1})
        if dup_names:
            raise ValueError(f"step names must be unique, repeated: {', '.join(dup_names)}")
        owner: dict[str, str] = {}
        done = {d.casefold() for d in self.done}
        cancelled = self.cancelled or []
        backlog = self.backlog or []
        stepped = [s for step in self.steps for s in step.statuses]
        named = [*self.done, *cancelled, *backlog, *stepped]
        for status in named:
            # `type:status` qualifies a status by issue type (ZenTao's types share names).
            kind, colon, name = status.partition(":")
            if colon and (not kind.strip() or not name.strip()):
                raise ValueError(f"status {status!r} must be a name or type:name")
        for step in self.steps:
            for status in step.statuses:
                key = status.casefold()
                if key in owner:
                    raise ValueError(
                        f"status {status!r} is in both step {owner[key]!r} and {step.name!r}"
                    )
                if key in done:
                    raise ValueError(
                        f"status {status!r} of step {step.name!r} is also a done status"
                    )
                if key in {c.casefold() for c in cancelled}:
                    raise ValueError(
                        f"status {status!r} of step {step.name!r} is also a cancelled status"
                    )
                owner[key] = step.name
        for status in backlog:
            key = status.casefold()
            if key in owner or key in done:
                where = f"step {owner[key]!r}" if key in owner else "a done status"
                raise ValueError(f"backlog status {status!r} is also in {where}")
        return self


class CheckpointSettings(Section):
    name: str
    date: date
    done: float = Field(ge=0, le=1)


class GoalSettings(Section):
    name: str
    scope: str
    unit: Literal["issues", "estimate"] = "issues"
    start: date
    tolerance: float = Field(default=0.1, ge=0, le=1)
    checkpoints: list[CheckpointSettings] = Field(min_length=1)
    #: The issue that stands for the goal (an epic, or any issue): it carries the goal's
    #: status in one managed comment of its own.
    issue: str | None = None

    _issue_key = field_validator("issue")(classmethod(lambda cls, value: issue_key(value)))

    @field_validator("scope")
    @classmethod
    def _scope_is_supported_jql(cls, value: str) -> str:
        try:
            jql.parse_scope(value)
        except jql.FilterError as exc:
            raise ValueError(
                f"{exc} (a goal scope is matched against the fetched issues)"
            ) from None
        return value

    @model_validator(mode="after")
    def _checkpoints_in_order(self) -> GoalSettings:
        previous_date, previous_done = self.start, 0.0
        for i, checkpoint in enumerate(self.checkpoints):
            if checkpoint.date <= previous_date:
                raise ValueError(
                    f"checkpoints[{i}].date {checkpoint.date} must come after "
                    f"{'the previous checkpoint' if i else 'start'} ({previous_date})"
                )
            if checkpoint.done < previous_done:
                raise ValueError(
                    f"checkpoints[{i}].done {checkpoint.done:g} is less than the previous "
                    f"checkpoint's {previous_done:g}; the plan never goes backwards"
                )
            previous_date, previous_done = checkpoint.date, checkpoint.done
        return self

    @property
    def filter(self) -> jql.Filter:
        return jql.parse_scope(self.scope)


class RequiredField(Section):
    field: str
    when_step: str | None = None
    when_priority: str | None = None
    when_type: str | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value.casefold() not in ISSUE_FIELDS:
            known = "assignee, reporter, duedate, estimate, priority, fixVersion, labels, parent"
            raise ValueError(f"unknown field {value!r} (known: {known})")
        return value

    @property
    def attribute(self) -> str:
        return ISSUE_FIELDS[self.field.casefold()]


class RedlineSettings(Section):
    max_reopens: int | None = Field(default=None, ge=0)
    required_fields: list[RequiredField] = []
    #: Days a finished or cancelled issue keeps its findings after it finished.
    flag_finished_days: float = Field(default=14.0, ge=0)


class HabitSettings(Section):
    stale_days: float | None = Field(default=None, gt=0)
    require_owner: bool = False
    require_estimate: bool = False


class FocusSettings(Section):
    wip_per_person: int | None = Field(default=None, ge=1)


class CooperationSettings(Section):
    blocked_days: float | None = Field(default=None, ge=0)
    label_blockers: bool = False
    #: Another team's unfinished issue has waited this long on ours: a finding on ours
    #: (warn at 1x, critical at 2x).
    wait_days: float | None = Field(default=None, gt=0)


class MetricsSettings(Section):
    window_weeks: int = Field(default=8, ge=1, le=104)
    min_samples: int = Field(default=10, ge=1)
    aging: bool = False
    forecast_trials: int = Field(default=2000, ge=100, le=100_000)
    forecast_seed: int = 0
    max_cycle_time_p85_days: float | None = Field(default=None, gt=0)
    min_throughput_per_week: float | None = Field(default=None, ge=0)
    max_wip: int | None = Field(default=None, ge=1)
    max_reopen_rate: float | None = Field(default=None, ge=0, le=1)
    max_blocked_share: float | None = Field(default=None, ge=0, le=1)
    min_flow_efficiency: float | None = Field(default=None, ge=0, le=1)
    #: Where cycle time starts: the first entry into a workflow step, or the last one
    #: (the clock restarts when an issue goes back to a status outside the steps).
    cycle_start: Literal["first", "last"] = "first"


class SkillsSettings(Section):
    """Where knowledge sits in one head: per area, and per `required` step's exits."""

    area: Literal["component", "labels", "parent"] = "component"
    max_share: float = Field(default=0.8, gt=0, le=1)
    min_issues: int = Field(default=5, ge=1)
    name_people: bool = False


class HygieneSettings(Section):
    """Whether the tracker is used as the process intends."""

    max_backward_moves: int = Field(default=2, ge=0)
    min_process_share: float | None = Field(default=None, ge=0, le=1)
    disabled: list[str] = []

    @field_validator("disabled")
    @classmethod
    def _known_rules(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in HYGIENE_RULES]
        if unknown:
            raise ValueError(
                f"unknown hygiene rule{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(n) for n in unknown)} (known: {', '.join(HYGIENE_RULES)})"
            )
        return value


class OverrideWhen(Section):
    """Which issues an override applies to: every key given must match; a list matches
    any of its values; names compare case-insensitively."""

    type: str | list[str] | None = None
    priority: str | list[str] | None = None
    project: str | list[str] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> OverrideWhen:
        if self.type is None and self.priority is None and self.project is None:
            raise ValueError("name at least one of type, priority, project")
        return self


class StepOverride(Section):
    name: str
    limit_days: float = Field(gt=0)


class CooperationOverride(Section):
    blocked_days: float = Field(ge=0)


class RedlineOverride(Section):
    max_reopens: int = Field(ge=0)


class OverrideSettings(Section):
    when: OverrideWhen
    steps: list[StepOverride] = []
    habits: HabitSettings | None = None
    cooperation: CooperationOverride | None = None
    redlines: RedlineOverride | None = None


class RulesSettings(Section):
    disabled: list[str] = []
    #: Issues carrying any of these labels are not judged (and lose jira-chase's labels).
    exempt_labels: list[str] = []
    min_severity: Severities = "warn"
    family_min_severity: dict[str, Severities] = {}

    @field_validator("disabled", "family_min_severity")
    @classmethod
    def _known_families(cls, value: Any) -> Any:
        unknown = [name for name in value if name not in RULE_FAMILIES]
        if unknown:
            raise ValueError(
                f"unknown rule famil{'ies' if len(unknown) > 1 else 'y'} "
                f"{', '.join(repr(n) for n in unknown)} (known: {', '.join(RULE_FAMILIES)})"
            )
        return value


class WritebackSettings(Section):
    label_prefix: str = Field(default="chase-", min_length=1, pattern=r"^\S+$")
    comments: bool = True
    max_writes: int = Field(default=200, ge=0)
    on_recovery: Literal["edit", "delete", "keep"] = "edit"
    #: Rolling out: the findings a first sync meets are labelled, not commented; an
    #: issue gets its comment when it gains a finding it did not have before.
    baseline: bool = True
    #: What to do, by rule or rule family, quoted in the managed comment.
    hints: dict[str, str] = {}


class DigestSettings(Section):
    """The weekly check: one managed comment per period on one issue."""

    issue: str | None = Field(
        default=None, description="Jira issue key, or ZenTao item (story-N, task-N, bug-N)"
    )
    period: Literal["week"] = "week"
    weekday: Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] = "Mon"
    report_url: str | None = None

    _issue_key = field_validator("issue")(classmethod(lambda cls, value: issue_key(value)))

    @field_validator("report_url")
    @classmethod
    def _plain_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s|\[\]<>\"]+", value):
            raise ValueError(
                f"{value!r} is not a plain http(s) URL (no spaces, |, [, ], <, > or quotes)"
            )
        return value


class StateSettings(Section):
    path: Path = Path("jira-chase.sqlite")
    keep_days: float = Field(default=90, gt=0)
    #: Hours between full reads of the scope; the runs between read only what changed.
    full_read_hours: float = Field(default=24, gt=0)


class Settings(BaseSettings):
    """The whole configuration. Build it with `config_file.load_settings`, not directly."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    tracker: Literal["jira", "zentao"] = "jira"
    jira: JiraSettings | None = None
    zentao: ZenTaoSettings | None = None
    calendar: CalendarSettings = CalendarSettings()
    workflow: WorkflowSettings
    goals: list[GoalSettings] = []
    redlines: RedlineSettings = RedlineSettings()
    habits: HabitSettings = HabitSettings()
    focus: FocusSettings = FocusSettings()
    cooperation: CooperationSettings = CooperationSettings()
    metrics: MetricsSettings = MetricsSettings()
    skills: SkillsSettings = SkillsSettings()
    hygiene: HygieneSettings = HygieneSettings()
    overrides: list[OverrideSettings] = []
    rules: RulesSettings = RulesSettings()
    writeback: WritebackSettings = WritebackSettings()
    digest: DigestSettings = DigestSettings()
    state: StateSettings = StateSettings()
    teams: list[TeamSettings] = []
    report: ReportSettings = ReportSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment overrides it.
        return (SelectedTrackerEnv(settings_cls, env_settings, init_settings), init_settings)

    @property
    def cancelled_statuses(self) -> tuple[str, ...]:
        """`workflow.cancelled`, or the tracker's default when it is not given."""
        given = self.workflow.cancelled
        return tuple(given) if given is not None else CANCELLED_DEFAULTS[self.tracker]

    @property
    def cancelled_resolutions(self) -> tuple[str, ...]:
        """`workflow.cancelled_resolutions`, or the tracker's default."""
        given = self.workflow.cancelled_resolutions
        return tuple(given) if given is not None else CANCELLED_RESOLUTION_DEFAULTS[self.tracker]

    @model_validator(mode="after")
    def _digest_issue_of_the_tracker(self) -> Settings:
        issue = self.digest.issue
        if (
            self.tracker == "zentao"
            and issue is not None
            and not re.fullmatch(r"(story|task|bug)-[1-9][0-9]*", issue)
        ):
            raise ValueError(
                f"digest.issue {issue!r} is not a ZenTao item: use story-N, task-N or bug-N"
            )
        return self

    @model_validator(mode="after")
    def _team_names(self) -> Settings:
        check_team_names(self.teams)
        return self

    @model_validator(mode="after")
    def _tracker_section(self) -> Settings:
        if self.tracker == "jira" and self.jira is None:
            raise ValueError("tracker = 'jira' needs a [jira] section")
        if self.tracker == "zentao" and self.zentao is None:
            raise ValueError("tracker = 'zentao' needs a [zentao] section")
        step_names = {s.name for s in self.workflow.steps}
        for i, rf in enumerate(self.redlines.required_fields):
            if rf.when_step is not None and rf.when_step not in step_names:
                raise ValueError(
                    f"redlines.required_fields[{i}].when_step names unknown step "
                    f"{rf.when_step!r} (known: {', '.join(sorted(step_names)) or 'none'})"
                )
        for i, override in enumerate(self.overrides):
            for j, step in enumerate(override.steps):
                if step.name not in step_names:
                    raise ValueError(
                        f"overrides[{i}].steps[{j}].name names unknown step {step.name!r} "
                        f"(known: {', '.join(sorted(step_names)) or 'none'})"
                    )
        return self
