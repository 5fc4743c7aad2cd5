"""One run: pull, judge, plan and (for `sync`) write back, recorded in the state store.

`run` reads as its stages, each a function taking and returning plain values. The state
store is read once at the start (`recall`: what earlier runs left) and written at the
end (`finish`: what this run did); in between only `write_back` touches it, because each
write must be recorded as it is made (see recording.py). Takes its source and store as
arguments and never sees click or the config file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from jira_chase.config.settings import Settings
from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.evaluate import Evaluation, evaluate
from jira_chase.engine.model import Health, Issue
from jira_chase.engine.plan import (
    BLOCKING,
    COMMENT_CREATE,
    LABELS,
    Operation,
    Plan,
    Seen,
    attention,
    is_managed,
    plan_writes,
    project_of,
    writable_labels,
)
from jira_chase.engine.progress import JUDGING, NO_PROGRESS, PULLING, WRITING, Progress
from jira_chase.errors import EXIT_OK, EXIT_PARTIAL, ConfigError, TrackerError
from jira_chase.run.recording import WriteRecorder
from jira_chase.run.refusals import Refusal, RefusalTally, in_force
from jira_chase.run.vet import check_workflow
from jira_chase.sources.base import (
    SITE_FACTS,
    Outcome,
    ServerIdentity,
    Source,
    SourceStats,
)
from jira_chase.store.state import StateStore

log = logging.getLogger(__name__)


#: How often a run searches the tracker for its labels outside the scope.
SWEEP_EVERY = timedelta(days=1)
SWEEP = "sweep"


class ScopeCollapsed(TrackerError):
    """The scope suddenly matched far fewer issues than before; nothing was written."""


@dataclass(frozen=True)
class Known:
    """What the state store knows at the start of a run."""

    #: The tracker and account the state file belongs to (empty: none yet).
    tracker: dict[str, str]
    #: How many issues the last completed run judged (None before the first).
    last_scope_size: int | None
    #: Issue key -> the labels jira-chase put there and has not taken off since.
    owned_labels: dict[str, tuple[str, ...]]
    #: Issue key -> the bot's comment there as last written.
    comments: dict[str, ManagedComment]
    #: What earlier syncs saw of each issue's findings, and the issues unhealthy since
    #: the baseline that have not recovered since.
    seen: Seen
    since_rollout: frozenset[str]
    #: When a run last searched the tracker for its labels outside the scope.
    swept: datetime | None
    #: The projects that refused every write within a day of the run's time.
    refusals: dict[str, Refusal]


@dataclass
class Found:
    """What the tracker showed beyond the scope's issues, for the plan."""

    #: The managed comment of each issue that has one, and extra copies to delete.
    comments: dict[str, ManagedComment]
    duplicates: dict[str, list[ManagedComment]]
    #: Current labels of the issues that left the scope, and of blockers outside it.
    left_scope: dict[str, tuple[str, ...]]
    blockers: dict[str, tuple[str, ...]]
    #: Issues the state knew that are no longer on the tracker (deleted, moved, hidden).
    vanished: list[str] = field(default_factory=list)
    #: When this run searched for its labels outside the scope (None: it did not).
    swept: datetime | None = None


@dataclass
class RunResult:
    mode: str
    now: datetime
    identity: ServerIdentity
    evaluation: Evaluation
    plan: Plan
    stats: SourceStats
    run_id: int
    applied: list[Operation] = field(default_factory=list)
    failed: list[tuple[Operation, str]] = field(default_factory=list)
    #: Issues outside the scope cleaned this run, and extra managed comments deleted.
    left_scope: int = 0
    duplicates: int = 0
    #: No sync has taken the baseline yet: this run (a sync) takes it, or (a plan) shows
    #: what the sync that takes it will write.
    baseline_run: bool = False
    #: The projects whose writes this run held back (`plan.held_back`), by project key,
    #: and those that refused every write this run (held back from the next one).
    held: dict[str, Refusal] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return "partial" if self.failed else "ok"

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if self.failed else EXIT_OK

    def attention(self, settings: Settings) -> dict[str, object]:
        """What this run costs the team's attention (see `plan.attention`)."""
        ops = self.applied if self.mode == "sync" else self.plan.operations
        created = sum(1 for op in ops if op.kind == COMMENT_CREATE)
        return attention(self.evaluation, self.plan, settings.writeback, created)

    def counts(self) -> dict[str, int]:
        unhealthy = self.evaluation.unhealthy()
        return {
            "issues": len(self.evaluation.verdicts),
            "unhealthy": len(unhealthy),
            "findings": sum(len(v.findings) for v in unhealthy),
            "planned": len(self.plan.operations),
            "applied": len(self.applied),
            "failed": len(self.failed),
            "deferred": len(self.plan.deferred),
            "held_back": len(self.plan.held_back),
        }


