"""The Jira site jira-chase talks to: the `jira` client, its retries, what the requests
cost, and Jira's answers turned into errors that say what to fix.

`JiraSite` holds what Cloud and Data Center share; `CloudSite` (cloud.py) and
`DataCenterSite` (datacenter.py) add what differs: the API version and credentials,
how the scope is searched and counted, how changelogs come, how a managed comment is
written and recognised, and whether labels may be bulk-edited.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError
from requests.adapters import HTTPAdapter

from jira_chase.config.settings import JiraSettings
from jira_chase.engine.comment import CommentDoc, Marker
from jira_chase.errors import ConfigError, TrackerError
from jira_chase.sources import json_body
from jira_chase.sources.base import (
    SITE_FACTS,
    Memory,
    ScratchMemory,
    ServerIdentity,
    SourceStats,
)
from jira_chase.sources.http import (
    BODY_ERRORS,
    backoff_delay,
    connection_failure,
    describe_page,
    environment_read_once,
    looks_like_html,
    not_json_at_all,
    retry_policy,
    timed_out,
    timeouts,
)

T = TypeVar("T")

#: Request parameters Jira may name in a 400: an error about one of them is about the
#: request jira-chase sent, not about the JQL in jira.scope.
REQUEST_PARAMETERS = (
    "validateQuery",
    "maxResults",
    "startAt",
    "nextPageToken",
    "fieldsByKeys",
    "reconcileIssues",
)
#: Page size of a key-only listing of the scope (Cloud allows up to 5000 then).
KEY_PAGE_SIZE = 5000
#: The facts kind that keeps the largest page a site accepts, once it refused one.
PAGE_FACTS = "jira-page"
#: What rarely changes on a site, kept between runs (SITE_FACTS): its server info, the
#: bot's account, its statuses and fields (fact key -> JSON: the credentials' print,
#: when it was read, the answer). Read again after a day, with other credentials or URL,
#: and after a run that failed (see sync.run).
SITE_FACTS_TTL = timedelta(days=1)


class RejectedParameter(TrackerError):
    """Jira refused a request parameter jira-chase sent (HTTP 400 naming it)."""

    def __init__(self, message: str, parameter: str, detail: str):
        super().__init__(message)
        self.parameter = parameter
        self.detail = detail

    def allowed_page_size(self) -> int | None:
        """The page size a refused `maxResults` names as the most allowed, if any."""
        if self.parameter != "maxResults":
            return None
        found = re.search(r"(?:<=?|at most|maximum(?: of| is)?|up to|exceed)\D{0,20}(\d+)",
                          self.detail)  # fmt: skip
        return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def error_text(exc: JIRAError) -> str:
    """Jira's own errorMessages/errors, falling back to the library's text."""
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            messages = list(body.get("errorMessages") or [])
            errors = body.get("errors") or {}
            if isinstance(errors, dict):
                messages += [f"{k}: {v}" for k, v in errors.items()]
            if messages:
                return "; ".join(str(m) for m in messages)
    text = (exc.text or "").strip()
    if looks_like_html(text):
        return f"{describe_page(text)}, not a Jira REST API answer"
    return text[:300] or "no details"


def _parameter_named(detail: str) -> str | None:
    """The request parameter a Jira error message is about, if it names one (a JSON
    body's unknown key: `Unrecognized field "x"`)."""
    unknown = re.search(r'Unrecognized field "([^"]+)"', detail)
    if unknown:
        return unknown.group(1)
    for name in REQUEST_PARAMETERS:
        if re.search(rf"(?<![A-Za-z]){name}(?![A-Za-z])", detail):
            return name
    return None


class JiraSite(ABC):
    """One Jira site over the `jira` library, signed in as the bot.

    Retries live in the HTTP adapters (urllib3 `Retry`), not in a loop of ours: reads
    and idempotent writes (label add/remove, comment edit and delete) are retried;
    creating a comment is not, and is checked for before it is tried again.
    """

    #: The REST API version the site is spoken to in.
    api: str
    #: What the bot's secret is called on this kind of site.
    token_name: str
    #: What to check when the site answers 401.
    credentials_hint: str
    #: Paths below the site whose POSTs only read (or, for bulk label edits, converge)
    #: and so may be repeated.
    reader_paths: tuple[str, ...]
    #: Page size when listing only keys (or other small fields) of the scope.
    key_page_size: int
    #: Whether identical label changes on many issues may go as one bulk edit.
    bulk_edit: bool

    def __init__(self, settings: JiraSettings):
        self.settings = settings
        self.stats = SourceStats()
        self.memory: Memory = ScratchMemory()
        self._bot_id: str | None = None
        token = settings.token.get_secret_value()
        if not token.strip():
            # Never send an empty secret: say which setting is missing, before any request.
            raise ConfigError(
                [
                    "jira.token is empty: set JIRA_CHASE_JIRA__TOKEN to the bot account's "
                    + self.token_name
                ]
            )
        options = {"rest_api_version": self.api, "check_update": False}
        try:
            self.client = JIRA(
                server=settings.url,
                options=options,
                **self.credentials(settings.email, token),
                timeout=timeouts(settings.timeout),
                # The library's own retry loop retries POSTs too and cannot read an
                # HTTP-date Retry-After; switch it off in favour of the adapters below.
                max_retries=0,
                get_server_info=False,
                logging=False,
            )
        except (JIRAError, requests.RequestException, ValueError, KeyError) as exc:
            raise self.run_error("connecting", exc) from None
        self._mount_retries()
        self.client._session.hooks["response"].append(self._count)
        json_body.install(self.client._session)
        self._server_info: dict[str, Any] | None = None
        self._print = hashlib.sha256(
            json.dumps([settings.url.rstrip("/"), self.api, settings.email, token]).encode()
        ).hexdigest()[:16]
        # The field list is the library's call (the reader asks for it); it is a site
        # fact like the others.
        library_fields = self.client.fields
        self.client.fields = lambda: self.site_fact("field", library_fields)  # type: ignore[method-assign]

    @property
    def server_info(self) -> dict[str, Any]:
        """The site's server info, read (or recalled, see SITE_FACTS) before the first
        other request."""
        if self._server_info is None:
            self._server_info = {}  # (while it is read: its own request comes first)
            try:
                info = self.site_fact(
                    "serverInfo", lambda: self.call("checking the server", self.client.server_info)
                )
            except TrackerError as exc:
                self._server_info = None
                raise self.no_server_info(exc) from None
            self._server_info = info if isinstance(info, dict) else {}
            # Without these the library treats Cloud as Server and falls back to the
            # removed /search (see the library's start-up serverInfo call).
            self.client.deploymentType = self._server_info.get("deploymentType")
            self.client._version = tuple(self._server_info.get("versionNumbers") or (0, 0, 0))
        return self._server_info

    def site_fact(self, name: str, read: Callable[[], T]) -> T:
        """What `read` answers, recalled from the memory when it was read there in the
        last day with the same URL and credentials (SITE_FACTS); else read and kept."""
        now = datetime.now(timezone.utc)
        kept = self.memory.recall(SITE_FACTS).get(name)
        if kept is not None:
            try:
                doc = json.loads(kept)
                at = datetime.fromisoformat(doc["at"])
                if doc["for"] == self._print and timedelta(0) <= now - at < SITE_FACTS_TTL:
                    return doc["value"]
            except (ValueError, KeyError, TypeError):
                pass
        value = read()
        doc = {"for": self._print, "at": now.isoformat(), "value": value}
        self.memory.remember(SITE_FACTS, name, json.dumps(doc, separators=(",", ":")))
        return value

    # -- what differs between Cloud and Data Center ---------------------------------

    @abstractmethod
    def credentials(self, email: str, token: str) -> dict[str, Any]:
        """The `jira` library's authentication arguments for the bot."""

    @abstractmethod
    def check_deployment(self, reported: str) -> None:
        """Stop with the setting to change when the site's `deploymentType` is not the
        kind jira.deployment names."""

    @abstractmethod
    def count_scope(self, jql: str) -> int:
        """How many issues `jql` matches (Cloud: its estimate)."""

    @abstractmethod
    def search_pages(
        self, jql: str, fields: list[str], expand: str | None, doing: str, size: int
    ) -> Iterator[dict[str, Any]]:
        """Every issue `jql` matches as raw JSON, page by page of `size`."""

    @abstractmethod
    def whole_changelogs(self, raws: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The issues of a search with their complete changelogs."""

    @abstractmethod
    def comment_listing(self) -> dict[str, Any]:
        """Parameters a comment listing needs beyond paging to show the bot's tags."""

    @abstractmethod
    def comment_marker(self, comment: dict[str, Any], tag: str = "") -> Marker | None:
        """The marker a managed comment of the kind `tag` carries, None when `comment`
        is not one."""

    @abstractmethod
    def comment_payload(self, comment: CommentDoc, seal: str) -> dict[str, Any]:
        """The JSON body that writes `comment` as the bot's tagged comment, its marker
        sealed with `seal`."""

    # -- what both do alike ---------------------------------------------------------

    def no_server_info(self, exc: TrackerError) -> TrackerError:
        """The error to stop with when the site would not say what it is."""
        return exc

    def validate_scope(self) -> int:
        return self.count_scope(self.settings.scope)

    def search(
        self,
        jql: str,
        fields: list[str],
        expand: str | None = "changelog",
        doing: str = "searching jira.scope",
        max_results: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every issue `jql` matches, in pages of `max_results` (default jira.page_size)
        or of the largest page the site accepts, whichever is smaller. A site that
        refuses a page size with a 400 naming its limit is asked again with that size,
        and the limit is remembered for the next runs."""
        size = max_results or self.settings.page_size
        while True:
            limit = self.memory.recall(PAGE_FACTS).get("maxResults")
            if limit is not None and limit.isdigit() and int(limit) > 0:
                size = min(size, int(limit))
            started = False
            try:
                for raw in self.search_pages(jql, fields, expand, doing, size):
                    started = True
                    yield raw
                return
            except RejectedParameter as exc:
                allowed = exc.allowed_page_size()
                if started or allowed is None or allowed >= size:
                    raise
                self.memory.remember(PAGE_FACTS, "maxResults", str(allowed))

    def identify(self) -> ServerIdentity:
        info = self.server_info
        me = self.site_fact(
            "myself", lambda: self.call("checking the credentials", self.client.myself)
        )
        deployment = str(info.get("deploymentType") or "Server")
        self.check_deployment(deployment)
        self._bot_id = str(me.get("accountId") or me.get("name") or me.get("key") or "")
        user = me.get("emailAddress") or me.get("name") or me.get("accountId") or "?"
        return ServerIdentity(
            tracker="jira",
            url=self.settings.url,
            version=str(info.get("version", "?")),
            deployment=deployment,
            user=str(user),
            user_id=self._bot_id,
        )

    def bot_id(self) -> str:
        if self._bot_id is None:
            self.identify()
        assert self._bot_id is not None
        return self._bot_id

    def _mount_retries(self) -> None:
        session = self.client._session
        base = self.settings.url.rstrip("/")
        retries, backoff = self.settings.retries, self.settings.backoff
        idempotent = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
        environment_read_once(session, base)
        session.mount(base, HTTPAdapter(max_retries=retry_policy(retries, backoff, idempotent)))
        reader = HTTPAdapter(max_retries=retry_policy(retries, backoff, (*idempotent, "POST")))
        for path in self.reader_paths:
            session.mount(base + path, reader)

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.stats.requests += 1
        self.stats.by_status[response.status_code] = (
            self.stats.by_status.get(response.status_code, 0) + 1
        )
        history = getattr(getattr(response.raw, "retries", None), "history", ())
        self.stats.retries += len(history)

    def call(self, doing: str, func: Callable[[], T]) -> T:
        """Run one read, retrying a body that arrives cut off (the adapters cannot see
        that: requests reads bodies after urllib3 has returned)."""
        self.server_info  # noqa: B018 - read first: the library needs to know the site
        for attempt in range(self.settings.retries + 1):
            try:
                return func()
            except BODY_ERRORS as exc:
                if attempt == self.settings.retries:
                    raise self.run_error(doing, exc) from None
                self.stats.retries += 1
                time.sleep(backoff_delay(attempt, self.settings.backoff))
            except (JIRAError, requests.RequestException, ValueError, KeyError) as exc:
                if isinstance(exc, ValueError) and attempt < self.settings.retries:
                    # A body that is not JSON: a truncated answer; read again.
                    self.stats.retries += 1
                    continue
                raise self.run_error(doing, exc) from None
        raise AssertionError("unreachable")

    def run_error(self, doing: str, exc: Exception) -> TrackerError:
        """The error that ends the run after `exc` while `doing`, naming what to fix."""
        if isinstance(exc, JIRAError):
            status = exc.status_code
            detail = error_text(exc)
            if status == 401:
                return TrackerError(
                    f"Jira answered HTTP 401 while {doing}: check {self.credentials_hint} "
                    f"(JIRA_CHASE_JIRA__TOKEN) for {self.settings.url}"
                )
            if status == 403:
                return TrackerError(
                    f"Jira answered HTTP 403 while {doing}: the bot account lacks permission "
                    f"({detail})"
                )
            if status == 400:
                parameter = _parameter_named(detail)
                if parameter is not None:
                    hint = (
                        "check that jira.deployment matches the site"
                        if self._deployment_wrong()
                        else f"this site does not accept the {parameter!r} jira-chase sent"
                        + (": lower jira.page_size" if parameter == "maxResults" else "")
                    )
                    return RejectedParameter(
                        f"Jira rejected the request parameter {parameter!r} (HTTP 400) while "
                        f"{doing}: {detail!r} — the request, not jira.scope, is at fault: " + hint,
                        parameter,
                        detail,
                    )
                if "scope" in doing:
                    return TrackerError(
                        f"Jira rejected jira.scope (HTTP 400): {detail!r} — fix the JQL in "
                        "jira.scope"
                    )
            return TrackerError(f"Jira answered HTTP {status} while {doing}: {detail}")
        if isinstance(exc, json.JSONDecodeError) and not_json_at_all(exc.doc):
            # A 200 whose body is not JSON: a login page, a proxy, the wrong address.
            return TrackerError(
                f"jira.url = {self.settings.url} answered {describe_page(exc.doc)} instead "
                f"of JSON while {doing}: it is not a Jira REST API; set jira.url to the "
                "site's base URL"
            )
        failure = connection_failure(exc)
        if failure is not None:
            return TrackerError(
                f"cannot reach Jira at jira.url = {self.settings.url} while {doing}: {failure}"
            )
        if timed_out(exc):
            return TrackerError(
                f"Jira did not answer within jira.timeout = {self.settings.timeout}s while "
                f"{doing} ({self.settings.url})"
            )
        if isinstance(exc, ValueError):  # also requests' JSONDecodeError
            return TrackerError(f"unexpected answer from Jira while {doing}: {exc}")
        if isinstance(exc, requests.RequestException):
            return TrackerError(f"cannot reach Jira at {self.settings.url} while {doing}: {exc}")
        return TrackerError(f"unexpected answer from Jira while {doing}: {exc}")

    def _deployment_wrong(self) -> bool:
        """Whether the site's server info says it is not the kind jira.deployment names
        (unknown before the server info has been read: then it may be)."""
        info = self._server_info
        if not info:
            return True
        try:
            self.check_deployment(str(info.get("deploymentType") or "Server"))
        except TrackerError:
            return True
        return False

    def url(self, path: str) -> str:
        self.server_info  # noqa: B018 - read first: the library needs to know the site
        return str(self.client._get_url(path))

    def get_json(self, path: str, params: dict[str, Any], doing: str) -> dict[str, Any]:
        def get() -> dict[str, Any]:
            result = self.client._session.get(self.url(path), params=params).json()
            if not isinstance(result, dict):
                raise ValueError("not a JSON object")
            return result

        return self.call(doing, get)

    def post_json(self, path: str, body: dict[str, Any], doing: str) -> dict[str, Any]:
        def post() -> dict[str, Any]:
            response = self.client._session.post(self.url(path), data=json.dumps(body))
            result = response.json()
            if not isinstance(result, dict):
                raise ValueError("not a JSON object")
            return result

        return self.call(doing, post)

    def get_list(self, path: str, doing: str) -> list[Any]:
        def get() -> list[Any]:
            result = self.client._session.get(self.url(path)).json()
            if not isinstance(result, list):
                raise ValueError("not a JSON list")
            return result

        return self.call(doing, get)

    def request_json(
        self, method: str, path: str, doing: str, *, params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:  # fmt: skip
        """One call of the REST API under `rest/api/<version>/`, its JSON answer. HTTP
        errors come back as `JIRAError` (a 4xx names what Jira refused); a failing
        connection or a 5xx after the retries ends the run."""

        def call() -> Any:
            response = self.client._session.request(
                method, self.url(path), params=params,
                data=json.dumps(body) if body is not None else None,
            )  # fmt: skip
            return response.json()

        try:
            return call()
        except JIRAError as exc:
            if exc.status_code in range(400, 500) and exc.status_code != 401:
                raise
            raise self.run_error(doing, exc) from None
        except (requests.RequestException, ValueError) as exc:
            raise self.run_error(doing, exc) from None
