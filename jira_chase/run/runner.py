"""What the `plan`, `sync`, `check`, `explain` and `demo` commands share: building the
source, timing a run, recording what it cost in the run history, and the metrics file."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jira_chase.config.file import load_settings
from jira_chase.config.settings import Settings
from jira_chase.engine.evaluate import Verdict, evaluate
from jira_chase.engine.idle_setup import idle_setup_warnings
from jira_chase.engine.plan import Operation
from jira_chase.engine.progress import JUDGING, NO_PROGRESS, PULLING, WRITING, Progress, connecting
from jira_chase.errors import EXIT_UNEXPECTED, ChaseError, ConfigError
from jira_chase.run import digest, goal_comment, metrics_file
from jira_chase.run.digest import DigestOutcome
from jira_chase.run.goal_comment import GoalCommentOutcome
from jira_chase.run.pipeline import RunResult, run
from jira_chase.run.vet import CheckResult, check_workflow, estimate_field_problem, with_backlog
from jira_chase.sources.base import ScratchMemory, Source, SourceStats
from jira_chase.store import trends
from jira_chase.store.state import RunRecord, StateStore, run_lock, unusable_state
from jira_chase.store.trends import run_details

EXIT_INTERRUPTED = 130


def parse_now(value: str | None) -> datetime:
    """`--now`: an ISO 8601 time (UTC when it has no offset) or a date (midnight UTC)."""
    if value is None:
        return datetime.now(timezone.utc)
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            [f"--now: {value!r} is not an ISO 8601 time like 2026-11-20T16:00:00Z"]
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def tracker_url(settings: Settings) -> str:
    tracker = settings.jira if settings.tracker == "jira" else settings.zentao
    return str(tracker.url) if tracker is not None else ""


def make_source(settings: Settings, store: StateStore | None = None) -> Source:
    if settings.tracker == "jira":
        from jira_chase.sources.jira import JiraSource

        assert settings.jira is not None
        # Issue snapshots live in the state store: a run reads only what changed.
        return JiraSource(
            settings.jira,
            snapshots=store,
            full_read_every=timedelta(hours=settings.state.full_read_hours),
        )
    if settings.tracker == "zentao":
        from jira_chase.sources.zentao.source import ZenTaoSource

        assert settings.zentao is not None
        # Item snapshots live in the state store, so unchanged items are not read again.
        return ZenTaoSource(settings.zentao, snapshots=store)
    raise ConfigError(
        [f"tracker: {settings.tracker!r} is not supported by this version; use 'jira' or "
         "'zentao'"]
    )  # fmt: skip


@dataclass
class Finished:
    result: RunResult
    duration: float
    #: What became of the weekly check comment (`[digest]`), when one is configured.
    digest: DigestOutcome | None = None
    #: What became of each goal's comment on its issue (`goals[].issue`).
    goal_comments: list[GoalCommentOutcome] = field(default_factory=list)

    @property
    def posted(self) -> list[DigestOutcome | GoalCommentOutcome]:
        """The comments written besides the plan's: the weekly check, the goals'."""
        return ([self.digest] if self.digest is not None else []) + self.goal_comments


@dataclass
class Watched:
    """What the block inside `metrics_written` tells it: the run once finished, and
    the source (whose request counts a failed run still reports)."""

    finished: Finished | None = None
    source: Source | None = None


class _Tally:
    """Passes progress on and remembers the totals, so a run cut short can still say
    how many issues it judged and how many writes it planned."""

    def __init__(self, inner: Progress):
        self.inner = inner
        self.totals: dict[str, int] = {}
        self.current = ""

    def phase(self, name: str, total: int | None = None) -> None:
        self.current = name
        if total is not None:
            self.totals[name] = total
        self.inner.phase(name, total)

    def advance(self, count: int = 1, *, total: int | None = None) -> None:
        self.inner.advance(count, total=total)

    def write_failed(self, operation: Operation, error: str) -> None:
        self.inner.write_failed(operation, error)

    def counts(self, writes: dict[str, int]) -> dict[str, int]:
        counts = dict(writes)
        if JUDGING in self.totals:
            counts["issues"] = self.totals[JUDGING]
        if WRITING in self.totals:
            counts["planned"] = self.totals[WRITING]
        return counts


def execute(
    settings: Settings,
    now: datetime,
    *,
    write: bool,
    wait: float = 0.0,
    force: bool = False,
    retry_refused: bool = False,
    progress: Progress = NO_PROGRESS,
    watched: Watched | None = None,
) -> Finished:
    """One run, timed. `sync` holds the state file's lock for the whole run (waiting up
    to `wait` seconds for another run) and records in the run history what the run cost
    and the team's state it saw — also when it fails, even before the tracker answered.
    `plan` reads a snapshot of the state and never writes it, so it needs no lock.
    `watched` learns of the source as soon as there is one. `force` and `retry_refused`
    as `sync.run` takes them."""
    watched = watched if watched is not None else Watched()
    path = settings.state.path
    try:
        if not write:
            with StateStore(path, readonly=True) as store:
                return _timed(settings, store, now, False, force, retry_refused, progress,
                              watched)  # fmt: skip
        with run_lock(path, wait), StateStore(path) as store:
            return _timed(settings, store, now, True, force, retry_refused, progress, watched)
    except sqlite3.Error as exc:
        # The state file failed under the run (disk full, file removed or replaced).
        raise unusable_state(path, exc) from exc


def _timed(
    settings: Settings,
    store: StateStore,
    now: datetime,
    write: bool,
    force: bool,
    retry_refused: bool,
    progress: Progress,
    watched: Watched,
) -> Finished:
    tally = _Tally(progress)
    started = time.monotonic()
    before = store.last_run_id()
    try:
        tally.phase(connecting(tracker_url(settings)))
        watched.source = make_source(settings, store)
        result = run(watched.source, settings, store, now, write=write, force=force,
                     retry_refused=retry_refused, progress=tally)  # fmt: skip
    except BaseException as exc:
        run_id = store.last_run_id()
        if run_id == before:  # the source failed before the run began
            run_id = store.start_run("sync" if write else "plan", now)
            ending = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            store.finish_run(run_id, ending, {}, error=str(exc) or type(exc).__name__)
        stats = watched.source.stats if watched.source is not None else SourceStats()
        store.set_counts(run_id, tally.counts(store.write_counts(run_id)))
        store.record_run_cost(
            run_id,
            duration_seconds=time.monotonic() - started,
            requests=stats.requests,
            retries=stats.retries,
        )
        raise
    weekly = None
    goals: list[GoalCommentOutcome] = []
    try:
        if write:
            trends.record(store, result.run_id, "sync", result.evaluation)
            weekly = digest.post_digest(watched.source, store, settings, result.evaluation)
            goals = goal_comment.post_goal_comments(
                watched.source, store, settings, result.evaluation
            )
    finally:
        # Taken once the weekly check and the goals' comments are written too: the run
        # history, the summary and the metrics file give the run's cost from this one
        # count (and time).
        duration = time.monotonic() - started
        store.record_run_cost(
            result.run_id,
            duration_seconds=duration,
            requests=result.stats.requests,
            retries=result.stats.retries,
            details=run_details(result.evaluation),
        )
    watched.finished = Finished(result, duration, weekly, goals)
    return watched.finished


@contextmanager
def metrics_written(path: Path | None, mode: str) -> Iterator[Watched]:
    """Write the metrics file when the block ends, however it ends (a config error, a
    tracker failure, an interrupt): monitoring must see failed runs too."""
    watched = Watched()
    started = time.monotonic()
    outcome, exit_code = "failed", EXIT_UNEXPECTED
    try:
        yield watched
        if watched.finished is not None:
            outcome = watched.finished.result.outcome
            exit_code = watched.finished.result.exit_code
    except ChaseError as exc:
        exit_code = exc.exit_code
        raise
    except KeyboardInterrupt:
        outcome, exit_code = "interrupted", EXIT_INTERRUPTED
        raise
    finally:
        if path is not None:
            done = watched.finished
            stats = (
                done.result.stats
                if done is not None
                else watched.source.stats
                if watched.source is not None
                else SourceStats()
            )
            text = metrics_file.render_metrics(
                mode=mode,
                outcome=outcome,
                exit_code=exit_code,
                duration=done.duration if done is not None else time.monotonic() - started,
                requests=stats.requests,
                retries=stats.retries,
                result=done.result if done is not None else None,
            )
            metrics_file.write(path, text)


def terminate(signum: int, frame: Any) -> None:
    # SIGTERM (cron timeouts, systemd stop) ends the run like Ctrl-C: recorded with the
    # writes it made, lock released, and the next run finishes the job.
    raise KeyboardInterrupt


def run_once(
    mode: str,
    config_path: Path | None,
    now: str | None,
    *,
    metrics_path: Path | None,
    wait: float = 0.0,
    force: bool = False,
    retry_refused: bool = False,
    display: Callable[[], AbstractContextManager[Progress]],
) -> tuple[Settings, Finished]:
    """`plan` or `sync` as the commands run them: the metrics file is checked before
    anything and written however the run ends; the configuration and `now` (the `--now`
    text) are read inside that, so a bad one is in the metrics too; a `sync` ends on
    SIGTERM as on Ctrl-C. `display` shows the run's progress."""
    if metrics_path is not None:
        metrics_file.check_writable(metrics_path)
    with metrics_written(metrics_path, mode) as watched:
        settings = load_settings(config_path)
        moment = parse_now(now)
        if mode == "sync":
            signal.signal(signal.SIGTERM, terminate)
        with display() as progress:
            execute(settings, moment, write=mode == "sync", wait=wait, force=force,
                    retry_refused=retry_refused, progress=progress, watched=watched)  # fmt: skip
    finished = watched.finished
    assert finished is not None
    return settings, finished