def managed_comments(
    source: Source,
    recalled: Known,
    evaluation: Evaluation,
    settings: Settings,
    bot_id: str | None = None,
) -> tuple[dict[str, ManagedComment], dict[str, list[ManagedComment]]]:
    """The managed comment of every judged issue, and any extra copies of it to delete.

    Where the issue came with all its comments (`Issue.comments_complete`), they say
    whether the bot has commented: no comment by the bot means there is none (a person
    may have deleted it: it is forgotten), and one that the store knows means nothing
    to look up. The tracker is asked only when that leaves a doubt — the store does not
    know the bot's comment, or the bot has several — so a first run and a dry run cost
    no request per issue. Without complete comments, an unhealthy issue the store knows
    no comment of is looked up, so a comment created just before a crash (or with a
    lost state file) is found again instead of duplicated. Plan and sync both do this,
    so the dry run stays exact."""
    known = dict(recalled.comments)
    duplicates: dict[str, list[ManagedComment]] = {}
    if not settings.writeback.comments:
        return known, duplicates
    for verdict in evaluation.verdicts:
        issue = verdict.issue
        key = issue.key
        stored = known.get(key)
        if issue.comments_complete and bot_id:
            mine = [c.id for c in issue.comments if c.by == bot_id]
            if not mine:
                if stored is not None:
                    log.info("%s: the managed comment %s is gone", key, stored.comment_id)
                    del known[key]
                continue
            if stored is not None and mine == [stored.comment_id]:
                continue
        elif verdict.health is Health.HEALTHY or stored is not None:
            continue
        found = source.managed_comments(key)
        if not found:
            if stored is not None and issue.comments_complete:
                del known[key]
            continue
        keep = next((c for c in found if stored and c.comment_id == stored.comment_id), found[0])
        if stored is None or stored.comment_id != keep.comment_id:
            log.info("%s: found the managed comment %s on the tracker", key, keep.comment_id)
        known[key] = keep
        extras = [c for c in found if c.comment_id != keep.comment_id]
        if extras:
            log.info("%s: %d duplicate managed comment(s) to delete", key, len(extras))
            duplicates[key] = extras
    return known, duplicates


def outside_scope(
    source: Source,
    known: Known,
    evaluation: Evaluation,
    settings: Settings,
    managed: dict[str, ManagedComment],
) -> Found:
    """Current labels of the issues outside the scope that the plan must look at:
    issues that left the scope, blockers of ours in other projects.

    Issues that left the scope are those the state store knows we labelled or
    commented, plus — so that a lost state leaves no debris — those a tracker search
    for our own label names finds in the scope's projects. Blockers are the issues that
    block ours now, those we labelled as blocking before, and those the search finds
    with the blocking label that an issue in the scope links to."""
    prefix = settings.writeback.label_prefix
    blocking = (prefix + BLOCKING).casefold()
    in_scope = {v.issue.key for v in evaluation.verdicts}
    linked = {link.key for v in evaluation.verdicts for link in v.issue.links}
    owned = known.owned_labels

    def only_blocking(labels: tuple[str, ...]) -> bool:
        ours = [lbl for lbl in labels if is_managed(lbl, prefix)]
        return all(lbl.casefold() == blocking for lbl in ours)

    left: set[str] = {
        key for key, labels in owned.items() if key not in in_scope and not only_blocking(labels)
    }
    left |= {key for key in managed if key not in in_scope}
    blockers: set[str] = set()
    if settings.cooperation.label_blockers:
        carrying = {key for key, labels in owned.items() if blocking in map(str.casefold, labels)}
        blockers = (set(evaluation.blockers) | carrying) - in_scope
    scope_projects = {v.issue.project for v in evaluation.verdicts}
    projects = set(scope_projects)
    if settings.cooperation.label_blockers:
        projects |= {link.project for v in evaluation.verdicts for link in v.issue.links}
    found: dict[str, tuple[str, ...]] = {}
    swept = None
    if known.swept is None or abs(evaluation.now - known.swept) >= SWEEP_EVERY:
        # The state knows what it wrote; the search is for what it cannot know (a lost
        # or restored state file): at its first run, then once a day.
        found = source.find_labelled(writable_labels(prefix), sorted(projects))
        swept = evaluation.now
    labels: dict[str, tuple[str, ...]] = {}
    for key, current in found.items():
        if key in in_scope:
            continue
        if not only_blocking(current):
            # Health labels are ours only in the scope's projects: in another team's
            # project they may be another setup's (each owns its label prefix).
            if key.rsplit("-", 1)[0] in scope_projects or key in owned:
                left.add(key)
                labels[key] = current
        elif key in linked and settings.cooperation.label_blockers:
            blockers.add(key)
            labels[key] = current
    blockers -= left
    unknown = sorted((left | blockers) - set(labels))
    if unknown:
        labels.update(source.labels_of(unknown))
    vanished = sorted(set(unknown) - set(labels))
    for key in vanished:
        # Deleted, moved, or no longer visible to the bot: nothing left to clean there.
        log.info("%s: no longer on the tracker; forgetting its labels and comment", key)
        managed.pop(key, None)
    left_labels = {key: labels[key] for key in sorted(left) if key in labels}
    if settings.writeback.comments:
        for key in left_labels:
            if key not in managed:
                # Found by its labels after a lost state: its comment is to be found too.
                comments = source.managed_comments(key)
                if comments:
                    managed[key] = comments[0]
    outside = {key: labels[key] for key in sorted(blockers) if key in labels}
    return Found(managed, {}, left_labels, outside, vanished, swept)


