"""How a command speaks to its two audiences: a person at a terminal, and cron's log.

- On a terminal (stderr is a TTY): a live progress display for the long phases
  (pulling, judging, writing: count, rate, time left), then the summary.
- Not a terminal: no progress, the summary only.
- `--quiet`: errors and the one-line outcome only.
- `--log-format json`: one JSON object per line per event (start, phase, write failure,
  log message, error, outcome), for log shippers.

Every failed write is printed once: as it happens, on stderr (or as a JSON event).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from jira_chase.engine.plan import Operation
from jira_chase.engine.progress import NO_PROGRESS, Progress
from jira_chase.engine.safe_text import one_line, printable, redacted

TEXT = "text"
JSON = "json"
LOG_FORMATS = (TEXT, JSON)
#: Loggers of the libraries jira-chase talks through; heard only with --verbose.
LIBRARY_LOGGERS = ("urllib3", "requests", "jira")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class RateColumn(ProgressColumn):
    """Items per second of a task, once there is a rate to show."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


class EtaColumn(ProgressColumn):
    """Time left, once the total and a rate are known."""

    def render(self, task: Task) -> Text:
        left = task.time_remaining
        if task.finished or left is None:
            return Text("")
        minutes, seconds = divmod(int(left), 60)
        return Text(f"ETA {minutes}:{seconds:02d}", style="progress.remaining")


class Output:
    """The voice of one command. `quiet`, `log_format` and `details` as the options say;
    `events_on_stderr` when stdout carries a JSON document (`--json`)."""

    def __init__(
        self,
        *,
        quiet: bool = False,
        log_format: str = TEXT,
        details: bool = False,
        events_on_stderr: bool = False,
    ):
        self.quiet = quiet
        self.log_format = log_format
        self.details = details
        self.verbose = False
        self.started = time.monotonic()
        self._events: TextIO = sys.stderr if events_on_stderr else sys.stdout
        # The consoles write to whatever sys.stdout/sys.stderr are now (a test runner
        # swaps them); soft wrap keeps each line whole in a log, whatever its width.
        self.out = Console(file=sys.stdout, soft_wrap=True, highlight=False, markup=False)
        self.err = Console(file=sys.stderr, soft_wrap=True, highlight=False, markup=False)

    @property
    def json_log(self) -> bool:
        return self.log_format == JSON

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def event(self, name: str, **fields: Any) -> None:
        """One JSON event line (only with `--log-format json`)."""
        if self.json_log:
            line = json.dumps({"time": _now(), "event": name, **fields}, default=str)
            self._events.write(line + "\n")
            self._events.flush()

    def say(self, lines: list[str] | str) -> None:
        """Text for people on stdout; nothing in quiet or JSON-log mode. Each of `lines`
        is one line: a line break or control character in it (tracker data) is shown,
        never acted on (safe_text.one_line)."""
        if self.quiet or self.json_log:
            return
        self.out.print(printable(lines) if isinstance(lines, str) else terminal_lines(lines))

    def outcome(self, line: str, **fields: Any) -> None:
        """The one-line outcome: printed with `--quiet`, an event in JSON-log mode."""
        if self.json_log:
            self.event("outcome", message=line, **fields)
        elif self.quiet:
            self.out.print(line)

    def error(self, message: str, *, exc_info: bool = False, **fields: Any) -> None:
        """An error line on stderr (an `error` event in JSON-log mode); `exc_info` adds
        the traceback of the exception being handled (`-v`)."""
        message = redacted(message)
        if self.json_log:
            if exc_info:
                fields["traceback"] = redacted(traceback.format_exc())
            self.event("error", message=message, **fields)
            return
        if exc_info:
            self.err.print(printable(redacted(traceback.format_exc().rstrip())))
        self.err.print(one_line(message))

    # -- logging ---------------------------------------------------------------------

    def install_logging(self, verbose: bool) -> None:
        """Route log records here: warnings always, request-level lines with `-v`."""
        root = logging.getLogger()
        for handler in list(root.handlers):
            if isinstance(handler, _OutputHandler):
                root.removeHandler(handler)
        root.addHandler(_OutputHandler(self))
        root.setLevel(logging.DEBUG if verbose else logging.WARNING)
        # The HTTP libraries' own lines (urllib3's "Retrying ..." warnings) are for -v
        # only: without it, jira-chase says in one line what went wrong.
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.CRITICAL + 1)
        self.verbose = verbose

    def log(self, record: logging.LogRecord, message: str) -> None:
        """A log record's line, its secrets redacted (safe_text.redacted)."""
        message = redacted(message)
        if self.json_log:
            self.event("log", level=record.levelname.lower(), logger=record.name, message=message)
        elif not self.quiet or self.verbose or record.levelno >= logging.ERROR:
            stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
            line = f"{stamp} {record.levelname.lower()} {record.name}: {message}"
            self.err.print(one_line(line))

    # -- progress --------------------------------------------------------------------

    @contextmanager
    def progress(self) -> Iterator[Progress]:
        """What the run reports to while it works: a live display on a terminal, JSON
        events in JSON-log mode; failed writes in every mode."""
        if self.json_log:
            yield _EventProgress(self)
        elif not self.quiet and self.err.is_terminal:
            display = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.description:<8}"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TimeElapsedColumn(),
                EtaColumn(),
                console=self.err,
                transient=True,
                refresh_per_second=8,
            )
            with display:
                yield _LiveProgress(self, display)
        else:
            yield _PlainProgress(self)


