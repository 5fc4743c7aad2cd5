"""ZenTao (open source 16.0+, and Pro, Biz and Max built on it) through its REST API v1,
on `requests`.

What is read: the stories and bugs of `zentao.products` and the tasks of
`zentao.executions`, paged by `page`/`limit` up to `total`. The quirks handled: a story
list's `status` is a browse type (`allstory`; a plain `all` returns nothing), bug lists
hide closed bugs unless asked for `all`, list routes carry no history, and action dates
are server-local (`zentao.timezone`) while every other time is UTC.

Keys and projects: `story-12`, `bug-7`, `task-31`; the project of a story or bug is its
product (`P1`), of a task its execution (`E2`). Types are `Story`, `Bug`, `Task`, and
`pri` 1-4 reads as Highest, High, Medium, Low, so configs written for Jira keep working.

History: one `GET /<kind>s/:id` per item, and only for items whose `lastEditedDate`
changed since the last run (snapshots live in the state store's item cache). Status
changes are the `status` rows of `actions[].history`; a story's status is its `stage`
while it is `active` (`developing`, `testing`, …), so its stage rows count too. ZenTao
moves a stage by itself (a task starts, a build is released) without logging it: such a
change is dated when a run first sees it (or, on the first run, at the item's last edit).
Actors are realnames: they are mapped back to accounts through `GET /users` and the user
objects the lists carry; a name that cannot be mapped stays the person's id.

Writes: health labels are prefixed tokens in `keywords` (stories and bugs; other
keywords are left as they are). ZenTao 18.8's REST PUT rebuilds a bug from a subset of
its fields (losing the deadline, OS, browser, and moving the resolved and closed dates)
and drops a story's links, so keywords go through the web forms that keep every other
field: a bug's batch edit (`bugModel::batchUpdate()`) and a story's edit form
(`storyModel::update()`), posted with the fields they would otherwise reset. Each write
is verified by reading the item back: any other field that changed is a data-safety
failure that stops keyword writes to that kind for the run; an item ZenTao will not
edit (a duplicate naming no bug) is remembered (`REFUSED`) and left alone until it
changes. Tasks have no keywords, so their issues are marked `labels_supported=False`
and only their managed comment carries the findings. The managed comment is a remark
made through the web endpoint `index.php?m=action&f=comment` with the API token as the
session, edited in place with `f=editComment`, found by the plain-text marker it starts
with, and every write is checked by reading the item back (those endpoints answer
HTML). ZenTao cannot delete a remark: `comment.delete` rewrites it to a short "back on
track" note.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests
import urllib3
from requests.adapters import HTTPAdapter

from jira_chase.comment import (
    RECOVERED,
    CommentDoc,
    ManagedComment,
    parse_zentao_marker,
    to_zentao_html,
)
from jira_chase.config import ZenTaoSettings
from jira_chase.errors import ConfigError, IssueError, TrackerError
from jira_chase.model import Change, Comment, Issue, Person
from jira_chase.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, LABELS, Operation
from jira_chase.progress import NO_PROGRESS, Progress
from jira_chase.sources.base import (
    Memory,
    Outcome,
    ScratchMemory,
    ServerIdentity,
    SourceStats,
    TrackerNames,
)
from jira_chase.sources.http import (
    BODY_ERRORS,
    backoff_delay,
    describe_page,
    not_json_at_all,
    retry_policy,
)

log = logging.getLogger(__name__)

#: Item kind -> (issue type, the plural in routes).
KINDS = {"story": ("Story", "stories"), "task": ("Task", "tasks"), "bug": ("Bug", "bugs")}
#: ZenTao `pri` -> the priority names rules and configs use.
PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low"}
#: The status an item has when it is opened (the `opened` action has no history).
INITIAL_STATUS = {"story": "draft", "task": "wait", "bug": "active"}
#: The states an item of each kind can have as the workflow sees them (a story's stage
#: while it is active, else its status) [18.8 module/*/lang/en.php].
STATES = {
    "story": (
        "draft", "reviewing", "active", "changing", "closed", "wait", "planned",
        "projected", "developing", "developed", "testing", "tested", "verified",
        "released",
    ),
    "task": ("wait", "doing", "done", "pause", "cancel", "closed"),
    "bug": ("active", "resolved", "closed"),
}  # fmt: skip
#: States an item can be created in (an item elsewhere must show how it got there).
CREATED_IN = {
    "story": ("draft", "reviewing", "active", "wait", "planned", "projected"),
    "task": ("wait", "doing"),
    "bug": ("active",),
}
#: How a closed story (closedReason) or bug (resolution) ended.
STORY_CLOSE_REASONS = (
    "done", "subdivided", "duplicate", "postponed", "willnotdo", "cancel", "bydesign",
)  # fmt: skip
BUG_RESOLUTIONS = (
    "bydesign", "duplicate", "external", "fixed", "notrepro", "postponed", "willnotfix",
    "tostory",
)  # fmt: skip
KEYWORDS_MAX_CHARS = 255
#: Memory kind: items ZenTao refuses to edit (key -> "<lastEditedDate>\t<cause>").
REFUSED = "zentao.refuses-keywords"
#: What a keyword write may change besides the keywords: ZenTao's own bookkeeping.
_BOOKKEEPING = frozenset({"keywords", "lastEditedBy", "lastEditedDate", "actions", "preAndNext"})
#: Bumped when the cached snapshot's shape changes; older entries are read again.
CACHE_VERSION = 1
_SEPARATORS = r"[,，;；、\s]+"
_KEY = re.compile(r"^(story|task|bug)-(\d+)$")
#: Accounts ZenTao uses that are not people (closed items are "assigned to" `closed`).
_NOBODY = frozenset({"", "closed", "system"})
_NO_TIME = ("0000-00-00", "0000-00-00 00:00:00", "")

WITHDRAWN = CommentDoc(
    heading="jira-chase: back on track, no process problems found any more",
    items=(),
    footer="ZenTao keeps every remark, so this one stays; jira-chase edits it again only "
    "if the item needs chasing.",
    digest=RECOVERED,
)


class SnapshotCache(Protocol):
    """Where the source keeps item snapshots between runs (the state store)."""

    def cached_items(self, source: str) -> dict[str, dict[str, Any]]: ...

    def save_items(self, source: str, items: Mapping[str, Mapping[str, Any]]) -> None: ...


class _HttpError(Exception):
    """An error answer from ZenTao."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class _Malformed(ValueError):
    """An answer that is not the JSON object expected, even after reading it again;
    `page` is the answer's text when it was not JSON at all."""

    def __init__(self, message: str, page: str | None = None):
        super().__init__(message)
        self.page = page


