"""The SQLite state store: one row per run and one per attempted write, the managed
comments, and the item snapshots a source caches between runs.

The schema carries a version; opening an older file migrates it forward inside a
transaction, and a newer one is refused with a clear message rather than misread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from jira_chase.comment import ManagedComment
from jira_chase.errors import ConfigError

SCHEMA_VERSION = 5

_MIGRATIONS: dict[int, str] = {
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
}


@dataclass(frozen=True)
class RunRecord:
    id: int
    mode: str
    started_at: str
    finished_at: str | None
    as_of: str
    outcome: str
    issues: int
    unhealthy: int
    findings: int
    planned: int
    applied: int
    failed: int
    deferred: int
    error: str | None
    #: What the run cost (None for runs recorded before these were kept).
    duration_seconds: float | None = None
    requests: int | None = None
    retries: int | None = None
    #: Compact JSON: counts by health, family and goal status, team metrics, goals.
    details: str | None = None


RUN_COUNTS = ("issues", "unhealthy", "findings", "planned", "applied", "failed", "deferred")


def _utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StateStore:
    """Open (creating or migrating) the store at `path`. Use as a context manager."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError([f"state.path: cannot open {self.path}: {exc}"]) from exc
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row["value"])

    def _migrate(self) -> None:
        has_meta = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        version = self.schema_version if has_meta else 0
        if version > SCHEMA_VERSION:
            raise ConfigError(
                [
                    f"state.path: {self.path} has schema version {version}, newer than this "
                    f"jira-chase understands ({SCHEMA_VERSION}); upgrade jira-chase"
                ]
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(target),),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def start_run(self, mode: str, as_of: datetime) -> int:
        # A run that never finished (killed, crashed) is marked so, not left 'running'.
        self._db.execute("UPDATE runs SET outcome = 'interrupted' WHERE outcome = 'running'")
        cur = self._db.execute(
            "INSERT INTO runs (mode, started_at, as_of) VALUES (?, ?, ?)",
            (mode, _utcnow(), as_of.isoformat()),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def record_operation(
        self,
        run_id: int,
        seq: int,
        issue_key: str,
        kind: str,
        payload: dict[str, object],
        status: str,
        error: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO operations"
            " (run_id, seq, issue_key, kind, payload, status, error, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                seq,
                issue_key,
                kind,
                json.dumps(payload, sort_keys=True),
                status,
                error,
                _utcnow(),
            ),
        )

    def finish_run(
        self, run_id: int, outcome: str, counts: dict[str, int], error: str | None = None
    ) -> None:
        unknown = set(counts) - set(RUN_COUNTS)
        if unknown:
            raise ValueError(f"unknown run counts: {sorted(unknown)}")
        assignments = ", ".join(f"{name} = :{name}" for name in counts)
        sql = "UPDATE runs SET finished_at = :finished_at, outcome = :outcome, error = :error"
        if assignments:
            sql += ", " + assignments
        self._db.execute(
            sql + " WHERE id = :id",
            {**counts, "finished_at": _utcnow(), "outcome": outcome, "error": error, "id": run_id},
        )

    def record_run_cost(
        self,
        run_id: int,
        *,
        duration_seconds: float,
        requests: int,
        retries: int,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """What the run took and the team's state it saw (compact JSON), for `runs`."""
        self._db.execute(
            "UPDATE runs SET duration_seconds = ?, requests = ?, retries = ?, details = ?"
            " WHERE id = ?",
            (
                round(duration_seconds, 3),
                requests,
                retries,
                json.dumps(details, separators=(",", ":")) if details is not None else None,
                run_id,
            ),
        )

    def write_counts(self, run_id: int) -> dict[str, int]:
        """What a run got through from its operations: for a run cut short, whose
        counts were never totted up."""
        rows = self._db.execute(
            "SELECT status, COUNT(*) AS n FROM operations WHERE run_id = ? GROUP BY status",
            (run_id,),
        ).fetchall()
        by_status = {row["status"]: int(row["n"]) for row in rows}
        return {
            "planned": sum(by_status.values()),
            "applied": by_status.get("done", 0),
            "failed": by_status.get("failed", 0),
        }

    def set_counts(self, run_id: int, counts: Mapping[str, int]) -> None:
        unknown = set(counts) - set(RUN_COUNTS)
        if unknown:
            raise ValueError(f"unknown run counts: {sorted(unknown)}")
        if counts:
            assignments = ", ".join(f"{name} = :{name}" for name in counts)
            self._db.execute(f"UPDATE runs SET {assignments} WHERE id = :id",
                             {**counts, "id": run_id})  # fmt: skip

    def last_run_id(self) -> int:
        """The id of the newest run, 0 when there is none."""
        row = self._db.execute("SELECT MAX(id) AS id FROM runs").fetchone()
        return int(row["id"] or 0)

    def last_operations(self, issue_key: str) -> tuple[RunRecord, list[dict[str, object]]] | None:
        """The newest `sync` run that attempted a write on the issue, with those writes."""
        row = self._db.execute(
            "SELECT runs.* FROM runs JOIN operations ON operations.run_id = runs.id"
            " WHERE operations.issue_key = ? AND runs.mode = 'sync'"
            " ORDER BY runs.id DESC LIMIT 1",
            (issue_key,),
        ).fetchone()
        if row is None:
            return None
        ops = [op for op in self.operations(int(row["id"])) if op["issue_key"] == issue_key]
        return RunRecord(**dict(row)), ops

    def runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [RunRecord(**dict(row)) for row in rows]

    def operations(self, run_id: int) -> list[dict[str, object]]:
        rows = self._db.execute(
            "SELECT * FROM operations WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
        return [dict(row) for row in rows]

    def managed_comments(self) -> dict[str, ManagedComment]:
        """The bot's comment per issue as last written (issue key -> comment)."""
        rows = self._db.execute("SELECT issue_key, comment_id, digest FROM comments").fetchall()
        return {r["issue_key"]: ManagedComment(r["issue_key"], r["comment_id"], r["digest"])
                for r in rows}  # fmt: skip

    def save_comment(self, comment: ManagedComment) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO comments (issue_key, comment_id, digest, updated_at)"
            " VALUES (?, ?, ?, ?)",
            (comment.issue_key, comment.comment_id, comment.digest, _utcnow()),
        )

    def forget_comment(self, issue_key: str) -> None:
        self._db.execute("DELETE FROM comments WHERE issue_key = ?", (issue_key,))

    def keys_carrying(self, label: str) -> set[str]:
        """Issues whose latest successful label change by jira-chase involving `label`
        added it: those may still carry it and are the only ones we may take it off."""
        rows = self._db.execute(
            "SELECT issue_key, payload FROM operations"
            " WHERE kind = 'labels' AND status = 'done' ORDER BY run_id, seq"
        ).fetchall()
        carrying: dict[str, bool] = {}
        wanted = label.casefold()
        for row in rows:
            payload = json.loads(row["payload"])
            if any(str(lbl).casefold() == wanted for lbl in payload.get("add", [])):
                carrying[row["issue_key"]] = True
            elif any(str(lbl).casefold() == wanted for lbl in payload.get("remove", [])):
                carrying[row["issue_key"]] = False
        return {key for key, on in carrying.items() if on}

    # -- facts a source learns about the tracker (see sources/base.py: Memory) --------

    def recall(self, kind: str) -> dict[str, str]:
        """Every fact of one kind (key -> value) remembered from earlier runs."""
        rows = self._db.execute("SELECT key, value FROM facts WHERE kind = ?", (kind,)).fetchall()
        return {row["key"]: row["value"] for row in rows}

    def remember(self, kind: str, key: str, value: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO facts (kind, key, value, at) VALUES (?, ?, ?, ?)",
            (kind, key, value, _utcnow()),
        )

    def forget(self, kind: str, key: str) -> None:
        self._db.execute("DELETE FROM facts WHERE kind = ? AND key = ?", (kind, key))

    def cached_items(self, source: str) -> dict[str, dict[str, Any]]:
        """The item snapshots a source cached on its last complete fetch (item key ->
        JSON object), so it can skip reading items that have not changed since."""
        rows = self._db.execute(
            "SELECT item_key, snapshot FROM item_cache WHERE source = ?", (source,)
        ).fetchall()
        return {row["item_key"]: json.loads(row["snapshot"]) for row in rows}

    def save_items(self, source: str, items: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the source's cached snapshots with `items`, in one transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("DELETE FROM item_cache WHERE source = ?", (source,))
            self._db.executemany(
                "INSERT INTO item_cache (source, item_key, snapshot) VALUES (?, ?, ?)",
                [(source, key, json.dumps(item, sort_keys=True)) for key, item in items.items()],
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
