"""Every error jira-chase raises on purpose, grouped by what the caller should do.

- ConfigError: the user fixes the configuration or the command line (exit 2).
- TrackerError: the tracker refused or failed the run as a whole — bad credentials,
  bad JQL, unreachable site, malformed answer (exit 3). Nothing was half-written.
- IssueError: one issue could not be read or written; the run goes on without it
  and ends as partial (exit 4).
- StateLocked (in store/state.py): another run holds the state file's lock; this run wrote
  nothing (exit 5).

Messages are single lines that name the key, the issue or the request and say what
to do. They never contain secrets.
"""

from __future__ import annotations

from collections.abc import Iterable

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_CONFIG = 2
EXIT_TRACKER = 3
EXIT_PARTIAL = 4
EXIT_LOCKED = 5


class ChaseError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = EXIT_UNEXPECTED


class ConfigError(ChaseError):
    """Configuration or usage is wrong; `problems` has one line per problem."""

    exit_code = EXIT_CONFIG

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class TrackerError(ChaseError):
    """The tracker failed the run as a whole (auth, JQL, network, malformed data)."""

    exit_code = EXIT_TRACKER


class IssueError(ChaseError):
    """One issue could not be read or written; the run continues without it."""

    exit_code = EXIT_PARTIAL

    def __init__(self, issue_key: str, message: str, *, status: int | None = None):
        self.issue_key = issue_key
        self.status = status
        super().__init__(f"{issue_key}: {message}")
