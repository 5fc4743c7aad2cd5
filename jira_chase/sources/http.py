"""What every tracker source does the same way over HTTP: the retry policy and pauses.

Retries live in urllib3's `Retry` on the session's adapters (429 and 5xx and lost
connections, Retry-After honoured, exponential backoff with jitter); `backoff_delay`
serves the few places the adapters cannot see — a body cut off after the status line,
or a write that must not be repeated blindly.
"""

from __future__ import annotations

import html
import os
import random
import re
from collections.abc import Sequence

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)
#: Atlassian's recommended cap on a single backoff pause, in seconds.
BACKOFF_MAX = 30.0
#: Seconds to wait for a connection (at most the configured timeout): a tracker that is
#: up accepts one at once, and a run against an unreachable one should fail fast.
CONNECT_TIMEOUT = 5.0
#: Retries of a connection that could not be made: a refused connection or a name that
#: does not resolve is seldom cured by waiting, so one more try is all it gets.
CONNECT_RETRIES = 1
#: Errors in reading a body after the status line: the answer was cut off.
BODY_ERRORS = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


def retry_policy(retries: int, backoff: float, methods: Sequence[str]) -> Retry:
    """Retry 429, 5xx and connection failures up to `retries` times, honouring
    Retry-After (seconds or an HTTP date), else backing off from `backoff` seconds,
    doubling, with jitter, capped at 30 s. Only `methods` are repeated once the request
    may have reached the server."""
    return Retry(
        total=retries,
        connect=min(retries, CONNECT_RETRIES),
        read=retries,
        status=retries,
        other=0,
        allowed_methods=frozenset(methods),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=backoff * 0.3,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def page_title(text: str | None) -> str | None:
    """The title of an HTML page, None when `text` is not one (or has none)."""
    found = _TITLE.search(text or "")
    if found is None:
        return None
    title = re.sub(r"\s+", " ", html.unescape(found.group(1))).strip()
    return title[:120] or None


def looks_like_html(text: str | None) -> bool:
    head = (text or "").lstrip()[:200].lower()
    return head.startswith("<!doctype html") or head.startswith("<html") or "<head" in head


def not_json_at_all(text: str | None) -> bool:
    """An answer that is no JSON at all (a web page, plain text), as opposed to JSON cut
    short or malformed."""
    return not (text or "").lstrip().startswith(("{", "["))


def describe_page(text: str | None) -> str:
    """A non-JSON answer in a few words: a page's title, never the page itself."""
    title = page_title(text)
    if title:
        return f"a web page titled {title!r}"
    if looks_like_html(text):
        return "a web page"
    body = re.sub(r"\s+", " ", text or "").strip()
    return f"text starting {body[:60]!r}" if body else "an empty answer"


def backoff_delay(attempt: int, backoff: float, retry_after: str | None = None) -> float:
    """Seconds to wait before try `attempt + 1`: the server's Retry-After when it sent a
    readable one, else `backoff * 2**attempt` with ±30% jitter; never over 30 s."""
    if retry_after:
        try:
            return min(BACKOFF_MAX, Retry().parse_retry_after(retry_after))
        except InvalidHeader:
            pass
    return min(BACKOFF_MAX, backoff * 2**attempt) * random.uniform(0.7, 1.3)


def timeouts(timeout: float) -> tuple[float, float]:
    """(connect, read) timeouts for requests: the connect part at most CONNECT_TIMEOUT."""
    return (min(CONNECT_TIMEOUT, timeout), timeout)


def connection_failure(exc: BaseException) -> str | None:
    """Why no connection could be made, in words (None when one was made): the host name
    does not resolve, the connection was refused, or none came within the time."""
    reason: object = exc.args[0] if isinstance(exc, requests.RequestException) and exc.args else exc
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, NameResolutionError):
        return f"the host name {reason.conn.host!r} does not resolve (DNS)"
    if isinstance(reason, NewConnectionError):
        text = str(reason)
        if "refused" in text.casefold():
            return "the connection was refused (nothing listens at that address and port)"
        return "no connection could be made: " + text.rsplit(": ", 1)[-1]
    if isinstance(reason, ConnectTimeoutError):
        return "no connection within the connect timeout"
    return None


def timed_out(exc: BaseException) -> bool:
    """Whether a failed request ran out of time: a `requests.Timeout`, or the timeout
    that ended the adapter's last retry (requests reports that as a ConnectionError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, ReadTimeoutError)


def environment_read_once(session: requests.Session, url: str) -> None:
    """Read what the environment says about connecting to `url` (proxies, `NO_PROXY`,
    `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE`) once, into the session, instead of on every
    request (requests walks the whole environment per request: a run sends
    thousands). Every request of a source goes to that one site."""
    if not session.trust_env:
        return
    proxies = requests.utils.get_environ_proxies(url)
    for scheme, proxy in proxies.items():
        session.proxies.setdefault(scheme, proxy)
    if session.verify is True or session.verify is None:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
    netrc = requests.utils.get_netrc_auth(url)
    if netrc is not None and session.auth is None:
        session.auth = netrc
    session.trust_env = False
