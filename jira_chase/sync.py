"""One run: pull, judge, plan and (for `sync`) write back, recorded in the state store.

Takes its source and store as arguments and never sees click or the config file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from jira_chase.comment import ManagedComment
from jira_chase.config import Settings
from jira_chase.errors import EXIT_OK, EXIT_PARTIAL
from jira_chase.evaluate import Evaluation, evaluate
from jira_chase.model import Health
from jira_chase.plan import (
    BLOCKING,
    COMMENT_DELETE,
    COMMENT_UPDATE,
    LABELS,
    Operation,
    Plan,
    plan_writes,
)
from jira_chase.sources.base import Outcome, ScratchMemory, ServerIdentity, Source, SourceStats
from jira_chase.state import StateStore
from jira_chase.vet import check_workflow

log = logging.getLogger(__name__)


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

    @property
    def outcome(self) -> str:
        return "partial" if self.failed else "ok"

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if self.failed else EXIT_OK

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
        }


def managed_comments(
    source: Source, store: StateStore, evaluation: Evaluation, settings: Settings
) -> dict[str, ManagedComment]:
    """The managed comment of every judged issue: from the state store, and for an
    unhealthy issue the store knows no comment of, from the tracker itself — so a
    comment created just before a crash (or with a lost state file) is found again
    instead of duplicated. Plan and sync both do this, so the dry run stays exact."""
    known = store.managed_comments()
    if not settings.writeback.comments:
        return known
    for verdict in evaluation.verdicts:
        key = verdict.issue.key
        if verdict.health is Health.HEALTHY or key in known:
            continue
        found = source.find_managed_comment(key)
        if found is not None:
            log.info("%s: found the managed comment %s on the tracker", key, found.comment_id)
            known[key] = found
            store.save_comment(found)
    return known


def outside_blockers(
    source: Source, store: StateStore, evaluation: Evaluation, settings: Settings
) -> dict[str, tuple[str, ...]]:
    """Current labels of the out-of-scope issues that block ours, and of those we
    labelled as blocking before (so the label comes off when they stop blocking)."""
    if not settings.cooperation.label_blockers:
        return {}
    in_scope = {v.issue.key for v in evaluation.verdicts}
    label = settings.writeback.label_prefix + BLOCKING
    keys = (set(evaluation.blockers) | store.keys_carrying(label)) - in_scope
    return source.labels_of(sorted(keys)) if keys else {}


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


def _record_outcome(store: StateStore, outcome: Outcome) -> None:
    op = outcome.operation
    if outcome.error is not None:
        if op.kind == COMMENT_UPDATE and outcome.error.status == 404:
            # Someone deleted the comment: forget it so the next run writes a new one.
            store.forget_comment(op.issue_key)
        return
    if op.kind == COMMENT_DELETE:
        store.forget_comment(op.issue_key)
    elif op.kind != LABELS and op.comment is not None and outcome.comment_id is not None:
        store.save_comment(ManagedComment(op.issue_key, outcome.comment_id, op.comment.digest))


def run(
    source: Source, settings: Settings, store: StateStore, now: datetime, *, write: bool
) -> RunResult:
    """Judge the tracker's scope as of `now`; with `write`, perform the plan.

    Per-issue write failures are recorded and the run goes on; anything else aborts
    the run, which is then recorded as failed with its error.
    """
    mode = "sync" if write else "plan"
    run_id = store.start_run(mode, now)
    try:
        # A dry run reads what earlier runs learnt about the tracker but keeps nothing.
        source.use_memory(store if write else ScratchMemory(store))
        identity = source.identify()
        # A status the tracker does not have would judge every issue wrongly: stop
        # before anything is read or written.
        check_workflow(settings, source.known_names())
        issues = source.fetch_issues()
        evaluation = evaluate(issues, settings, now, bot_id=identity.user_id or None)
        managed = managed_comments(source, store, evaluation, settings)
        outside = outside_blockers(source, store, evaluation, settings)
        plan = plan_writes(evaluation, settings.writeback, managed, outside)
        result = RunResult(mode, now, identity, evaluation, plan, source.stats, run_id)
        seq = {id(op): n for n, op in enumerate(plan.operations)}
        if not write:
            for op in plan.operations:
                store.record_operation(run_id, seq[id(op)], op.issue_key, op.kind,
                                       op.to_dict(), "planned")  # fmt: skip
        else:
            for batch in batches(plan.operations):
                for op in batch:
                    store.record_operation(run_id, seq[id(op)], op.issue_key, op.kind,
                                           op.to_dict(), "started")  # fmt: skip
                for outcome in source.apply(batch):
                    op = outcome.operation
                    _record_outcome(store, outcome)
                    if outcome.error is None:
                        result.applied.append(op)
                        status, error = "done", None
                    else:
                        result.failed.append((op, str(outcome.error)))
                        status, error = "failed", str(outcome.error)
                        log.warning("%s", outcome.error)
                    store.record_operation(run_id, seq[id(op)], op.issue_key, op.kind,
                                           op.to_dict(), status, error)  # fmt: skip
            # Report in plan order, whatever order the batches went in.
            result.applied.sort(key=lambda op: seq[id(op)])
            result.failed.sort(key=lambda failure: seq[id(failure[0])])
        store.finish_run(run_id, result.outcome, result.counts())
        return result
    except BaseException as exc:
        ending = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        store.finish_run(run_id, ending, {}, error=str(exc) or type(exc).__name__)
        raise