def check_setup(
    settings: Settings, now: str | None, *, progress: Progress = NO_PROGRESS
) -> CheckResult:
    """`check`: sign in, check every status `[workflow]` names and the scope query, then
    read and judge the scope to say what cannot be judged. `now` (the `--now` text) is
    read only when there is something to judge. Writes nothing anywhere."""
    progress.phase(connecting(tracker_url(settings)))
    source = make_source(settings)
    identity = source.identify()
    settings = check_workflow(settings, source)
    matches = source.validate_scope()
    modes: dict[str, bool | None] = {}
    if settings.tracker == "jira":
        from jira_chase.sources.jira import JiraSource

        assert isinstance(source, JiraSource)
        reader = source.reader
        problem = estimate_field_problem(settings, reader.estimate_field(), reader.number_fields())
        if problem:
            raise ConfigError([problem])
        modes = source.notification_modes()
    if not matches:
        return CheckResult(identity, matches, notification_modes=modes)
    issues = source.fetch_issues()
    evaluation = evaluate(issues, settings, parse_now(now), bot_id=identity.user_id or None)
    return CheckResult(
        identity,
        matches,
        issues_read=len(issues),
        coverage=evaluation.coverage.to_dict(),
        warnings=evaluation.coverage.lines(len(issues)) + idle_setup_warnings(settings, evaluation),
        notification_modes=modes,
    )