def keyword_tokens(text: str | None) -> list[str]:
    """ZenTao keywords as tokens: people separate them with commas (also full-width),
    semicolons or spaces."""
    return [t for t in re.split(_SEPARATORS, text or "") if t]


def _keywords(value: Any) -> str:
    """Keywords as people wrote them: ZenTao stores and shows posted text HTML-escaped
    (`a&b` is `a&amp;b`, whose `;` is no separator)."""
    return html.unescape(str(value or ""))


def edit_keywords(text: str, add: Sequence[str], remove: Sequence[str]) -> str:
    """`text` with the tokens in `remove` taken out (case-insensitively) and those in
    `add` appended; every other keyword and the separators between them stay as written,
    and appended tokens use the separator the text already uses (else a comma)."""
    pieces = re.split(f"({_SEPARATORS})", text)
    pairs = [("", pieces[0])] + [(pieces[i], pieces[i + 1]) for i in range(1, len(pieces), 2)]
    drop = {label.casefold() for label in remove}
    if any(token.casefold() in drop for _, token in pairs if token):
        kept = [(sep, token) for sep, token in pairs if token and token.casefold() not in drop]
        base = "".join((sep if n else "") + token for n, (sep, token) in enumerate(kept))
    else:
        base = re.sub(f"{_SEPARATORS}$", "", text)
    present = {token.casefold() for token in keyword_tokens(base)}
    inner = re.sub(f"^{_SEPARATORS}|{_SEPARATORS}$", "", text)
    found = re.search(_SEPARATORS, inner)
    separator = found.group(0) if found else ","
    parts = [base] if base else []
    for label in add:
        if label.casefold() not in present and label.casefold() not in drop:
            parts.append(label)
            present.add(label.casefold())
    return separator.join(parts)


def _detail(response: requests.Response) -> str:
    """ZenTao's own error text: `{"error": "msg"}` or `{"error": {"field": [msgs]}}`."""
    try:
        body = response.json()
    except ValueError:
        # An HTML page (a proxy's, or ZenTao's own): its text, without the markup.
        text = re.sub(r"<[^>]*>", " ", response.text or "")
        text = re.sub(r"\s+", " ", text).strip()
        return text[:200] or response.reason or "no details"
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return "; ".join(
            f"{name}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for name, v in error.items()
        )
    return str(error)[:200]


def edition(version: str) -> str:
    """The ZenTao edition a version string names (`18.8`, `biz8.8`, `max4.8`, …)."""
    for prefix, name in (("biz", "Biz"), ("max", "Max"), ("pro", "Pro"), ("ipd", "IPD")):
        if version.lower().startswith(prefix):
            return name
    return "open source" if version[:1].isdigit() else "unknown edition"


