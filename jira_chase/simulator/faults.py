"""Seeded, reproducible fault injection for the simulators.

A :class:`FaultPlan` says how often requests fail, in which ways, and on which endpoints;
the server turns it into a :class:`FaultSchedule` that decides, request by request, in
arrival order, whether the request fails and how.

The schedule is deterministic: the ``k``-th eligible request (one whose ``METHOD /path``
matches ``endpoints``) gets the same decision for the same seed, so a client that sends
the same requests meets the same faults. It also keeps its promise on any prefix of the
run: after ``n`` eligible requests, at least ``ceil(n * rate)`` and at most one more have
failed, so a test may assert that ``rate`` of the requests failed. Within that band the
seed decides where the faults fall, and two can follow each other.

Every kind has a defined outcome for a write (see :data:`APPLIED`): a client must be able
to tell "the server never did it" from "the server did it and the answer was lost", and
must never blindly repeat a write that is not idempotent (a comment POST).

========================  ======  ====================================================
kind                      write   what the client sees
========================  ======  ====================================================
``rate-limit``            no      429 with ``Retry-After: <seconds>`` and rate headers
``rate-limit-date``       no      429 with ``Retry-After: <HTTP-date>``
``rate-limit-bare``       no      429 without ``Retry-After``
``unavailable``           no      503 with ``Retry-After: <seconds>``
``unavailable-bare``      no      503 without ``Retry-After``
``server-error``          no      500 with a Jira error body
``bad-gateway``           yes     502 with an HTML body from a "proxy" (the answer was lost)
``reset-before``          no      the connection closes (RST) without an answer
``reset-after``           yes     the request was served, then the connection closes
``slow``                  yes     the answer comes ``delay`` seconds late (client timeout)
``truncated``             yes     ``Content-Length`` promises more than is sent, then the
                                  connection closes: ``requests`` raises
                                  ``requests.exceptions.ChunkedEncodingError``
``malformed``             yes     200/201 with a body cut mid-JSON and a matching
                                  ``Content-Length``: ``response.json()`` raises
                                  ``requests.exceptions.JSONDecodeError``
========================  ======  ====================================================

``truncated`` and ``malformed`` need a body to cut: on an answer without one (a 204)
they act as ``reset-after``, and are counted as that.

Two more kinds are drawn only when a plan names them (the Jira simulator serves them):

========================  ======  ====================================================
``forbidden``             no      403 with a Jira error body (a permission or a proxy's
                                  access rule refused the request)
``rate-limit-garbled``    no      429 with a ``Retry-After`` that is neither seconds
                                  nor an HTTP date
========================  ======  ====================================================
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

RATE_LIMIT = "rate-limit"
RATE_LIMIT_DATE = "rate-limit-date"
RATE_LIMIT_BARE = "rate-limit-bare"
UNAVAILABLE = "unavailable"
UNAVAILABLE_BARE = "unavailable-bare"
SERVER_ERROR = "server-error"
BAD_GATEWAY = "bad-gateway"
RESET_BEFORE = "reset-before"
RESET_AFTER = "reset-after"
SLOW = "slow"
TRUNCATED = "truncated"
MALFORMED = "malformed"
FORBIDDEN = "forbidden"
RATE_LIMIT_GARBLED = "rate-limit-garbled"

FAULT_KINDS: tuple[str, ...] = (
    RATE_LIMIT,
    RATE_LIMIT_DATE,
    RATE_LIMIT_BARE,
    UNAVAILABLE,
    UNAVAILABLE_BARE,
    SERVER_ERROR,
    BAD_GATEWAY,
    RESET_BEFORE,
    RESET_AFTER,
    SLOW,
    TRUNCATED,
    MALFORMED,
)

#: Whether the server carried the request out before the fault (True for a write that
#: took effect although the client saw a failure).
APPLIED: dict[str, bool] = {
    RATE_LIMIT: False,
    RATE_LIMIT_DATE: False,
    RATE_LIMIT_BARE: False,
    UNAVAILABLE: False,
    UNAVAILABLE_BARE: False,
    SERVER_ERROR: False,
    BAD_GATEWAY: True,
    RESET_BEFORE: False,
    RESET_AFTER: True,
    SLOW: True,
    TRUNCATED: True,
    MALFORMED: True,
    FORBIDDEN: False,
    RATE_LIMIT_GARBLED: False,
}

#: Faults that need a body to cut; without one they act as ``reset-after``.
NEEDS_BODY = frozenset({TRUNCATED, MALFORMED})

#: Faults that deliver the server's real answer, late or cut: what a server records for
#: them (``on_exchange``) is that answer. Every other fault replaces the answer.
REAL_ANSWER = frozenset({SLOW, TRUNCATED, MALFORMED})


@dataclass(frozen=True)
class FaultPlan:
    """How a simulator fails: ``JiraSimulator(dataset, faults=FaultPlan(seed=7, rate=0.2))``.

    - ``seed``: the same seed and the same requests give the same faults.
    - ``rate``: the share of eligible requests that fail, 0 to 1.
    - ``kinds``: the fault kinds to draw from (see the module doc), equally likely, or a
      mapping of kind to weight.
    - ``endpoints``: shell-style patterns; a request is eligible when ``"METHOD /path"``
      or its path matches one (``"PUT /rest/api/*/issue/*"``, ``"*/search*"``). None:
      every request.
    - ``delay``: how late a ``slow`` answer comes, in seconds.
    - ``retry_after``: the seconds a ``Retry-After`` header asks for.
    """

    seed: int = 0
    rate: float = 0.2
    kinds: Sequence[str] | Mapping[str, float] = FAULT_KINDS
    endpoints: Sequence[str] | None = None
    delay: float = 1.0
    retry_after: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        names = list(self.kinds)
        if not names:
            raise ValueError("a fault plan needs at least one fault kind")
        unknown = [name for name in names if name not in APPLIED]
        if unknown:
            raise ValueError(f"unknown fault kind {unknown[0]!r}; known: {', '.join(APPLIED)}")
        if isinstance(self.kinds, Mapping) and (
            any(weight < 0 for weight in self.kinds.values()) or not sum(self.kinds.values())
        ):
            raise ValueError("fault kind weights must be non-negative and not all zero")
        if self.delay < 0 or self.retry_after < 0:
            raise ValueError("fault delay and retry_after must not be negative")
        if isinstance(self.endpoints, str):
            raise ValueError("fault endpoints must be a list of patterns, not one string")

    def eligible(self, method: str, path: str) -> bool:
        if self.endpoints is None:
            return True
        call = f"{method} {path}"
        return any(
            fnmatch.fnmatchcase(call, pattern) or fnmatch.fnmatchcase(path, pattern)
            for pattern in self.endpoints
        )

    def kind_weights(self) -> tuple[list[str], list[float]]:
        if isinstance(self.kinds, Mapping):
            return list(self.kinds), [float(w) for w in self.kinds.values()]
        return list(self.kinds), [1.0] * len(self.kinds)


@dataclass(frozen=True)
class FaultRecord:
    """One injected fault: the request, the kind, and whether the request was carried out."""

    index: int  # among eligible requests, from 0
    method: str
    path: str
    kind: str
    applied: bool


@dataclass
class FaultSchedule:
    """The running state of a :class:`FaultPlan` in one server (thread-safe)."""

    plan: FaultPlan
    eligible_count: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    log: list[FaultRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def decide(self, method: str, path: str) -> FaultRecord | None:
        """The fault for this request (None: serve it normally); call once per request."""
        plan = self.plan
        if plan.rate <= 0 or not plan.eligible(method, path):
            return None
        with self._lock:
            index = self.eligible_count
            self.eligible_count += 1
            done = len(self.log)
            rng = random.Random(f"{plan.seed}:{index}")
            draw = rng.random()
            floor_after = math.ceil((index + 1) * plan.rate - 1e-9)
            if done >= floor_after + 1:
                return None  # at the top of the band: this one must succeed
            if done >= floor_after and draw >= plan.rate:
                return None  # the promise holds either way: let the seed decide
            names, weights = plan.kind_weights()
            kind = rng.choices(names, weights)[0]
            record = FaultRecord(index, method, path, kind, APPLIED[kind])
            self.injected[kind] += 1
            self.log.append(record)
            return record

    def downgrade(self, record: FaultRecord, kind: str) -> FaultRecord:
        """Record that ``record``'s fault was served as ``kind`` instead (nothing to cut)."""
        replacement = FaultRecord(record.index, record.method, record.path, kind, APPLIED[kind])
        with self._lock:
            self.injected[record.kind] -= 1
            if not self.injected[record.kind]:
                del self.injected[record.kind]
            self.injected[kind] += 1
            position = self.log.index(record)
            self.log[position] = replacement
        return replacement


def parse_kinds(text: str | Iterable[str]) -> tuple[str, ...]:
    """``"rate-limit,slow"`` (or a list) as a tuple of known kinds; ValueError otherwise."""
    names = [part.strip() for part in text.split(",")] if isinstance(text, str) else list(text)
    names = [name for name in names if name]
    unknown = [name for name in names if name not in APPLIED]
    if unknown:
        raise ValueError(f"unknown fault kind {unknown[0]!r}; known: {', '.join(APPLIED)}")
    return tuple(names)
