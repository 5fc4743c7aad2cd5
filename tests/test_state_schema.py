import json
import sqlite3

import pytest

from jira_chase.errors import ConfigError
from jira_chase.store.schema import MIGRATIONS, SCHEMA_VERSION
from jira_chase.store.state import StateStore
from tests.test_trends import day


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    StateStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="schema version 99"):
        StateStore(path)


def test_a_failing_migration_rolls_back_and_names_state_path(tmp_path):
    """A file whose next migration cannot apply (here: a stray `facts` table in a
    version-3 file) is left exactly as it was, and the error names state.path."""
    path = tmp_path / "s.sqlite"
    db = sqlite3.connect(path)
    for version in (1, 2, 3):
        db.executescript(MIGRATIONS[version])
    db.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    db.execute("CREATE TABLE facts (stray TEXT)")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="state.path") as raised:
        StateStore(path)
    assert "facts" in str(raised.value)
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
    db.close()


def test_an_older_state_file_keeps_knowing_the_labels_it_wrote(tmp_path):
    """Migration from schema 3: the labels we own are derived from the operations."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for version in (1, 2, 3):
        db.executescript(MIGRATIONS[version])
    db.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    db.execute("INSERT INTO runs (id, mode, started_at, as_of) VALUES (1, 'sync', 'x', 'x')")
    for seq, (key, add, remove) in enumerate(
        [("OPS-1", ["chase-blocking"], []), ("OPS-2", ["chase-blocking"], []),
         ("OPS-2", [], ["chase-blocking"])]
    ):  # fmt: skip
        db.execute(
            "INSERT INTO operations VALUES (1, ?, ?, 'labels', ?, 'done', NULL, 'x')",
            (seq, key, json.dumps({"add": add, "remove": remove})),
        )
    db.commit()
    db.close()
    with StateStore(path) as store:
        assert store.keys_carrying("chase-blocking") == {"OPS-1"}


def test_a_version_4_state_file_migrates_keeping_its_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for version in range(1, 5):
        db.executescript(MIGRATIONS[version])
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '4')")
    db.execute(
        "INSERT INTO runs (mode, started_at, as_of, outcome, issues) VALUES"
        " ('sync', '2026-11-19T10:00:00+00:00', '2026-11-19T10:00:00+00:00', 'ok', 12)"
    )
    db.commit()
    db.close()
    with StateStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 7
        (old,) = store.runs()
        assert (old.issues, old.duration_seconds, old.requests, old.details) == (12, None, None,
                                                                                 None)  # fmt: skip
        store.record_run_cost(old.id, duration_seconds=1.25, requests=3, retries=0,
                              details={"health": {"healthy": 12}})  # fmt: skip
        (again,) = store.runs()
        assert again.duration_seconds == 1.25 and json.loads(again.details or "") == {
            "health": {"healthy": 12}
        }


def test_a_version_5_state_file_gains_the_trend_tables(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for version in range(1, 6):
        db.executescript(MIGRATIONS[version])
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '5')")
    db.commit()
    db.close()
    with StateStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.trend_runs() == [] and store.health_changes() == []
        store.record_trend(1, "sync", day(0), {"issues": 1}, {"A-1": ("at-risk", ("wip",))})
        assert store.health_changes() == [("A-1", day(0), "at-risk", ("wip",))]


def test_a_version_6_state_file_counts_no_write_held_back_in_its_old_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for version in range(1, 7):
        db.executescript(MIGRATIONS[version])
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '6')")
    db.execute(
        "INSERT INTO runs (mode, started_at, as_of, outcome, failed) VALUES"
        " ('sync', '2026-11-19T10:00:00+00:00', '2026-11-19T10:00:00+00:00', 'partial', 4)"
    )
    db.commit()
    db.close()
    with StateStore(path) as store:
        assert store.schema_version == 7
        (old,) = store.runs()
        assert (old.failed, old.held_back) == (4, 0)
        run_id = store.start_run("sync", day(1))
        store.finish_run(run_id, "ok", {"planned": 2, "applied": 2, "held_back": 5})
        assert store.runs()[0].held_back == 5
