from datetime import datetime, timezone

import pytest

from jira_chase.errors import ConfigError
from jira_chase.store.schema import SCHEMA_VERSION
from jira_chase.store.state import StateStore

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


def test_runs_are_recorded_with_counts(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        run_id = store.start_run("sync", NOW)
        store.record_operation(run_id, 0, "APP-1", "labels", {"add": ["x"]}, "done")
        store.finish_run(run_id, "ok", {"issues": 5, "applied": 1})
    with StateStore(tmp_path / "s.sqlite") as store:
        (record,) = store.runs()
        assert (record.outcome, record.issues, record.applied) == ("ok", 5, 1)
        assert record.finished_at is not None
        assert store.operations(run_id)[0]["issue_key"] == "APP-1"
        assert store.schema_version == SCHEMA_VERSION


def test_unfinished_run_is_marked_interrupted_by_the_next(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        store.start_run("sync", NOW)
    with StateStore(tmp_path / "s.sqlite") as store:
        store.start_run("plan", NOW)
        assert [r.outcome for r in store.runs()] == ["running", "interrupted"]


def test_unwritable_location_names_the_key(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="state.path"):
        StateStore(blocker / "s.sqlite")


def test_facts_are_kept_between_runs_and_a_scratch_overlay_never_writes(tmp_path):
    from jira_chase.sources.base import ScratchMemory

    with StateStore(tmp_path / "s.sqlite") as store:
        store.remember("notify", "APP", "silent")
        store.remember("notify", "OPS", "noisy")
        store.forget("notify", "OPS")
        overlay = ScratchMemory(store)
        overlay.remember("notify", "WEB", "noisy")
        overlay.forget("notify", "APP")
        assert overlay.recall("notify") == {"WEB": "noisy"}
    with StateStore(tmp_path / "s.sqlite") as store:
        assert store.recall("notify") == {"APP": "silent"}
        assert store.recall("other") == {}


def test_old_runs_are_pruned_but_owned_labels_are_kept(tmp_path):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    with StateStore(tmp_path / "s.sqlite") as store:
        for _ in range(3):
            run_id = store.start_run("sync", now)
            store.record_operation(run_id, 0, "APP-1", "labels", {"add": ["chase-x"]}, "done")
            store.finish_run(run_id, "ok", {"issues": 1})
        store.record_labels("APP-1", ["chase-x"], [])
        store._db.execute(
            "UPDATE runs SET started_at = ? WHERE id < 3",
            ((now - timedelta(days=100)).isoformat(),),
        )
        assert store.prune(90) == 2
        assert [r.id for r in store.runs()] == [3]
        assert store.operations(1) == [] and store.operations(3)
        assert store.keys_carrying("chase-x") == {"APP-1"}
