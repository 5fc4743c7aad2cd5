"""The SQLite state store: one row per run and one per attempted write, the managed
comments, and the item snapshots a source caches between runs; and the lock that lets
one run at a time use it.

Opening a file brings its schema up to date first (schema.py).
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.gc_pause import gc_paused
from jira_chase.engine.model import Issue
from jira_chase.errors import EXIT_LOCKED, ChaseError, ConfigError
from jira_chase.store.files import PRIVATE, keep_private
from jira_chase.store.schema import OWNED_LABELS, migrate, schema_version, transaction, utcnow
from jira_chase.store.snapshot import issue_from_record, issue_to_record
from jira_chase.store.trend_tables import TrendStore


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
    #: Writes not made: their project refused every write of a recent sync.
    held_back: int = 0


#: Fact kinds the store itself keeps besides OWNED_LABELS (sources keep their own, see
#: sources/base.py).
TRACKER = "tracker"
#: When a sync took the baseline (`writeback.baseline`), and each issue's findings as
#: its previous sync saw them.
BASELINE = "baseline"
SEEN_FINDINGS = "seen-findings"
#: zlib's level for issue snapshots: a third of the default's CPU (a first run stores
#: every issue) for 6 % more bytes.
SNAPSHOT_COMPRESSION = 3
#: Rows deleted by pruning after which the file is compacted.
VACUUM_AFTER_ROWS = 1000

RUN_COUNTS = (
    "issues", "unhealthy", "findings", "planned", "applied", "failed", "deferred", "held_back",
)  # fmt: skip


def unusable_state(path: Path, exc: BaseException) -> ConfigError:
    """The one message for a state file that cannot be opened, read or written."""
    cause = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in cause:
        cause = "the file is not a jira-chase state file (corrupt or something else)"
    return ConfigError(
        [
            f"state.path: cannot use {path}: {cause}. Fix the file's location or permissions, "
            "or move it aside: jira-chase rebuilds its state from the tracker on the next run "
            "(it finds its labels and comments there again)"
        ]
    )


class StateLocked(ChaseError):
    """Another run holds the state file's lock."""

    exit_code = EXIT_LOCKED


@contextmanager
def run_lock(path: Path | str, wait: float = 0.0) -> Iterator[None]:
    """Hold the OS-level lock of the state file at `path` (a `.lock` file beside it) for
    one run, waiting up to `wait` seconds for another run to finish. The lock is the
    operating system's, so a run that is killed releases it."""
    state = Path(path)
    lock_path = state.with_name(state.name + ".lock")
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(lock_path, timeout=max(wait, 0.0), mode=PRIVATE)
        lock.acquire()
    except Timeout:
        waited = f"waited {wait:g}s; " if wait > 0 else ""
        raise StateLocked(
            f"another jira-chase run is active on state.path {state} (it holds {lock_path}); "
            f"{waited}this run wrote nothing — let the other finish, or pass --wait SECONDS"
        ) from None
    except OSError as exc:
        raise unusable_state(lock_path, exc) from exc
    try:
        yield
    finally:
        lock.release()


