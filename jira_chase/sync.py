"""One run: pull, judge, plan and (for `sync`) write back, recorded in the state store.

Takes its source and store as arguments and never sees click or the config file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jira_chase.config import Settings
from jira_chase.errors import EXIT_OK, EXIT_PARTIAL, IssueError
from jira_chase.evaluate import Evaluation, evaluate
from jira_chase.plan import Operation, Plan, plan_writes
from jira_chase.sources.base import ServerIdentity, Source, SourceStats
from jira_chase.state import StateStore


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
        identity = source.identify()
        issues = source.fetch_issues()
        evaluation = evaluate(issues, settings, now)
        plan = plan_writes(
            evaluation,
            prefix=settings.writeback.label_prefix,
            max_writes=settings.writeback.max_writes,
        )
        result = RunResult(mode, now, identity, evaluation, plan, source.stats, run_id)
        for seq, op in enumerate(plan.operations):
            payload = op.to_dict()
            if not write:
                store.record_operation(run_id, seq, op.issue_key, op.kind, payload, "planned")
                continue
            store.record_operation(run_id, seq, op.issue_key, op.kind, payload, "started")
            try:
                source.apply(op)
            except IssueError as exc:
                result.failed.append((op, str(exc)))
                store.record_operation(
                    run_id, seq, op.issue_key, op.kind, payload, "failed", str(exc)
                )
                continue
            result.applied.append(op)
            store.record_operation(run_id, seq, op.issue_key, op.kind, payload, "done")
        store.finish_run(run_id, result.outcome, result.counts())
        return result
    except BaseException as exc:
        outcome = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        store.finish_run(run_id, outcome, {}, error=str(exc) or type(exc).__name__)
        raise
