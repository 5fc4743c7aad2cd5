"""How a sync keeps its writes in the state store while it performs them.

Each batch of the plan (one operation, or identical label changes sent together) is
recorded in one transaction: its operations as `started` before anything is sent, and
in the same transaction the outcomes of the batch before it (each operation `done` or
`failed`, and what a success changes in the store: the labels jira-chase owns on the
issue, its managed comment). So a run commits once per batch rather than once per
statement, and a run killed at any moment leaves the store as a run killed between two
statements did: every write sent is at least `started`, and what one changed that the
store missed is found on the tracker by the next run (its labels and comments).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.plan import COMMENT_DELETE, COMMENT_UPDATE, LABELS, Operation
from jira_chase.sources.base import Outcome
from jira_chase.store.state import StateStore


def record_outcome(store: StateStore, outcome: Outcome) -> None:
    """What a write's outcome changes in the store besides its operation row."""
    op = outcome.operation
    if outcome.error is not None:
        if op.kind == COMMENT_UPDATE and outcome.error.status == 404:
            # Someone deleted the comment: forget it so the next run writes a new one.
            store.forget_comment(op.issue_key, op.comment_id)
        return
    if op.kind == LABELS:
        store.record_labels(op.issue_key, op.add, op.remove)
    elif op.kind == COMMENT_DELETE:
        store.forget_comment(op.issue_key, op.comment_id)
    elif op.comment is not None and outcome.comment_id is not None:
        store.save_comment(ManagedComment(op.issue_key, outcome.comment_id, op.comment.digest))


class WriteRecorder:
    """Records one sync run's operations; `seq` is each operation's place in the plan
    (by `id()`)."""

    def __init__(self, store: StateStore, run_id: int, seq: dict[int, int]):
        self.store = store
        self.run_id = run_id
        self.seq = seq
        self._payloads: dict[int, str] = {}

    def _payload(self, op: Operation) -> str:
        # Serialized once per operation, for its `started` row and its outcome's.
        payload = self._payloads.get(id(op))
        if payload is None:
            payload = self._payloads[id(op)] = json.dumps(op.to_dict(text=False), sort_keys=True)
        return payload

    def record(self, finished: Sequence[Outcome], starting: Sequence[Operation] = ()) -> None:
        """In one transaction: the outcomes of the batch just sent, and the batch about
        to be sent as `started`."""
        rows: list[tuple[int, str, str, str, str, str | None]] = []
        with self.store.transaction():
            for outcome in finished:
                op = outcome.operation
                record_outcome(self.store, outcome)
                error = None if outcome.error is None else str(outcome.error)
                status = "done" if error is None else "failed"
                rows.append((self.seq[id(op)], op.issue_key, op.kind, self._payload(op),
                             status, error))  # fmt: skip
                self._payloads.pop(id(op), None)
            for op in starting:
                rows.append((self.seq[id(op)], op.issue_key, op.kind, self._payload(op),
                             "started", None))  # fmt: skip
            self.store.record_operations(self.run_id, rows)