def _timed_out(exc: Exception) -> bool:
    """A timeout, also one the retrying adapter wrapped (a read that timed out on the
    last try surfaces as a ConnectionError around urllib3's ReadTimeoutError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    errors = urllib3.exceptions
    if isinstance(reason, errors.NewConnectionError):  # a refused connection, not slow
        return False
    return isinstance(reason, errors.TimeoutError)


def _raw(value: Any) -> str:
    """A value as the form posts it: ZenTao shows posted text HTML-escaped and escapes
    it again when it is posted, so what it shows is unescaped once."""
    return "" if value is None else html.unescape(str(value))


def _account(user: Any) -> str:
    """The account of a user field (an object in API answers, a plain account in raw
    rows)."""
    if isinstance(user, dict):
        return str(user.get("account") or "")
    return str(user or "")


def _bug_form(item: Mapping[str, Any], wanted: str) -> list[tuple[str, str]]:
    """The batch edit form for one bug (`bugModel::batchUpdate()`). It writes exactly
    these fields from the form, recomputes only what their change implies (none here,
    each is posted as stored) and leaves every other field as stored."""
    n = str(item.get("id"))
    deadline = item.get("deadline")
    form = [
        (f"bugIDList[{n}]", n),
        (f"titles[{n}]", _raw(item.get("title"))),
        (f"types[{n}]", _raw(item.get("type"))),
        (f"severities[{n}]", _raw(item.get("severity"))),
        (f"pris[{n}]", _raw(item.get("pri"))),
        (f"colors[{n}]", _raw(item.get("color"))),
        (f"plans[{n}]", _raw(item.get("plan") or 0)),
        (f"branches[{n}]", _raw(item.get("branch") or 0)),
        (f"modules[{n}]", _raw(item.get("module") or 0)),
        (f"assignedTos[{n}]", _account(item.get("assignedTo"))),
        (f"deadlines[{n}]", deadline if isinstance(deadline, str) and deadline else "0000-00-00"),
        (f"resolvedBys[{n}]", _account(item.get("resolvedBy"))),
        (f"keywords[{n}]", wanted),
        (f"resolutions[{n}]", _raw(item.get("resolution"))),
        (f"duplicateBugs[{n}]", _raw(item.get("duplicateBug") or 0)),
    ]
    for field, name in (("os", "os"), ("browser", "browsers")):
        values = [v for v in _raw(item.get(field)).split(",") if v]
        form += [(f"{name}[{n}][]", v) for v in values or [""]]
    return form


def _edit_side_effect(item: Mapping[str, Any]) -> str | None:
    """What the batch edit would change besides the keywords: for a resolved bug it
    confirms it, and one not closed it assigns to its opener when nobody has it (as
    resolving does; a bug seldom lacks either)."""
    if not item.get("resolution"):
        return None
    number = item.get("id")
    if str(item.get("confirmed") or "0") in ("0", ""):
        return f"bug {number} is resolved but not confirmed; any ZenTao edit of it confirms it"
    if item.get("status") != "closed" and not _account(item.get("assignedTo")):
        return (
            f"bug {number} is resolved and assigned to nobody; any ZenTao edit of it "
            "assigns it to whoever opened it"
        )
    return None


def _refusal(kind: str, item: Mapping[str, Any]) -> str | None:
    """Why ZenTao answered an edit but kept none of it, when the item shows why."""
    if kind == "bug" and item.get("resolution") == "duplicate":
        return (
            f"bug {item.get('id')} is resolved as duplicate; ZenTao rejects edits to it "
            "(it names no bug it duplicates)"
        )
    return None


class ZenTaoSource:
    """The Source contract over ZenTao's REST API v1 (see sources/base.py and the module
    doc). `snapshots` keeps item snapshots between runs; without it every item's history
    is read on every run. `clock` dates state changes ZenTao did not log."""

    def __init__(
        self,
        settings: ZenTaoSettings,
        *,
        snapshots: SnapshotCache | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        if not settings.password.get_secret_value():
            # An empty password would still count towards ZenTao's account lockout.
            raise ConfigError(
                ["zentao.password is empty: set JIRA_CHASE_ZENTAO__PASSWORD to the bot "
                 f"account's password (zentao.account = {settings.account!r})"]
            )  # fmt: skip
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.stats = SourceStats()
        self.memory: Memory = ScratchMemory()
        self.snapshots = snapshots
        self.base = settings.url.rstrip("/")
        self.api = self.base + "/api.php/v1"
        self.zone = ZoneInfo(settings.timezone)
        self.cache_key = f"zentao:{self.base}"
        #: How often the session was renewed after a 401 (tokens are session ids).
        self.logins = 0
        self.http = requests.Session()
        self.http.hooks["response"].append(self._count)
        idempotent = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
        retries, backoff = settings.retries, settings.backoff
        self.http.mount(
            self.base + "/", HTTPAdapter(max_retries=retry_policy(retries, backoff, idempotent))
        )
        # Signing in twice is harmless; a remark posted twice is not (not retried).
        self.http.mount(
            self.api + "/tokens",
            HTTPAdapter(max_retries=retry_policy(retries, backoff, (*idempotent, "POST"))),
        )
        self._token: str | None = None
        self._profile: dict[str, Any] | None = None
        self._realnames: dict[str, str] = {}  # account -> realname
        self._accounts: dict[str, str | None] = {}  # realname -> account (None: ambiguous)
        self._fresh: dict[str, list[dict[str, Any]]] = {}  # actions read in this run
        self._entries: dict[str, dict[str, Any]] | None = None  # the item cache
        #: Kinds whose keyword write changed other fields in this run -> the item it did.
        self._unsafe: dict[str, str] = {}
        self._refusals: dict[str, str] | None = None  # REFUSED facts, read once a run

    # -- plumbing -------------------------------------------------------------------------

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.stats.requests += 1
        status = response.status_code
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        history = getattr(getattr(response.raw, "retries", None), "history", ())
        self.stats.retries += len(history or ())

    def _run_error(self, doing: str, exc: Exception) -> TrackerError:
        if isinstance(exc, _HttpError):
            if exc.status == 401:
                return TrackerError(
                    f"ZenTao answered HTTP 401 while {doing}, also after signing in again: "
                    f"check zentao.account = {self.settings.account!r} and its privileges"
                )
            if exc.status == 403:
                return TrackerError(
                    f"ZenTao answered HTTP 403 while {doing}: zentao.account = "
                    f"{self.settings.account!r} lacks a privilege ({exc.detail})"
                )
            return TrackerError(f"ZenTao answered HTTP {exc.status} while {doing}: {exc.detail}")
        if _timed_out(exc):
            return TrackerError(
                f"ZenTao did not answer within zentao.timeout = {self.settings.timeout:g}s "
                f"while {doing} ({self.base})"
            )
        if isinstance(exc, requests.RequestException):
            return TrackerError(
                f"cannot reach ZenTao at zentao.url = {self.base} while {doing}: {exc}"
            )
        if isinstance(exc, _Malformed) and exc.page is not None:
            return TrackerError(
                f"zentao.url = {self.base} answered {describe_page(exc.page)} instead of JSON "
                f"while {doing}: it is not a ZenTao REST API; set zentao.url to the address "
                "where ZenTao's index.php and api.php live"
            )
        return TrackerError(f"unexpected answer from ZenTao while {doing}: {exc}")

    def _login(self) -> None:
        url = self.api + "/tokens"
        body = {
            "account": self.settings.account,
            "password": self.settings.password.get_secret_value(),
        }
        try:
            response = self.http.post(url, json=body, timeout=self.settings.timeout)
        except requests.RequestException as exc:
            raise self._run_error("signing in", exc) from None
        if response.status_code in (200, 201):
            try:
                token = response.json()["token"]
            except ValueError:
                if not_json_at_all(response.text):
                    raise TrackerError(
                        f"zentao.url = {self.base} answered {describe_page(response.text)} "
                        "instead of JSON while signing in: it is not a ZenTao REST API; set "
                        "zentao.url to the address where ZenTao's index.php and api.php live"
                    ) from None
                token = None
            except (KeyError, TypeError):
                token = None
            if not isinstance(token, str) or not token:
                raise TrackerError(
                    f"unexpected answer from ZenTao while signing in at {url}: no token"
                )
            self._token = token
            self.logins += 1
            return
        if response.status_code == 404:
            raise TrackerError(
                f"{url} answered HTTP 404: zentao.url must name a ZenTao 16.0 or newer "
                "(REST API v1), the address where its index.php lives"
            )
        raise TrackerError(
            f"ZenTao refused to sign in zentao.account = {self.settings.account!r} "
            f"(HTTP {response.status_code}: {_detail(response)}): check zentao.account and "
            "zentao.password (JIRA_CHASE_ZENTAO__PASSWORD); ZenTao locks an account after "
            "6 failed sign-ins"
        )

    def _session(self) -> str:
        if self._token is None:
            self._login()
        assert self._token is not None
        return self._token

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One API request with the session token; a 401 means the session expired, so
        sign in again, once, and repeat the request."""
        for attempt in range(2):
            headers = {"Token": self._session()}
            response = self.http.request(
                method, self.api + path, headers=headers, timeout=self.settings.timeout, **kwargs
            )
            if response.status_code != 401 or attempt:
                return response
            log.info("ZenTao answered 401 (the session expired); signing in again")
            self._token = None
        raise AssertionError("unreachable")

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET a JSON object. Raises _HttpError, _Malformed or requests' errors; a body cut
        short or not JSON is read again (the adapters cannot see those)."""
        for attempt in range(self.settings.retries + 1):
            try:
                response = self._send("GET", path, params=dict(params or {}))
                if response.status_code >= 400:
                    raise _HttpError(response.status_code, _detail(response))
                body = response.json()
                if not isinstance(body, dict):
                    raise ValueError("not a JSON object")
                return body
            except (*BODY_ERRORS, ValueError) as exc:
                if attempt == self.settings.retries:
                    page = (
                        exc.doc
                        if isinstance(exc, json.JSONDecodeError) and not_json_at_all(exc.doc)
                        else None
                    )
                    raise _Malformed(str(exc), page) from None
                self.stats.retries += 1
                time.sleep(backoff_delay(attempt, self.settings.backoff))
        raise AssertionError("unreachable")

    def _read(self, path: str, params: Mapping[str, Any] | None, doing: str) -> dict[str, Any]:
        """A read the run cannot do without: any failure is a TrackerError."""
        try:
            return self._get(path, params)
        except (_HttpError, _Malformed, requests.RequestException) as exc:
            raise self._run_error(doing, exc) from None

    def _pages(
        self, path: str, params: Mapping[str, Any], key: str, doing: str
    ) -> Iterator[dict[str, Any]]:
        """Every row of a paged list, by the `limit` and `total` the server answers."""
        page, count, seen = 1, 0, set()
        while True:
            body = self._read(
                path, {**params, "page": page, "limit": self.settings.page_size}, doing
            )
            rows = body.get(key)
            if rows is None and int(body.get("total") or 0) == 0:
                return
            if not isinstance(rows, list):
                raise TrackerError(f"ZenTao's answer while {doing} has no '{key}' list")
            fresh = []
            for row in rows:
                for one in (row, *(row.get("children") or ())) if isinstance(row, dict) else ():
                    if isinstance(one, dict) and one.get("id") not in seen:
                        seen.add(one.get("id"))
                        fresh.append(one)
            if rows and not fresh:
                raise TrackerError(f"ZenTao repeated page {page} while {doing}; stopping")
            yield from fresh
            count += len(rows)
            if not rows or count >= int(body.get("total") or 0):
                return
            page += 1

    # -- people ---------------------------------------------------------------------------

    def profile(self) -> dict[str, Any]:
        """The signed-in account's profile (`GET /user`)."""
        if self._profile is None:
            body = self._read("/user", None, "reading the signed-in account (GET /user)")
            profile = body.get("profile")
            if not isinstance(profile, dict) or not profile.get("account"):
                raise TrackerError("unexpected answer from ZenTao's GET /user: no profile")
            self._profile = profile
            self._know(profile)
        return self._profile

    def _know(self, user: Any) -> None:
        if not isinstance(user, dict):
            return
        account, realname = user.get("account"), user.get("realname")
        if not isinstance(account, str) or account in _NOBODY:
            return
        name = realname if isinstance(realname, str) and realname else account
        self._realnames[account] = name
        known = self._accounts.get(name, account)
        self._accounts[name] = account if known == account else None

    def _load_people(self) -> None:
        self.profile()
        try:
            for user in self._pages("/users", {}, "users", "reading the users"):
                self._know(user)
        except TrackerError as exc:
            # Listing users needs the company-browse privilege; the items' user objects
            # name most people anyway.
            log.info("cannot list ZenTao users (%s); mapping actors by the users seen", exc)

    def _person_id(self, actor: Any) -> str | None:
        """An action's actor (a realname) as a person id: the account when it is known
        and unambiguous, else the realname itself."""
        if not isinstance(actor, str) or actor.casefold() in _NOBODY:
            return None
        if self._is_bot(actor):
            return str(self.profile()["account"])
        if actor in self._realnames:
            return actor
        return self._accounts.get(actor) or actor

    def _person(self, user: Any) -> Person | None:
        if not isinstance(user, dict):
            return None
        account = user.get("account")
        if not isinstance(account, str) or account in _NOBODY:
            return None
        self._know(user)
        return Person(id=account, name=self._realnames.get(account, account))

    def _is_bot(self, actor: Any) -> bool:
        profile = self.profile()
        return actor in (profile.get("account"), profile.get("realname"))

    # -- times ----------------------------------------------------------------------------

    def _utc(self, value: Any) -> datetime | None:
        """A formatted ZenTao time: ISO 8601 UTC (`…Z`), or raw server-local time."""
        if not isinstance(value, str) or value.strip() in _NO_TIME or value.startswith("-"):
            return None
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(timezone.utc)

    def _local(self, value: Any) -> datetime | None:
        """An action's date: raw `Y-m-d H:i:s` in the server's time zone."""
        return self._utc(value)

    # -- the contract ---------------------------------------------------------------------

    def use_memory(self, memory: Memory) -> None:
        self.memory = memory
        self._refusals = None

    def _refuses_labels(self, key: str, row: Mapping[str, Any]) -> bool:
        """ZenTao refused to edit this item before and it has not changed since: its
        labels are not tried again (its comment still carries the findings)."""
        if self._refusals is None:
            self._refusals = self.memory.recall(REFUSED)
        fact = self._refusals.get(key)
        if fact is None:
            return False
        edited, _, cause = fact.partition("\t")
        if edited != str(row.get("lastEditedDate") or ""):
            self.memory.forget(REFUSED, key)  # it was edited since: try again
            return False
        log.info("%s: not labelled: %s", key, cause)
        return True

    def identify(self) -> ServerIdentity:
        profile = self.profile()
        version = "?"
        try:
            response = self.http.get(
                self.base + "/index.php",
                params={"mode": "getconfig"},
                timeout=self.settings.timeout,
            )
            version = str(response.json().get("version") or "?")
        except (requests.RequestException, ValueError, AttributeError):
            log.info("ZenTao did not report its version (index.php?mode=getconfig)")
        return ServerIdentity(
            tracker="zentao",
            url=self.base,
            version=version,
            deployment=edition(version) if version != "?" else "ZenTao",
            user=str(profile["account"]),
            user_id=str(profile["account"]),
        )

    def _scope(self) -> Iterator[tuple[str, int, str]]:
        for name in ("products", "executions"):
            for i, number in enumerate(getattr(self.settings, name)):
                yield name, number, f"zentao.{name}[{i}] = {number}"

    def _check(self, name: str, number: int, key: str) -> dict[str, Any]:
        try:
            return self._get(f"/{name}/{number}")
        except _HttpError as exc:
            if exc.status in (400, 404):
                raise TrackerError(
                    f"{key}: ZenTao has no such {name[:-1]} visible to zentao.account "
                    f"(HTTP {exc.status}: {exc.detail})"
                ) from None
            raise self._run_error(f"reading {key}", exc) from None
        except (_Malformed, requests.RequestException) as exc:
            raise self._run_error(f"reading {key}", exc) from None

    def validate_scope(self) -> int:
        count = 0
        for name, number, key in self._scope():
            self._check(name, number, key)
            lists = (
                (("stories", "allstory"), ("bugs", "all"))
                if name == "products"
                else (("tasks", "all"),)
            )
            for collection, status in lists:
                page = self._read(
                    f"/{name}/{number}/{collection}", {"status": status, "limit": 1},
                    f"listing the {collection} of {key}",
                )  # fmt: skip
                count += int(page.get("total") or 0)
        return count

    def fetch_issues(self, progress: Progress | None = None) -> list[Issue]:
        progress = progress or NO_PROGRESS
        self._load_people()
        rows: dict[str, tuple[str, dict[str, Any], str, dict[int, str]]] = {}
        for name, number, key in self._scope():
            self._check(name, number, key)
            lists: tuple[tuple[str, str, str], ...]
            if name == "products":
                plans = self._plans(number, key)
                lists = (("story", "stories", "allstory"), ("bug", "bugs", "all"))
                project = f"P{number}"
            else:
                plans, lists, project = {}, (("task", "tasks", "all"),), f"E{number}"
            for kind, collection, browse in lists:
                path = f"/{name}/{number}/{collection}"
                doing = f"listing the {collection} of {key}"
                for row in self._pages(path, {"status": browse}, collection, doing):
                    item_key = f"{kind}-{row.get('id')}"
                    rows.setdefault(item_key, (kind, row, project, plans))
        entries = self._cache()
        fresh_entries: dict[str, dict[str, Any]] = {}
        story_versions: dict[int, tuple[str, ...]] = {}
        issues: list[Issue] = []
        observed = self.clock().astimezone(timezone.utc).replace(microsecond=0)
        progress.advance(0, total=len(rows))
        # Everyone the lists name helps to map the actors of the histories to accounts.
        for _, row, _, _ in rows.values():
            for field in ("assignedTo", "openedBy", "lastEditedBy", "resolvedBy", "closedBy"):
                self._know(row.get(field))
        # Stories first, so a task can take its story's plans as its fix versions.
        for item_key, (kind, row, project, plans) in sorted(
            rows.items(), key=lambda entry: entry[1][0] == "task"
        ):
            entry = self._snapshot(item_key, kind, row, entries.get(item_key))
            progress.advance()
            if entry is None:
                continue
            try:
                issue = self._to_issue(kind, row, project, plans, entry, observed, story_versions)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise TrackerError(
                    f"malformed {item_key} from ZenTao: {type(exc).__name__}: {exc}"
                ) from None
            fresh_entries[item_key] = entry
            issues.append(issue)
        self._entries = fresh_entries
        self._save_cache()
        return issues

    def _plans(self, product: int, key: str) -> dict[int, str]:
        """Product plan id -> title (the fix versions of stories and bugs)."""
        plans: dict[int, str] = {}
        try:
            for plan in self._pages(
                f"/products/{product}/plans", {}, "plans", f"listing the plans of {key}"
            ):
                if isinstance(plan.get("id"), int) and plan.get("title"):
                    plans[plan["id"]] = str(plan["title"])
        except TrackerError as exc:
            log.warning("%s: cannot read the product plans, so no fix versions: %s", key, exc)
        return plans

    # -- snapshots ------------------------------------------------------------------------

    def _cache(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            self._entries = {}
            if self.snapshots is not None:
                self._entries = self.snapshots.cached_items(self.cache_key)
        return self._entries

    def _save_cache(self) -> None:
        if self.snapshots is not None and self._entries is not None:
            self.snapshots.save_items(self.cache_key, self._entries)

    def _snapshot(
        self, key: str, kind: str, row: dict[str, Any], cached: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The item's history: cached while its lastEditedDate stands, else read afresh
        (one request). None when the item vanished between the list and the read."""
        edited = str(row.get("lastEditedDate") or row.get("openedDate") or "")
        keep = {k: v for k, v in (cached or {}).items() if k in ("state", "since", "seen")}
        if cached and cached.get("v") == CACHE_VERSION and cached.get("edited") == edited:
            return {**cached}
        number = row.get("id")
        try:
            detail = self._get(f"/{KINDS[kind][1]}/{number}")
        except _HttpError as exc:
            if exc.status == 404:
                log.warning("%s: gone between listing and reading it; skipped", key)
                return None
            raise self._run_error(f"reading the history of {key}", exc) from None
        except (_Malformed, requests.RequestException) as exc:
            raise self._run_error(f"reading the history of {key}", exc) from None
        actions = [a for a in detail.get("actions") or () if isinstance(a, dict)]
        self._fresh[key] = actions
        trimmed = [
            {
                "id": a.get("id"),
                "action": a.get("action"),
                "actor": a.get("actor"),
                "date": a.get("date"),
                "history": [
                    {"field": h.get("field"), "old": h.get("old"), "new": h.get("new")}
                    for h in a.get("history") or ()
                    if isinstance(h, dict)
                ],
            }
            for a in actions
        ]
        reviewer = detail.get("reviewer")
        return {
            **keep,
            "v": CACHE_VERSION,
            "edited": edited,
            "actions": trimmed,
            "reviewer": reviewer if isinstance(reviewer, list) else [],
        }

    # -- payload -> domain ----------------------------------------------------------------

    @staticmethod
    def _state(kind: str, status: Any, stage: Any) -> str:
        """What the workflow sees: a story's stage while it is active, else the status."""
        status = str(status or "")
        if kind == "story" and status == "active" and stage:
            return str(stage)
        return status

    def _history(
        self, kind: str, row: dict[str, Any], actions: list[dict[str, Any]]
    ) -> tuple[list[Change], list[Comment], str, datetime | None]:
        """(changes and remarks oldest first, the state the history ends in, the last
        action's time)."""
        ordered = sorted(
            (a for a in actions if self._local(a.get("date")) is not None),
            key=lambda a: (self._local(a.get("date")), int(a.get("id") or 0)),
        )
        rows = [h for a in ordered for h in a.get("history") or () if isinstance(h, dict)]
        statuses = [h for h in rows if h.get("field") == "status"]
        stages = [h for h in rows if h.get("field") == "stage"]
        # The state before the first logged change; without one, the state it has now.
        if statuses:
            status = statuses[0].get("old") or INITIAL_STATUS[kind]
        else:
            status = row.get("status") or INITIAL_STATUS[kind]
        stage = stages[0].get("old") if stages else row.get("stage")
        state = self._state(kind, status, stage)
        changes: list[Change] = []
        comments: list[Comment] = []
        last: datetime | None = None
        for action in ordered:
            at = self._local(action.get("date"))
            assert at is not None
            last = at
            by = self._person_id(action.get("actor"))
            if action.get("action") == "commented":
                comments.append(Comment(at, by))
            for history in action.get("history") or ():
                field = str(history.get("field") or "?")
                old, new = history.get("old"), history.get("new")
                old = None if old in (None, "") else str(old)
                new = None if new in (None, "") else str(new)
                if field == "status" or (field == "stage" and kind == "story"):
                    if field == "status":
                        status = new or status
                    else:
                        stage = new
                    now_state = self._state(kind, status, stage)
                    if now_state != state:
                        changes.append(Change(at, "status", state, now_state, by))
                        state = now_state
                elif field == "assignedTo":
                    changes.append(
                        Change(
                            at,
                            "assignee",
                            None if old in _NOBODY else old,
                            None if new in _NOBODY else new,
                            by,
                        )
                    )
                elif field == "pri":
                    changes.append(
                        Change(
                            at,
                            "priority",
                            PRIORITIES.get(old or "", old),
                            PRIORITIES.get(new or "", new),
                            by,
                        )
                    )
                elif field == "keywords":
                    changes.append(
                        Change(
                            at,
                            "labels",
                            " ".join(keyword_tokens(_keywords(old))) or None,
                            " ".join(keyword_tokens(_keywords(new))) or None,
                            by,
                        )
                    )
                elif field != "stage":
                    changes.append(Change(at, field, old, new, by))
        return changes, comments, state, last

    def _to_issue(
        self,
        kind: str,
        row: dict[str, Any],
        project: str,
        plans: dict[int, str],
        entry: dict[str, Any],
        observed: datetime,
        story_versions: dict[int, tuple[str, ...]],
    ) -> Issue:
        key = f"{kind}-{row.get('id')}"
        created = self._utc(row.get("openedDate"))
        if created is None:
            raise TrackerError(f"unexpected answer from ZenTao: {key} has no openedDate")
        updated = self._utc(row.get("lastEditedDate")) or created
        actions = entry.get("actions") or []
        changes, comments, state, last_action = self._history(kind, row, actions)
        current = self._state(kind, row.get("status"), row.get("stage"))
        if current and current != state:
            # ZenTao moved it without logging it (a story's stage follows its tasks): date
            # the move when a run first saw it; on the first run, at the last logged event.
            if entry.get("state") == current and entry.get("since"):
                since = datetime.fromisoformat(str(entry["since"]))
            elif entry.get("seen") and entry.get("seen") != current:
                since = observed
            else:
                since = max(t for t in (updated, last_action, created) if t is not None)
            entry["state"], entry["since"] = current, since.isoformat()
            changes.append(Change(since, "status", state, current, None))
        else:
            entry.pop("state", None)
            entry.pop("since", None)
        entry["seen"] = current
        ids = [int(p) for p in re.findall(r"\d+", str(row.get("plan") or ""))]
        versions = tuple(plans[p] for p in ids if p in plans)
        if kind == "story":
            story_versions[int(row.get("id") or 0)] = versions
        elif kind == "task":
            versions = story_versions.get(int(row.get("story") or 0), ())
        deadline = row.get("deadline")
        estimate = row.get("estimate")
        parent = int(row.get("parent") or 0) if str(row.get("parent") or "0").isdigit() else 0
        # Tasks have no keywords: they carry no labels, only the managed comment.
        labels = () if kind == "task" else tuple(keyword_tokens(_keywords(row.get("keywords"))))
        return Issue(
            key=key,
            project=project,
            type=KINDS[kind][0],
            summary=str(row.get("title") or row.get("name") or ""),
            status=current or state,
            created=created,
            updated=max(updated, created),
            priority=PRIORITIES.get(str(row.get("pri")), str(row.get("pri") or "") or None),
            assignee=self._person(row.get("assignedTo")),
            reporter=self._person(row.get("openedBy")),
            labels=labels,
            duedate=date.fromisoformat(deadline)
            if isinstance(deadline, str) and deadline not in _NO_TIME
            else None,
            fix_versions=versions,
            parent=f"{kind}-{parent}" if parent > 0 and kind != "bug" else None,
            estimate=float(estimate)
            if isinstance(estimate, (int, float)) and estimate > 0
            else None,
            history=tuple(changes),
            comments=tuple(comments),
            labels_supported=kind != "task" and not self._refuses_labels(key, row),
            resolution=self._resolution(kind, row),
            # ZenTao logs every item's opening: no actions at all means none were shown.
            history_known=bool(actions) or (current or state) in CREATED_IN[kind],
        )

    @staticmethod
    def _resolution(kind: str, row: dict[str, Any]) -> str | None:
        """How a closed story (close reason), bug (resolution) or task ended."""
        if row.get("status") != "closed":
            return None
        reason = row.get("resolution") if kind == "bug" else row.get("closedReason")
        return str(reason) if reason else None

    def known_names(self) -> TrackerNames:
        """ZenTao's states per item type (fixed by ZenTao, no request needed), as plain
        names and as `type:state`."""
        plain = {state for states in STATES.values() for state in states}
        typed = {f"{kind}:{state}" for kind, states in STATES.items() for state in states}
        return TrackerNames(statuses=tuple(sorted(plain | typed)), typed=True)

    def known_resolutions(self) -> tuple[str, ...]:
        """ZenTao's close reasons (stories) and bug resolutions (fixed by ZenTao)."""
        return tuple(sorted({*STORY_CLOSE_REASONS, *BUG_RESOLUTIONS}))

    def labels_of(self, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for key in keys:
            match = _KEY.match(key)
            if match is None:
                continue
            kind, number = match.group(1), int(match.group(2))
            try:
                item = self._get(f"/{KINDS[kind][1]}/{number}")
            except _HttpError as exc:
                if exc.status == 404:
                    continue
                raise self._run_error(f"reading {key}", exc) from None
            except (_Malformed, requests.RequestException) as exc:
                raise self._run_error(f"reading {key}", exc) from None
            # Tasks have no keywords: they exist, and carry none.
            found[key] = (
                () if kind == "task" else tuple(keyword_tokens(_keywords(item.get("keywords"))))
            )
        return found

    def find_labelled(
        self, labels: Sequence[str], projects: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Nothing to search for: the scope is every story and bug of the configured
        products (tasks have no keywords), so no item of them carries our keywords
        outside the scope. Items of a product dropped from the configuration are found
        through the state store and read with `labels_of`."""
        return {}

    # -- managed comments -----------------------------------------------------------------

    def _split(self, issue_key: str) -> tuple[str, int]:
        match = _KEY.match(issue_key)
        if match is None:
            raise IssueError(issue_key, "not a ZenTao item key (story-N, task-N or bug-N)")
        return match.group(1), int(match.group(2))

    def _actions(self, issue_key: str) -> list[dict[str, Any]] | None:
        """The item's actions read now (None when the item is gone)."""
        kind, number = self._split(issue_key)
        body = self._get(f"/{KINDS[kind][1]}/{number}")
        actions = [a for a in body.get("actions") or () if isinstance(a, dict)]
        self._fresh[issue_key] = actions
        return actions

    def _managed(
        self, issue_key: str, actions: list[dict[str, Any]], tag: str = ""
    ) -> list[ManagedComment]:
        found = []
        for action in sorted(actions, key=lambda a: int(a.get("id") or 0)):
            if action.get("action") != "commented" or not self._is_bot(action.get("actor")):
                continue
            marker = parse_zentao_marker(str(action.get("comment") or ""), tag)
            if marker is not None:
                found.append(ManagedComment(issue_key, str(action.get("id")), marker[1]))
        return found

    def managed_comments(self, issue_key: str) -> list[ManagedComment]:
        """The bot's remarks that start with the marker, oldest first, read from the
        item's actions (those read in this run, else read now). A remark by anyone else
        never counts."""
        actions = self._fresh.get(issue_key)
        if actions is None:
            try:
                actions = self._actions(issue_key)
            except _HttpError as exc:
                if exc.status == 404:
                    return []
                raise self._run_error(f"reading the remarks of {issue_key}", exc) from None
            except (_Malformed, requests.RequestException) as exc:
                raise self._run_error(f"reading the remarks of {issue_key}", exc) from None
        return self._managed(issue_key, actions or [])

    def find_managed_comment(self, issue_key: str) -> ManagedComment | None:
        found = self.managed_comments(issue_key)
        return found[0] if found else None

    # -- writes ---------------------------------------------------------------------------

    def apply(self, operations: Sequence[Operation]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for op in operations:
            try:
                outcomes.append(Outcome(op, comment_id=self._apply_one(op)))
            except IssueError as exc:
                outcomes.append(Outcome(op, error=exc))
        return outcomes

    def _apply_one(self, op: Operation) -> str | None:
        kind, number = self._split(op.issue_key)
        try:
            if op.kind == LABELS:
                self._apply_labels(op, kind, number)
                return None
            if op.kind == COMMENT_CREATE:
                assert op.comment is not None
                return self._create_comment(op.issue_key, kind, number, op.comment)
            if op.kind == COMMENT_UPDATE:
                assert op.comment is not None and op.comment_id is not None
                return self._edit_comment(op.issue_key, kind, number, op.comment_id, op.comment)
            if op.kind == COMMENT_DELETE:
                assert op.comment_id is not None
                try:
                    self._edit_comment(op.issue_key, kind, number, op.comment_id, WITHDRAWN)
                except IssueError as exc:
                    if exc.status != 404:  # already gone: the goal is reached
                        raise
                return None
        except _HttpError as exc:
            if exc.status == 401:
                raise self._run_error(f"writing {op.issue_key}", exc) from None
            raise IssueError(
                op.issue_key,
                f"HTTP {exc.status} on {op.kind} ({op.reason}): {exc.detail}",
                status=exc.status,
            ) from None
        except (_Malformed, requests.RequestException) as exc:
            raise IssueError(op.issue_key, f"{op.kind} ({op.reason}) failed: {exc}") from None
        raise ValueError(f"the ZenTao source cannot apply {op.kind!r} operations")

    def _apply_labels(self, op: Operation, kind: str, number: int) -> None:
        """Write the keywords through the web form that keeps every other field (a bug:
        the batch edit; a story: the edit form, posted with the fields it would
        otherwise reset), then read the item back and compare every field."""
        if kind == "task":
            raise IssueError(op.issue_key, "ZenTao tasks have no keywords to label")
        if kind in self._unsafe:
            raise IssueError(
                op.issue_key,
                f"keywords not written: writing those of {self._unsafe[kind]} changed other "
                f"fields, so jira-chase writes no {kind} keywords for the rest of this run",
            )
        path = f"/{KINDS[kind][1]}/{number}"
        item = self._get(path)
        self._fresh[op.issue_key] = [a for a in item.get("actions") or () if isinstance(a, dict)]
        current = _keywords(item.get("keywords"))
        wanted = edit_keywords(current, op.add, op.remove)
        if wanted == current:
            return
        if len(html.escape(wanted)) > KEYWORDS_MAX_CHARS:  # as stored: HTML-escaped
            raise IssueError(
                op.issue_key,
                f"its keywords would grow past ZenTao's "
                f"{KEYWORDS_MAX_CHARS} characters ({op.reason})",
            )
        if kind == "bug" and (cause := _edit_side_effect(item)) is not None:
            self._refuse(op.issue_key, kind, item, cause)
        if kind == "bug":
            module, method = "bug", "batchEdit"
            params, form = {"productID": int(item.get("product") or 0)}, _bug_form(item, wanted)
        else:
            module, method = "story", "edit"
            params, form = {"storyID": number}, self._story_form(op.issue_key, item, wanted)
        lost: Exception | None = None
        try:
            self._post_form(module, method, params, form)
        except (requests.ConnectionError, requests.Timeout, *BODY_ERRORS) as exc:
            lost = exc  # it may or may not have been made: the read-back tells
        after = self._get(path)
        self._fresh[op.issue_key] = [a for a in after.get("actions") or () if isinstance(a, dict)]
        self._verify(op, kind, item, after, lost)

    def _story_form(self, key: str, item: Mapping[str, Any], wanted: str) -> list[tuple[str, str]]:
        """`storyModel::update()` resets what is not posted: `assignedDate` (unless
        `assignedTo` is the same), `mailto`, `plan`, `notifyEmail`, `linkStories`, and
        `feedbackBy` (unless `source` is a feedback source); `reviewer` is required in
        `draft` and `changing`. Unposted title, spec and verify are kept as stored."""
        status = item.get("status")
        assignee = _account(item.get("assignedTo")) or ("closed" if status == "closed" else "")
        form = [
            ("product", _raw(item.get("product"))),
            ("source", _raw(item.get("source"))),
            ("feedbackBy", _raw(item.get("feedbackBy"))),
            ("notifyEmail", _raw(item.get("notifyEmail"))),
            ("assignedTo", assignee),
            ("linkStories", _raw(item.get("linkStories"))),
            ("keywords", wanted),
        ]
        if item.get("type") == "requirement":
            form.append(("linkRequirements", _raw(item.get("linkRequirements"))))
        # The plans after an empty first element, as the form's select posts them: a
        # non-empty first element moves a story in stage `wait` to `planned`.
        plans = re.findall(r"\d+", str(item.get("plan") or ""))
        form += [("plan[]", p) for p in ["", *plans]]
        form += [("mailto[]", a) for a in map(_account, item.get("mailto") or ()) if a]
        if status == "changing" and item.get("reviewedBy"):
            self._refuse(
                key,
                "story",
                item,
                f"story {item.get('id')} is being changed and names who reviewed it; "
                "ZenTao's edit of such a story clears that",
            )
        if status in ("draft", "changing"):
            reviewers = [_account(r) for r in item.get("reviewer") or ()]
            if not any(reviewers):
                raise IssueError(
                    key,
                    f"a story in status {status!r} can be edited only "
                    "with its reviewers, and ZenTao lists none for it",
                )
            form += [("reviewer[]", r) for r in reviewers if r]
        return form

    def _verify(
        self,
        op: Operation,
        kind: str,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        lost: Exception | None = None,
    ) -> None:
        """Every field ZenTao shows must be as it was, but the keywords and the edit's
        bookkeeping; the edit's history must log only the keywords. Otherwise the write
        was lossy: a data-safety failure, and no more keywords of this kind this run."""
        key = op.issue_key
        changed = {
            field: (before.get(field), after.get(field))
            for field in sorted(set(before) | set(after))
            if field not in _BOOKKEEPING and before.get(field) != after.get(field)
        }
        seen = {str(a.get("id")) for a in before.get("actions") or () if isinstance(a, dict)}
        for action in after.get("actions") or ():
            if not isinstance(action, dict) or str(action.get("id")) in seen:
                continue
            for row in action.get("history") or ():
                field = str(row.get("field") if isinstance(row, dict) else "?")
                if field != "keywords" and field not in changed:
                    changed[field] = (row.get("old"), row.get("new"))
        if changed:
            self._unsafe[kind] = key
            detail = "; ".join(f"{f} {old!r} -> {new!r}" for f, (old, new) in changed.items())
            raise IssueError(
                key,
                f"DATA SAFETY: writing its keywords also changed {', '.join(changed)} "
                f"({detail}); jira-chase writes no {kind} keywords for the rest of this run. "
                "Restore those fields in ZenTao and report this ZenTao version",
            )
        stored = after.get("keywords")
        tokens = {t.casefold() for t in keyword_tokens(_keywords(stored))}
        if all(a.casefold() in tokens for a in op.add) and not any(
            r.casefold() in tokens for r in op.remove
        ):
            return
        if stored != before.get("keywords"):
            raise IssueError(key, f"ZenTao did not keep the keywords (it has {stored!r})")
        if lost is not None:
            raise IssueError(
                key,
                f"the keyword edit got no answer ({type(lost).__name__}) and ZenTao has not "
                "made it; the next run tries again",
            )
        cause = _refusal(kind, after)
        if cause is None:
            privilege = "bug-batchEdit" if kind == "bug" else "story-edit"
            raise IssueError(
                key,
                "ZenTao kept nothing of the keyword edit: zentao.account "
                f"needs the privilege {privilege}, or ZenTao rejects edits to this {kind}",
            )
        self._refuse(key, kind, after, cause)

    def _refuse(self, key: str, kind: str, item: Mapping[str, Any], cause: str) -> None:
        """Remember that this item cannot be labelled as it is, and say why, once."""
        self.memory.remember(REFUSED, key, f"{item.get('lastEditedDate') or ''}\t{cause}")
        raise IssueError(
            key,
            f"{cause}; jira-chase leaves its labels alone until the {kind} changes "
            "(its comment still carries the findings)",
        )

    def _post_form(
        self, module: str, method: str, params: Mapping[str, Any], form: Sequence[tuple[str, str]]
    ) -> None:
        """POST a web form (`index.php?m=<module>&f=<method>`) with the API session as
        `zentaosid` (which also exempts it from ZenTao's referer check). The answer is
        an HTML page whatever happened, so callers read the item back to know. A login
        page means the session ended: sign in again and post once more."""
        for attempt in range(2):
            query = {"m": module, "f": method, **params, "zentaosid": self._session()}
            response = self.http.post(
                self.base + "/index.php",
                params=query,
                data=list(form),
                timeout=self.settings.timeout,
            )
            if response.status_code >= 400:
                raise _HttpError(response.status_code, _detail(response))
            if "f=login" not in response.text or attempt:
                return
            log.info("ZenTao answered its sign-in page (the session expired); signing in again")
            self._token = None

    def _post_remark(self, method: str, params: Mapping[str, Any], form: Mapping[str, str]) -> None:
        self._post_form("action", method, params, list(form.items()))

    def _create_comment(self, key: str, kind: str, number: int, doc: CommentDoc) -> str:
        """Look for the tagged remark first (a run may have died after posting it), post
        it, and read it back; a post whose fate is unknown is looked for, then made once
        more."""
        existing = next(iter(self._managed(key, self._actions(key) or [], doc.tag)), None)
        if existing is not None:
            if existing.digest != doc.digest:
                return self._edit_comment(key, kind, number, existing.comment_id, doc)
            return existing.comment_id
        html = to_zentao_html(doc)
        for attempt in range(2):
            try:
                self._post_remark(
                    "comment", {"objectType": kind, "objectID": number}, {"comment": html}
                )
            except _HttpError as exc:
                if exc.status < 500:
                    raise
            except (requests.ConnectionError, requests.Timeout, *BODY_ERRORS):
                pass  # it may or may not have been made: look
            found = self._managed(key, self._actions(key) or [], doc.tag)
            if found:
                return found[0].comment_id
            if attempt == 0:
                self.stats.retries += 1
                log.info("%s: the remark did not appear; posting it once more", key)
        raise IssueError(
            key,
            "the managed comment did not appear after posting it twice: "
            "zentao.account needs the privilege to comment (action-comment)",
        )

    def _edit_comment(
        self, key: str, kind: str, number: int, comment_id: str, doc: CommentDoc
    ) -> str:
        """Rewrite the bot's remark in place (`f=editComment`) and read it back."""
        html = to_zentao_html(doc)
        for attempt in range(2):
            try:
                self._post_remark("editComment", {"actionID": comment_id}, {"lastComment": html})
            except _HttpError as exc:
                if exc.status < 500:
                    raise
            except (requests.ConnectionError, requests.Timeout, *BODY_ERRORS):
                pass  # an edit is idempotent: read back, then try again
            actions = self._actions(key) or []
            action = next((a for a in actions if str(a.get("id")) == comment_id), None)
            if (
                action is None
                or action.get("action") != "commented"
                or not self._is_bot(action.get("actor"))
            ):
                raise IssueError(key, f"the managed comment {comment_id} is gone", status=404)
            marker = parse_zentao_marker(str(action.get("comment") or ""), doc.tag)
            if marker is not None and marker[1] == doc.digest:
                return comment_id
            if attempt == 0:
                self.stats.retries += 1
        raise IssueError(
            key,
            f"ZenTao did not apply the edit of the managed comment {comment_id}: "
            "zentao.account needs the privilege to edit remarks "
            "(action-editComment)",
        )
