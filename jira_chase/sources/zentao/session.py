"""The conversation with ZenTao: signing in (an API token is a session id), signing in
again when the session expires, JSON reads that survive cut answers, paged lists, web
forms posted with the API session, and failures as errors that name the setting to fix."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from jira_chase.config.settings import ZenTaoSettings
from jira_chase.errors import ConfigError, TrackerError
from jira_chase.sources import json_body
from jira_chase.sources.base import SourceStats
from jira_chase.sources.http import (
    BODY_ERRORS,
    backoff_delay,
    connection_failure,
    describe_page,
    not_json_at_all,
    retry_policy,
    timeouts,
)

# One logger for the whole ZenTao source: its name is part of every log line.
log = logging.getLogger(__package__)


class HttpError(Exception):
    """An error answer from ZenTao."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class Malformed(ValueError):
    """An answer that is not the JSON object expected, even after reading it again;
    `page` is the answer's text when it was not JSON at all."""

    def __init__(self, message: str, page: str | None = None):
        super().__init__(message)
        self.page = page


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


def _decoded(text: str) -> Any:
    """JSON text decoded, however deeply it nests (too deep a value stands as None)."""
    try:
        return json.loads(text)
    except RecursionError:
        return json_body.loads_bounded(text)[0]


class ZenTaoSession:
    """Requests to one ZenTao as `zentao.account`, signed in on first use and again
    whenever ZenTao says the session ended; `stats` counts every request and retry."""

    def __init__(self, settings: ZenTaoSettings):
        if not settings.password.get_secret_value():
            # An empty password would still count towards ZenTao's account lockout.
            raise ConfigError(
                ["zentao.password is empty: set JIRA_CHASE_ZENTAO__PASSWORD to the bot "
                 f"account's password (zentao.account = {settings.account!r})"]
            )  # fmt: skip
        self.settings = settings
        self.stats = SourceStats()
        self.base = settings.url.rstrip("/")
        self.api = self.base + "/api.php/v1"
        #: How often the session was renewed after a 401 (tokens are session ids).
        self.logins = 0
        self.http = requests.Session()
        self.http.hooks["response"].append(self._count)
        json_body.install(self.http)
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

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.stats.requests += 1
        status = response.status_code
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        history = getattr(getattr(response.raw, "retries", None), "history", ())
        self.stats.retries += len(history or ())

    def run_error(self, doing: str, exc: Exception) -> TrackerError:
        """The failure of a request the run cannot do without, as one clear error."""
        if isinstance(exc, HttpError):
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
        failure = connection_failure(exc)
        if failure is not None:
            return TrackerError(
                f"cannot reach ZenTao at zentao.url = {self.base} while {doing}: {failure}"
            )
        if _timed_out(exc):
            return TrackerError(
                f"ZenTao did not answer within zentao.timeout = {self.settings.timeout:g}s "
                f"while {doing} ({self.base})"
            )
        if isinstance(exc, requests.RequestException):
            return TrackerError(
                f"cannot reach ZenTao at zentao.url = {self.base} while {doing}: {exc}"
            )
        if isinstance(exc, Malformed) and exc.page is not None:
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
            response = self.http.post(url, json=body, timeout=timeouts(self.settings.timeout))
        except requests.RequestException as exc:
            raise self.run_error("signing in", exc) from None
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
                method,
                self.api + path,
                headers=headers,
                timeout=timeouts(self.settings.timeout),
                **kwargs,
            )
            if response.status_code != 401 or attempt:
                return response
            log.info("ZenTao answered 401 (the session expired); signing in again")
            self._token = None
        raise AssertionError("unreachable")

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET a JSON object. Raises HttpError, Malformed or requests' errors; a body cut
        short or not JSON is read again (the adapters cannot see those)."""
        for attempt in range(self.settings.retries + 1):
            try:
                response = self._send("GET", path, params=dict(params or {}))
                if response.status_code >= 400:
                    raise HttpError(response.status_code, _detail(response))
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
                    raise Malformed(str(exc), page) from None
                self.stats.retries += 1
                time.sleep(backoff_delay(attempt, self.settings.backoff))
        raise AssertionError("unreachable")

    def read(self, path: str, params: Mapping[str, Any] | None, doing: str) -> dict[str, Any]:
        """A read the run cannot do without: any failure is a TrackerError."""
        try:
            return self.get(path, params)
        except (HttpError, Malformed, requests.RequestException) as exc:
            raise self.run_error(doing, exc) from None

    def pages(
        self, path: str, params: Mapping[str, Any], key: str, doing: str
    ) -> Iterator[dict[str, Any]]:
        """Every row of a paged list, by the `limit` and `total` the server answers."""
        page, count, seen = 1, 0, set()
        while True:
            body = self.read(
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

    def version(self) -> str:
        """The version ZenTao reports (`index.php?mode=getconfig`), `?` when it does not."""
        try:
            response = self.http.get(
                self.base + "/index.php",
                params={"mode": "getconfig"},
                timeout=timeouts(self.settings.timeout),
            )
            return str(response.json().get("version") or "?")
        except (requests.RequestException, ValueError, AttributeError):
            log.info("ZenTao did not report its version (index.php?mode=getconfig)")
        return "?"

    def web_view(self, module: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """A web page's data as JSON (`index.php?m=<module>&f=view&t=json`): ZenTao
        answers `{"status", "data"}` with the page's variables JSON-encoded in `data`,
        as stored (an action's `actor` is an account, where the REST API names a
        realname). A login page means the session ended: sign in again and ask once
        more. Raises HttpError, Malformed or requests' errors."""
        for attempt in range(2):
            query = {"m": module, "f": "view", **params, "t": "json",
                     "zentaosid": self._session()}  # fmt: skip
            response = self.http.get(
                self.base + "/index.php", params=query, timeout=self.settings.timeout
            )
            if response.status_code >= 400:
                raise HttpError(response.status_code, _detail(response))
            if "f=login" in response.text and not attempt:
                log.info("ZenTao answered its sign-in page (the session expired); signing in")
                self._token = None
                continue
            try:
                outer = response.json()
                inner = outer["data"] if isinstance(outer, dict) else None
                data = _decoded(inner) if isinstance(inner, str) else None
            except (ValueError, KeyError, TypeError) as exc:
                page = response.text if not_json_at_all(response.text) else None
                raise Malformed(f"the {module} page's data is not JSON ({exc})", page) from None
            if not isinstance(data, dict):
                raise Malformed(f"the {module} page's data is not a JSON object")
            return data
        raise AssertionError("unreachable")

    def post_form(
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
                timeout=timeouts(self.settings.timeout),
            )
            if response.status_code >= 400:
                raise HttpError(response.status_code, _detail(response))
            if "f=login" not in response.text or attempt:
                return
            log.info("ZenTao answered its sign-in page (the session expired); signing in again")
            self._token = None