def batches(operations: Sequence[Operation]) -> Iterator[list[Operation]]:
    """The plan in order, identical label changes together (a source may send them as
    one bulk edit), every other operation on its own."""
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Operation]] = {}
    for op in operations:
        if op.kind == LABELS:
            groups.setdefault((op.add, op.remove), []).append(op)
    sent: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for op in operations:
        if op.kind != LABELS:
            yield [op]
            continue
        change = (op.add, op.remove)
        if change not in sent:
            sent.add(change)
            yield groups[change]


def seen_changes(
    result: RunResult, seen: Seen, since_rollout: frozenset[str]
) -> tuple[dict[str, frozenset[str] | None], set[str]]:
    """What this sync saw of each issue's findings, for the baseline, as changes to what
    earlier syncs saw (None: forget the issue), and the issues unhealthy since the
    baseline: an issue whose new comment was not written (deferred, failed, held back)
    keeps what it had, so the next sync still finds its finding new; a healthy issue is
    forgotten (when it breaks again, that is new)."""
    evaluation, plan = result.evaluation, result.plan
    created = {op.issue_key for op in result.applied if op.kind == COMMENT_CREATE}
    waiting = {
        op.issue_key
        for op in (*plan.operations, *plan.deferred, *plan.held_back)
        if op.kind == COMMENT_CREATE and op.issue_key not in created
    }
    changes: dict[str, frozenset[str] | None] = {}
    rollout = set(since_rollout)
    judged = set()
    for verdict in evaluation.verdicts:
        key = verdict.issue.key
        judged.add(key)
        if not verdict.findings:
            if key in seen.findings:
                changes[key] = None
            rollout.discard(key)
            continue
        if key in waiting:
            continue
        found = frozenset(f.identity for f in verdict.findings)
        if seen.first:
            rollout.add(key)
        if seen.findings.get(key) != found or (key in rollout) != (key in since_rollout):
            changes[key] = found
    for key in seen.findings.keys() - judged:
        changes[key] = None
        rollout.discard(key)
    return changes, rollout


def check_tracker(
    bound: dict[str, str], identity: ServerIdentity, path: Path
) -> dict[str, str] | None:
    """A state file belongs to one tracker and one account: the identity to bind a new
    one to (None when it is bound already), and another's refused (its comment ids and
    labels would be wrong there)."""
    current = {
        "url": identity.url.rstrip("/").casefold(),
        "deployment": identity.deployment.casefold(),
        "user": identity.user,
    }
    if not bound:
        return current
    differs = [name for name in current if name in bound and bound[name] != current[name]]
    if differs:
        was = ", ".join(f"{name} {bound[name]!r}" for name in differs)
        now = ", ".join(f"{name} {current[name]!r}" for name in differs)
        raise ConfigError(
            [
                f"state.path: {path} belongs to another tracker or account ({was}; "
                f"this run: {now}). Set a new state.path for this one (jira-chase rebuilds "
                "its state from the tracker), or point the config back at the old tracker"
            ]
        )
    return None