class _OutputHandler(logging.Handler):
    def __init__(self, output: Output):
        super().__init__()
        self.output = output

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.output.log(record, record.getMessage())
        except Exception:  # pragma: no cover - logging must never break a run
            self.handleError(record)


class _PlainProgress:
    """No display; failed writes on stderr as they happen."""

    def __init__(self, output: Output):
        self.output = output

    def phase(self, name: str, total: int | None = None) -> None:
        NO_PROGRESS.phase(name, total)

    def advance(self, count: int = 1, *, total: int | None = None) -> None:
        NO_PROGRESS.advance(count, total=total)

    def write_failed(self, operation: Operation, error: str) -> None:
        self.output.error(f"write failed: {error}")


def terminal_lines(lines: Iterable[str]) -> str:
    """`lines` as one text for a terminal: each line stays one line, and shows its
    control characters instead of obeying them."""
    return "\n".join(one_line(line) for line in lines)


class _LiveProgress(_PlainProgress):
    """A rich progress bar per phase on the terminal."""

    def __init__(self, output: Output, display: RichProgress):
        super().__init__(output)
        self.display = display
        self.task: TaskID | None = None

    def phase(self, name: str, total: int | None = None) -> None:
        if self.task is not None:
            task = self.display.tasks[self.task]
            self.display.update(self.task, total=task.completed)
            self.display.stop_task(self.task)
        self.task = self.display.add_task(name, total=total)

    def advance(self, count: int = 1, *, total: int | None = None) -> None:
        if self.task is None:
            return
        if total is not None:
            self.display.update(self.task, total=total)
        if count:
            self.display.advance(self.task, count)

    def write_failed(self, operation: Operation, error: str) -> None:
        # Printed through the display's console so the bar stays below it.
        self.display.console.print(one_line(redacted(f"write failed: {error}")))


class _EventProgress(_PlainProgress):
    """A `phase` event as each phase begins (with how the previous one went)."""

    def __init__(self, output: Output):
        super().__init__(output)
        self.current: tuple[str, float] | None = None
        self.done = 0

    def phase(self, name: str, total: int | None = None) -> None:
        fields: dict[str, Any] = {"phase": name, "total": total}
        if self.current is not None:
            previous, since = self.current
            fields["previous"] = {
                "phase": previous,
                "items": self.done,
                "seconds": round(time.monotonic() - since, 3),
            }
        self.output.event("phase", **fields)
        self.current, self.done = (name, time.monotonic()), 0

    def advance(self, count: int = 1, *, total: int | None = None) -> None:
        self.done += count

    def write_failed(self, operation: Operation, error: str) -> None:
        self.output.event(
            "write_failed",
            issue=operation.issue_key,
            kind=operation.kind,
            reason=operation.reason,
            error=error,
        )