class StateStore(TrendStore):
    """Open (creating or migrating) the store at `path`. Use as a context manager.

    `readonly`: a dry run's view. The file is copied into memory (or, when there is no
    file yet, an empty store is made there) and migrated there, so the run can use the
    whole interface and nothing it does reaches the disk.
    """

    def __init__(self, path: Path | str, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                self._db = self._snapshot()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                keep_private(self.path)
                self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                # With the write-ahead log, a commit survives the process being killed
                # without waiting for the disk; only a power loss may take back the
                # last commits, which the next run finds on the tracker again.
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            migrate(self._db, self.path)
            if not readonly:
                # Fail now, naming the file, rather than after the first write to Jira.
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("ROLLBACK")
        except ConfigError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise unusable_state(self.path, exc) from exc

    def _snapshot(self) -> sqlite3.Connection:
        memory = sqlite3.connect(":memory:", isolation_level=None)
        if not self.path.exists():
            return memory
        source = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            source.backup(memory)
        finally:
            source.close()
        return memory

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
        return schema_version(self._db)

    def start_run(self, mode: str, as_of: datetime) -> int:
        # A run that never finished (killed outright) is marked so, not left 'running',
        # with the writes it is known to have made. Runs hold the lock, so no other run
        # can be running now.
        self._db.execute(
            "UPDATE runs SET outcome = 'interrupted',"
            " applied = (SELECT COUNT(*) FROM operations o"
            "            WHERE o.run_id = runs.id AND o.status = 'done'),"
            " failed = (SELECT COUNT(*) FROM operations o"
            "           WHERE o.run_id = runs.id AND o.status = 'failed')"
            " WHERE outcome = 'running'"
        )
        cur = self._db.execute(
            "INSERT INTO runs (mode, started_at, as_of) VALUES (?, ?, ?)",
            (mode, utcnow(), as_of.isoformat()),
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
                utcnow(),
            ),
        )

    def record_operations(
        self, run_id: int, rows: Iterable[tuple[int, str, str, str, str, str | None]]
    ) -> None:
        """Many `record_operation`s at once: (seq, issue key, kind, payload as JSON,
        status, error) each, in one transaction."""
        at = utcnow()
        with transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO operations"
                " (run_id, seq, issue_key, kind, payload, status, error, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, *row, at) for row in rows],
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The block's changes to the store in one transaction (one commit instead of
        one per statement), or none of them when it raises."""
        with transaction(self._db):
            yield

    def finish_run(
        self, run_id: int, outcome: str, counts: dict[str, int], error: str | None = None
    ) -> None:
        unknown = set(counts) - set(RUN_COUNTS)
        if unknown:
            raise ValueError(f"unknown run counts: {sorted(unknown)}")
        if self._db.in_transaction:
            # A run cut short inside a batch's transaction: that batch was never
            # committed (as if it had not started); the run's ending must be.
            self._db.execute("ROLLBACK")
        assignments = ", ".join(f"{name} = :{name}" for name in counts)
        sql = "UPDATE runs SET finished_at = :finished_at, outcome = :outcome, error = :error"
        if assignments:
            sql += ", " + assignments
        self._db.execute(
            sql + " WHERE id = :id",
            {**counts, "finished_at": utcnow(), "outcome": outcome, "error": error, "id": run_id},
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

    def last_scope_size(self) -> int | None:
        """How many issues the last completed run judged (None before the first)."""
        row = self._db.execute(
            "SELECT issues FROM runs WHERE outcome IN ('ok', 'partial') ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else int(row["issues"])

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
            (comment.issue_key, comment.comment_id, comment.digest, utcnow()),
        )

    def forget_comment(self, issue_key: str, comment_id: str | None = None) -> None:
        """Forget the issue's managed comment (only if it is `comment_id`, when given)."""
        if comment_id is None:
            self._db.execute("DELETE FROM comments WHERE issue_key = ?", (issue_key,))
        else:
            self._db.execute(
                "DELETE FROM comments WHERE issue_key = ? AND comment_id = ?",
                (issue_key, comment_id),
            )

    # -- facts a source learns about the tracker (see sources/base.py: Memory) --------

    def recall(self, kind: str) -> dict[str, str]:
        """Every fact of one kind (key -> value) remembered from earlier runs."""
        rows = self._db.execute("SELECT key, value FROM facts WHERE kind = ?", (kind,)).fetchall()
        return {row["key"]: row["value"] for row in rows}

    def remember(self, kind: str, key: str, value: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO facts (kind, key, value, at) VALUES (?, ?, ?, ?)",
            (kind, key, value, utcnow()),
        )

    def forget(self, kind: str, key: str) -> None:
        self._db.execute("DELETE FROM facts WHERE kind = ? AND key = ?", (kind, key))

    def forget_kind(self, kind: str) -> None:
        """Forget every fact of one kind."""
        self._db.execute("DELETE FROM facts WHERE kind = ?", (kind,))

    # -- labels jira-chase put on issues ------------------------------------------------

    def _set_owned(self, issue_key: str, labels: Iterable[str]) -> None:
        labels = sorted(set(labels))
        if labels:
            self.remember(OWNED_LABELS, issue_key, json.dumps(labels))
        else:
            self.forget(OWNED_LABELS, issue_key)

    def record_labels(self, issue_key: str, added: Iterable[str], removed: Iterable[str]) -> None:
        """A label change we made succeeded: keep which of our labels the issue carries.
        Reads and writes that issue's row alone (a run records thousands of these)."""
        owned = {label.casefold(): label for label in self.labels_owned_on(issue_key)}
        for label in added:
            owned[label.casefold()] = label
        for label in removed:
            owned.pop(label.casefold(), None)
        self._set_owned(issue_key, owned.values())

    def labels_owned_on(self, issue_key: str) -> tuple[str, ...]:
        """The labels jira-chase put on one issue and has not taken off since."""
        row = self._db.execute(
            "SELECT value FROM facts WHERE kind = ? AND key = ?", (OWNED_LABELS, issue_key)
        ).fetchone()
        return () if row is None else tuple(json.loads(row[0]))

    def owned_labels(self) -> dict[str, tuple[str, ...]]:
        """Issue key -> the labels jira-chase put there and has not taken off since."""
        return {key: tuple(json.loads(value)) for key, value in self.recall(OWNED_LABELS).items()}

    def keys_carrying(self, label: str) -> set[str]:
        """Issues we put `label` on and have not taken it off since: the only ones we may
        take it off (besides those the tracker shows with it, see the sync)."""
        wanted = label.casefold()
        return {
            key
            for key, labels in self.owned_labels().items()
            if any(lbl.casefold() == wanted for lbl in labels)
        }

    # -- the baseline: what each issue's findings were at its previous sync ------------

    def seen_findings(self) -> tuple[datetime | None, dict[str, frozenset[str]], set[str]]:
        """(when a sync took the baseline, or None; issue key -> the identities of its
        findings at its previous sync; the issues unhealthy since the baseline that
        have not recovered since)."""
        taken = self.recall(BASELINE).get("at")
        seen: dict[str, frozenset[str]] = {}
        since_rollout: set[str] = set()
        for key, value in self.recall(SEEN_FINDINGS).items():
            doc = json.loads(value)
            seen[key] = frozenset(doc["f"])
            if doc.get("b"):
                since_rollout.add(key)
        return (datetime.fromisoformat(taken) if taken else None), seen, since_rollout

    def open_since_rollout(self) -> tuple[datetime | None, int]:
        """(when a sync took the baseline, or None; how many issues have been unhealthy
        since then without recovering): `seen_findings` counted by SQLite."""
        taken = self.recall(BASELINE).get("at")
        row = self._db.execute(
            "SELECT COUNT(*) FROM facts WHERE kind = ? AND json_extract(value, '$.b') = 1",
            (SEEN_FINDINGS,),
        ).fetchone()
        return (datetime.fromisoformat(taken) if taken else None), int(row[0])

    def record_seen(
        self,
        findings: Mapping[str, Iterable[str] | None],
        since_rollout: set[str],
        baseline_at: datetime | None = None,
    ) -> None:
        """Keep each issue's findings as this sync saw them (None: healthy, forgotten),
        in one transaction; `since_rollout` marks the issues unhealthy since the
        baseline; `baseline_at` records that this sync took the baseline."""
        stamp = utcnow()
        rows = []
        gone = []
        for key, found in findings.items():
            if found is None:
                gone.append((SEEN_FINDINGS, key))
            else:
                doc = {"f": sorted(found), "b": int(key in since_rollout)}
                rows.append((SEEN_FINDINGS, key, json.dumps(doc), stamp))
        with transaction(self._db):
            self._db.executemany("DELETE FROM facts WHERE kind = ? AND key = ?", gone)
            self._db.executemany(
                "INSERT OR REPLACE INTO facts (kind, key, value, at) VALUES (?, ?, ?, ?)", rows
            )
            if baseline_at is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO facts (kind, key, value, at) VALUES (?, ?, ?, ?)",
                    (BASELINE, "at", baseline_at.isoformat(), stamp),
                )

    # -- tracker identity ----------------------------------------------------------------

    def tracker_identity(self) -> dict[str, str]:
        return self.recall(TRACKER)

    def bind_tracker(self, identity: Mapping[str, str]) -> None:
        for key, value in identity.items():
            self.remember(TRACKER, key, value)

    # -- housekeeping ----------------------------------------------------------------------

    def prune(self, keep_days: float, now: datetime | None = None) -> int:
        """Delete runs (and their operations) that started more than `keep_days` ago,
        always keeping the latest run; give the space back when much was deleted.
        Returns how many runs were deleted."""
        moment = now or datetime.now(timezone.utc)
        cutoff = (moment - timedelta(days=keep_days)).isoformat(timespec="seconds")
        latest = self._db.execute("SELECT MAX(id) AS id FROM runs").fetchone()["id"]
        if latest is None:
            return 0
        with transaction(self._db):
            old = "SELECT id FROM runs WHERE started_at < ? AND id < ?"
            ops = self._db.execute(
                f"DELETE FROM operations WHERE run_id IN ({old})", (cutoff, latest)
            ).rowcount
            runs = self._db.execute(
                "DELETE FROM runs WHERE started_at < ? AND id < ?", (cutoff, latest)
            ).rowcount
        if ops + runs > VACUUM_AFTER_ROWS:
            self._db.execute("VACUUM")
        return runs

    # -- issue snapshots (the incremental fetch, see sources/jira/reading.py) ------------

    def issue_snapshots(self, source: str) -> dict[str, Issue]:
        """The issues a source cached on its earlier fetches, by key."""
        rows = self._db.execute("SELECT snapshot FROM item_cache WHERE source = ?", (source,))
        # (row by row: the compressed rows are never all in memory; without the
        # collector, which would walk what is loaded again and again)
        with gc_paused():
            issues = (issue_from_record(json.loads(zlib.decompress(row[0]))) for row in rows)
            return {issue.key: issue for issue in issues}

    def update_issue_snapshots(
        self, source: str, changed: Sequence[Issue], removed: Iterable[str], *, replace: bool
    ) -> None:
        """Store the `changed` issues and drop the `removed` keys (with `replace`, every
        other snapshot of the source too), in one transaction. Compressed: a snapshot
        with its history is a few kilobytes of JSON, a fifth of that compressed."""
        rows = [
            (source, issue.key,
             zlib.compress(json.dumps(issue_to_record(issue), separators=(",", ":")).encode(),
                           SNAPSHOT_COMPRESSION))
            for issue in changed
        ]  # fmt: skip
        with transaction(self._db):
            if replace:
                self._db.execute("DELETE FROM item_cache WHERE source = ?", (source,))
            self._db.executemany(
                "DELETE FROM item_cache WHERE source = ? AND item_key = ?",
                [(source, key) for key in removed],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO item_cache (source, item_key, snapshot) VALUES (?, ?, ?)",
                rows,
            )

    def cached_items(self, source: str) -> dict[str, dict[str, Any]]:
        """The item snapshots a source cached on its last complete fetch (item key ->
        JSON object), so it can skip reading items that have not changed since."""
        rows = self._db.execute(
            "SELECT item_key, snapshot FROM item_cache WHERE source = ?", (source,)
        ).fetchall()
        return {row["item_key"]: json.loads(row["snapshot"]) for row in rows}

    def save_items(self, source: str, items: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the source's cached snapshots with `items`, in one transaction."""
        with transaction(self._db):
            self._db.execute("DELETE FROM item_cache WHERE source = ?", (source,))
            self._db.executemany(
                "INSERT INTO item_cache (source, item_key, snapshot) VALUES (?, ?, ?)",
                [(source, key, json.dumps(item, sort_keys=True)) for key, item in items.items()],
            )