def check_scope_size(
    issues: Sequence[Issue], known: Known, settings: Settings, *, force: bool
) -> None:
    """Do not believe a scope that suddenly returns nothing, or less than half of what
    the last run saw, while our labels or comments are out there: a broken filter, a
    permission change or a tracker hiccup would otherwise make the run take them all
    off. `force` accepts the smaller scope."""
    if force:
        return
    last = known.last_scope_size
    carrying = len(set(known.owned_labels) | set(known.comments))
    if not carrying or last is None or last == 0:
        return
    if len(issues) == 0 or len(issues) < last / 2:
        raise ScopeCollapsed(
            f"the scope matched {len(issues)} issues, the last run {last}, while {carrying} "
            f"issues carry jira-chase's labels or comment: nothing was written. If the scope "
            f"really shrank ({scope_key(settings)}), run once with --force"
        )


def scope_key(settings: Settings) -> str:
    return "jira.scope" if settings.tracker == "jira" else "zentao.products/zentao.executions"


def run(
    source: Source,
    settings: Settings,
    store: StateStore,
    now: datetime,
    *,
    write: bool,
    force: bool = False,
    retry_refused: bool = False,
    progress: Progress = NO_PROGRESS,
) -> RunResult:
    """Judge the tracker's scope as of `now`; with `write`, perform the plan.
    `progress` hears of each phase (pulling, judging, writing) and each failed write.
    The writes to a Jira project that refused every write within the last day are held
    back (see `jira_chase.run.refusals`) unless `retry_refused`.

    Per-issue write failures are recorded and the run goes on; anything else aborts
    the run, which is then recorded with its error and the writes it did make.
    """
    mode = "sync" if write else "plan"
    run_id = store.start_run(mode, now)
    result: RunResult | None = None
    try:
        identity, known = recall(source, store, now)
        # A status the tracker does not have would judge every issue wrongly: stop
        # before anything is read or written.
        settings = check_workflow(settings, source)
        issues = pull(source, progress)
        check_scope_size(issues, known, settings, force=force)
        evaluation = judge(issues, settings, now, identity, progress)
        found = look_up(source, known, evaluation, settings, identity)
        # (Jira's projects: ZenTao's privileges are per kind of item, not per product)
        refusals = identity.tracker == "jira"
        held = known.refusals if refusals and not retry_refused else {}
        plan = plan_writes(
            evaluation, settings.writeback, found.comments, found.blockers,
            left_scope=found.left_scope, duplicates=found.duplicates, seen=known.seen,
            held=held,
        )  # fmt: skip
        result = RunResult(mode, now, identity, evaluation, plan, source.stats, run_id)
        touched = {project_of(op.issue_key) for op in plan.held_back}
        result.held = {project: held[project] for project in sorted(touched)}
        result.baseline_run = known.seen.first
        result.left_scope = len(found.left_scope)
        result.duplicates = sum(len(extras) for extras in found.duplicates.values())
        if write:
            write_back(source, store, result, known, found, progress, refusals=refusals)
        else:
            # A dry run keeps what it found too (a plan's copy of the state drops it):
            # the next run need not look again.
            remember_found(store, known, found)
        finish(store, result, known, settings)
        return result
    except BaseException as exc:
        finish_cut_short(store, run_id, result, exc)
        raise


def recall(source: Source, store: StateStore, now: datetime) -> tuple[ServerIdentity, Known]:
    """The start: what earlier runs left in the state store, the store handed to the
    source as its memory, and the tracker the state file belongs to checked, or bound
    when the file is new. What the source learns of the tracker is kept like the issue
    snapshots: a report keeps it for the next run; a plan's store is a copy in memory,
    dropped at its end."""
    source.use_memory(store)
    identity = source.identify()
    taken, seen_findings, since_rollout = store.seen_findings()
    swept = store.recall(SWEEP).get("labels")
    known = Known(
        tracker=store.tracker_identity(),
        last_scope_size=store.last_scope_size(),
        owned_labels=store.owned_labels(),
        comments=store.managed_comments(),
        seen=Seen(first=taken is None, findings=seen_findings),
        since_rollout=frozenset(since_rollout),
        swept=datetime.fromisoformat(swept) if swept else None,
        refusals=in_force(store, now),
    )
    unbound = check_tracker(known.tracker, identity, store.path)
    if unbound is not None:
        store.bind_tracker(unbound)
    return identity, known


