"""What a run tells an onlooker while it works: phases, items done, failed writes.

The core (sync, the sources) calls a `Progress`; the command line decides what to show
(a progress bar on a terminal, JSON event lines, nothing). Plain Python on purpose, so
the core never depends on a terminal library.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from jira_chase.engine.plan import Operation

log = logging.getLogger(__name__)

#: Phase names, in the order a run goes through them.
#: Before the first answer: "connecting to <address>" (see `connecting`).
CONNECTING = "connecting to"
PULLING = "pulling"
JUDGING = "judging"
WRITING = "writing"


def connecting(url: str) -> str:
    """The connecting phase's name for the tracker at `url`, without any userinfo."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{CONNECTING} {parts.scheme}://{host}{parts.path}" if host else CONNECTING


class Progress(Protocol):
    def phase(self, name: str, total: int | None = None) -> None:
        """A phase begins; `total` items when known in advance."""
        ...

    def advance(self, count: int = 1, *, total: int | None = None) -> None:
        """`count` more items of the current phase are done; `total` once it is known."""
        ...

    def write_failed(self, operation: Operation, error: str) -> None:
        """One write was refused; the run goes on."""
        ...


class NoProgress:
    """Shows nothing but failed writes, as log warnings: the default when nobody watches."""

    def phase(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, count: int = 1, *, total: int | None = None) -> None:
        pass

    def write_failed(self, operation: Operation, error: str) -> None:
        log.warning("write failed: %s", error)


NO_PROGRESS = NoProgress()