@dataclass(frozen=True)
class Explanation:
    """One issue judged as of `now`, and what the last sync wrote on it."""

    verdict: Verdict
    now: datetime
    last_run: RunRecord | None
    last_writes: list[dict[str, object]]


def explain_issue(
    settings: Settings, key: str, now: datetime, *, progress: Progress = NO_PROGRESS
) -> Explanation:
    """Judge the scope as of `now` without recording a run or writing to the tracker,
    and return one issue's verdict with the writes the last sync made on it."""
    with StateStore(settings.state.path, readonly=True) as store:
        source = make_source(settings, store)
        source.use_memory(ScratchMemory(store))
        identity = source.identify()
        settings = with_backlog(settings, source.known_names())
        progress.phase(PULLING)
        issues = source.fetch_issues(progress)
        progress.phase(JUDGING, len(issues))
        evaluation = evaluate(issues, settings, now, bot_id=identity.user_id or None)
        progress.advance(len(issues))
        verdict = next((v for v in evaluation.verdicts if v.issue.key.casefold() ==
                        key.casefold()), None)  # fmt: skip
        if verdict is None:
            raise ConfigError(
                [f"explain: {key} is not in the scope the configuration chases; check the key "
                 "and the scope query"]
            )  # fmt: skip
        last = store.last_operations(verdict.issue.key)
    return Explanation(verdict, now, last[0] if last else None, last[1] if last else [])