def pull(source: Source, progress: Progress) -> list[Issue]:
    """Every issue in the scope, as the tracker has it now."""
    progress.phase(PULLING)
    return source.fetch_issues(progress)


def judge(
    issues: Sequence[Issue],
    settings: Settings,
    now: datetime,
    identity: ServerIdentity,
    progress: Progress,
) -> Evaluation:
    """The rules over every issue, as of `now`."""
    progress.phase(JUDGING, len(issues))
    evaluation = evaluate(issues, settings, now, bot_id=identity.user_id or None)
    progress.advance(len(issues))
    return evaluation


def look_up(
    source: Source,
    known: Known,
    evaluation: Evaluation,
    settings: Settings,
    identity: ServerIdentity,
) -> Found:
    """What the plan needs from the tracker besides the scope's issues: the managed
    comments the store cannot vouch for, and the labels of issues outside the scope."""
    comments, duplicates = managed_comments(
        source, known, evaluation, settings, identity.user_id or None
    )
    found = outside_scope(source, known, evaluation, settings, comments)
    found.duplicates = duplicates
    return found


def write_back(
    source: Source,
    store: StateStore,
    result: RunResult,
    known: Known,
    found: Found,
    progress: Progress,
    *,
    refusals: bool,
) -> None:
    """Perform the result's plan, batch by batch, into `result.applied` and
    `result.failed` (in plan order once done; as they come while it runs, so a run cut
    short counts what it did). The one stage that writes the store while it works:
    first what the run found on the tracker, then each batch as it is sent
    (`WriteRecorder`), so a run killed at any moment has recorded every write it sent."""
    plan, applied, failed = result.plan, result.applied, result.failed
    progress.phase(WRITING, len(plan.operations))
    remember_found(store, known, found)
    seq = {id(op): n for n, op in enumerate(plan.operations)}
    recorder = WriteRecorder(store, result.run_id, seq)
    tally = RefusalTally()
    outcomes: list[Outcome] = []
    for batch in batches(plan.operations):
        recorder.record(outcomes, starting=batch)
        outcomes = list(source.apply(batch))
        tally.add(outcomes)
        for outcome in outcomes:
            op = outcome.operation
            if outcome.error is None:
                applied.append(op)
            else:
                failed.append((op, str(outcome.error)))
                progress.write_failed(op, str(outcome.error))
            progress.advance()
    recorder.record(outcomes)
    if refusals:
        # (a project that refused every write is held back for a day; one that took
        # one is forgiven)
        result.refused = tally.learn(store, result.now)
    # Report in plan order, whatever order the batches went in.
    applied.sort(key=lambda op: seq[id(op)])
    failed.sort(key=lambda failure: seq[id(failure[0])])


def remember_found(store: StateStore, known: Known, found: Found) -> None:
    """Keep what the run found on the tracker, in one transaction: the managed comments
    as found there, the issues no longer there forgotten, when it last searched."""
    with store.transaction():
        for key in found.vanished:
            store.record_labels(key, (), known.owned_labels.get(key, ()))
            store.forget_comment(key)
        for key in known.comments.keys() - found.comments.keys():
            store.forget_comment(key)
        for key, comment in found.comments.items():
            if known.comments.get(key) != comment:
                store.save_comment(comment)
        if found.swept is not None:
            store.remember(SWEEP, "labels", found.swept.isoformat())


def finish(store: StateStore, result: RunResult, known: Known, settings: Settings) -> None:
    """The end: what the run saw of each issue's findings (a sync), how it ended and its
    counts, and old runs pruned (a sync)."""
    if result.mode == "sync":
        changes, rollout = seen_changes(result, known.seen, known.since_rollout)
        store.record_seen(changes, rollout, result.now if known.seen.first else None)
    store.finish_run(result.run_id, result.outcome, result.counts())
    if result.mode == "sync":
        store.prune(settings.state.keep_days)


def finish_cut_short(
    store: StateStore, run_id: int, result: RunResult | None, exc: BaseException
) -> None:
    """The end of a run cut short: how it ended, with the counts it got to."""
    if isinstance(exc, Exception):
        # What the tracker said rarely changes may be why it failed: ask it again.
        store.forget_kind(SITE_FACTS)
    ending = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
    counts = result.counts() if result is not None else {}
    store.finish_run(run_id, ending, counts, error=str(exc) or type(exc).__name__)
