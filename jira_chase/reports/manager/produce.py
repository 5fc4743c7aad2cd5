"""`jira-chase report`: judge the scope like a dry run (nothing is written to the
tracker), keep the run's trend in the state store, and build the report document."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from jira_chase.config.settings import Settings
from jira_chase.errors import ConfigError
from jira_chase.reports.manager.data import build_report
from jira_chase.reports.manager.render import render
from jira_chase.run.pipeline import run
from jira_chase.run.runner import make_source
from jira_chase.store import trends
from jira_chase.store.files import write_atomically
from jira_chase.store.state import StateStore, run_lock, unusable_state
from jira_chase.store.trends import run_details

REPORT = "report"


def produce(settings: Settings, now: datetime, *, wait: float = 0.0) -> dict[str, Any]:
    """The report document as of `now`. Holds the state file's lock like a sync, since
    it records the run's trend there."""
    path = settings.state.path
    try:
        with run_lock(path, wait), StateStore(path) as store:
            started = time.monotonic()
            source = make_source(settings, store)
            # Nothing is written to the tracker: a narrowed scope is reported as it is.
            result = run(source, settings, store, now, write=False, force=True)
            store.record_run_cost(
                result.run_id,
                duration_seconds=time.monotonic() - started,
                requests=result.stats.requests,
                retries=result.stats.retries,
                details=run_details(result.evaluation),
            )
            earlier = [(at, team) for run_id, mode, at, team in store.trend_runs()
                       if mode == REPORT and run_id != result.run_id]  # fmt: skip
            store.set_mode(result.run_id, REPORT)
            trends.record(store, result.run_id, REPORT, result.evaluation)
            return build_report(
                result.evaluation,
                settings,
                result.identity,
                store,
                previous=earlier[-1] if earlier else None,
            )
    except sqlite3.Error as exc:
        raise unusable_state(path, exc) from exc


def write_report(doc: dict[str, Any], out: Path, fmt: str) -> Path:
    """Write the document in `fmt` to `out` (all at once, so a reader never sees half)."""
    text = render(doc, fmt)
    target = out.expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, text)
    except OSError as exc:
        raise ConfigError(
            [f"--out: cannot write {target}: {exc.strerror or exc}; choose a writable path"]
        ) from None
    return target.resolve()
