"""The trend part of the state store: each run's team state and each issue's health
where it changed, for the manager's report."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from jira_chase.store.schema import transaction


class TrendStore:
    """Mixed into `StateStore`, which owns the connection."""

    _db: sqlite3.Connection

    # -- trends ----------------------------------------------------------------------

    def record_trend(
        self,
        run_id: int,
        mode: str,
        at: datetime,
        team: Mapping[str, Any],
        health: Mapping[str, tuple[str, Sequence[str]]],
    ) -> int:
        """Keep one run's team state and each issue's health and families where they
        changed since the last recorded run (an issue no longer judged becomes 'gone').
        Returns how many issue changes were kept."""
        moment = at.isoformat()
        latest = {
            key: (state, families)
            for key, state, families in self._db.execute(
                "SELECT issue_key, health, families FROM trend_health t WHERE run_id = "
                "(SELECT MAX(run_id) FROM trend_health WHERE issue_key = t.issue_key)"
            )
        }
        rows = []
        for key, (state, families) in health.items():
            joined = ",".join(sorted(families))
            if latest.get(key) != (state, joined):
                rows.append((key, run_id, moment, state, joined))
        for key, (state, _) in latest.items():
            if key not in health and state != "gone":
                rows.append((key, run_id, moment, "gone", ""))
        with transaction(self._db):
            self._db.execute(
                "INSERT OR REPLACE INTO trend_runs (run_id, mode, at, team) VALUES (?, ?, ?, ?)",
                (run_id, mode, moment, json.dumps(team, sort_keys=True)),
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO trend_health (issue_key, run_id, at, health, families)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def set_mode(self, run_id: int, mode: str) -> None:
        """Name what a recorded run was (a `report` judges like a `plan`)."""
        self._db.execute("UPDATE runs SET mode = ? WHERE id = ?", (mode, run_id))

    def trend_runs(self) -> list[tuple[int, str, datetime, dict[str, Any]]]:
        """(run id, mode, as of, team state) of every recorded run, oldest first."""
        return [
            (run_id, mode, datetime.fromisoformat(at), json.loads(team))
            for run_id, mode, at, team in self._db.execute(
                "SELECT run_id, mode, at, team FROM trend_runs ORDER BY at, run_id"
            )
        ]

    def health_changes(self) -> list[tuple[str, datetime, str, tuple[str, ...]]]:
        """(issue key, as of, health, families) of every recorded change, oldest first."""
        return [
            (key, datetime.fromisoformat(at), state, tuple(f for f in families.split(",") if f))
            for key, at, state, families in self._db.execute(
                "SELECT issue_key, at, health, families FROM trend_health"
                " ORDER BY at, run_id, issue_key"
            )
        ]
