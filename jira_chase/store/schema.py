"""The state file's schema. It carries a version; opening an older file migrates it
forward, one version per transaction, and a newer one is refused with a clear message
rather than misread. Also the two things every write to the file uses: its transaction
and its time stamp.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from jira_chase.errors import ConfigError

SCHEMA_VERSION = 7

#: Version -> the statements that bring a file of the version before up to it.
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mode TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        as_of TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT 'running',
        issues INTEGER NOT NULL DEFAULT 0,
        unhealthy INTEGER NOT NULL DEFAULT 0,
        findings INTEGER NOT NULL DEFAULT 0,
        planned INTEGER NOT NULL DEFAULT 0,
        applied INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        deferred INTEGER NOT NULL DEFAULT 0,
        error TEXT
    );
    CREATE TABLE operations (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        seq INTEGER NOT NULL,
        issue_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX operations_issue ON operations(issue_key);
    """,
    2: """
    CREATE TABLE comments (
        issue_key TEXT PRIMARY KEY,
        comment_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    3: """
    CREATE TABLE item_cache (
        source TEXT NOT NULL,
        item_key TEXT NOT NULL,
        snapshot TEXT NOT NULL,
        PRIMARY KEY (source, item_key)
    );
    """,
    4: """
    CREATE TABLE facts (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    """,
    5: """
    ALTER TABLE runs ADD COLUMN duration_seconds REAL;
    ALTER TABLE runs ADD COLUMN requests INTEGER;
    ALTER TABLE runs ADD COLUMN retries INTEGER;
    ALTER TABLE runs ADD COLUMN details TEXT;
    """,
    6: """
    CREATE TABLE trend_runs (
        run_id INTEGER PRIMARY KEY,
        mode TEXT NOT NULL,
        at TEXT NOT NULL,
        team TEXT NOT NULL
    );
    CREATE TABLE trend_health (
        issue_key TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        at TEXT NOT NULL,
        health TEXT NOT NULL,
        families TEXT NOT NULL,
        PRIMARY KEY (issue_key, run_id)
    );
    CREATE INDEX trend_health_at ON trend_health(at);
    """,
    7: """
    ALTER TABLE runs ADD COLUMN held_back INTEGER NOT NULL DEFAULT 0;
    """,
}

#: The fact kind (table `facts`) that keeps which of our labels each issue carries.
OWNED_LABELS = "owned-labels"


def utcnow() -> str:
    """Now, as the store stamps its rows."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """The block's statements in one write transaction: all of them, or none when the
    block raises (an interrupt too). Inside another such block, part of that one."""
    if db.in_transaction:
        yield
        return
    try:
        db.execute("BEGIN IMMEDIATE")
        yield
        db.execute("COMMIT")
    except BaseException:
        # (also when an interrupt lands between the BEGIN and the block, or in the COMMIT)
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def schema_version(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row["value"])


def _own_labels_from_history(db: sqlite3.Connection) -> None:
    """Files from before the `facts` table knew our labels only from the operations
    history: fold it once into one fact per issue."""
    rows = db.execute(
        "SELECT issue_key, payload FROM operations"
        " WHERE kind = 'labels' AND status = 'done' ORDER BY run_id, seq"
    ).fetchall()
    owned: dict[str, dict[str, str]] = {}
    for row in rows:
        payload = json.loads(row["payload"])
        labels = owned.setdefault(row["issue_key"], {})
        for label in payload.get("add", []):
            labels[str(label).casefold()] = str(label)
        for label in payload.get("remove", []):
            labels.pop(str(label).casefold(), None)
    for key, labels in owned.items():
        if labels:
            db.execute(
                "INSERT OR REPLACE INTO facts (kind, key, value, at) VALUES (?, ?, ?, ?)",
                (OWNED_LABELS, key, json.dumps(sorted(set(labels.values()))), utcnow()),
            )


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the store `db` (opened from `path`, with `sqlite3.Row` rows) up to
    SCHEMA_VERSION; refuse, naming state.path, a file newer than that."""
    has_meta = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    version = schema_version(db) if has_meta else 0
    if version > SCHEMA_VERSION:
        raise ConfigError(
            [
                f"state.path: {path} has schema version {version}, newer than this "
                f"jira-chase understands ({SCHEMA_VERSION}); upgrade jira-chase"
            ]
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with transaction(db):
            for statement in MIGRATIONS[target].split(";"):
                if statement.strip():
                    db.execute(statement)
            if target == 4:
                _own_labels_from_history(db)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(target),),
            )
