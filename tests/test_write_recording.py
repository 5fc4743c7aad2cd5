"""Recording a sync's writes in the state store costs the same for each write, however
many the run has made: the work of recording N writes grows with N, not N².

Work is counted, not timed: SQLite's virtual-machine steps (a progress handler every
100 of them) and the statements run (the trace callback).
"""

from datetime import datetime, timezone

from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.plan import COMMENT_CREATE, LABELS, Operation
from jira_chase.run.recording import WriteRecorder
from jira_chase.sources.base import Outcome
from jira_chase.store.state import StateStore

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


def record_writes(path, count):
    """Record `count` label changes, each its own batch as comment writes are, plus as
    many comment creations; (VM steps / 100, statements, the store's owned labels)."""
    with StateStore(path) as store:
        run_id = store.start_run("sync", NOW)
        ops = []
        for n in range(count):
            key = f"APP-{n}"
            ops.append(Operation(LABELS, key, add=("chase-stalled", "chase-critical")))
            ops.append(Operation(COMMENT_CREATE, key, reason="new finding"))
        recorder = WriteRecorder(store, run_id, {id(op): n for n, op in enumerate(ops)})
        steps, statements = [0], [0]

        def step():
            steps[0] += 1
            return 0

        def statement(_sql):
            statements[0] += 1

        store._db.set_progress_handler(step, 100)
        store._db.set_trace_callback(statement)
        finished: list[Outcome] = []
        for op in ops:
            recorder.record(finished, starting=[op])
            comment_id = f"c-{op.issue_key}" if op.kind == COMMENT_CREATE else None
            finished = [Outcome(op, comment_id=comment_id)]
        recorder.record(finished)
        store._db.set_progress_handler(None, 0)
        store._db.set_trace_callback(None)
        owned = store.owned_labels()
        assert [op["status"] for op in store.operations(run_id)] == ["done"] * len(ops)
        return steps[0], statements[0], owned


def test_recording_writes_grows_linearly(tmp_path):
    small_steps, small_statements, small_owned = record_writes(tmp_path / "small.sqlite", 1000)
    large_steps, large_statements, large_owned = record_writes(tmp_path / "large.sqlite", 4000)
    assert len(small_owned) == 1000 and len(large_owned) == 4000
    assert large_owned["APP-3999"] == ("chase-critical", "chase-stalled")
    # Four times the writes: about four times the work (reading every issue's owned
    # labels to record one made it about sixteen).
    assert large_statements <= 4.2 * small_statements
    assert large_steps <= 5 * small_steps, (small_steps, large_steps)


def test_a_batch_is_recorded_in_one_transaction(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        run_id = store.start_run("sync", NOW)
        ops = [Operation(LABELS, f"APP-{n}", add=("chase-stalled",)) for n in range(50)]
        recorder = WriteRecorder(store, run_id, {id(op): n for n, op in enumerate(ops)})
        commits: list[str] = []
        store._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
        recorder.record([], starting=ops)
        assert {op["status"] for op in store.operations(run_id)} == {"started"}
        recorder.record([Outcome(op) for op in ops])
        store._db.set_trace_callback(None)
        assert len(commits) == 2
        assert {op["status"] for op in store.operations(run_id)} == {"done"}
        assert store.keys_carrying("chase-stalled") == {f"APP-{n}" for n in range(50)}
        assert store.managed_comments() == {}
        store.save_comment(ManagedComment("APP-1", "c-1", "d"))
        assert set(store.managed_comments()) == {"APP-1"}
