"""The tracker-neutral HTTP machinery every simulator is built on.

:class:`Request`, :class:`Response`, :class:`ApiError` (an error answer in Jira's
``{"errorMessages": [...], "errors": {...}}`` shape), :class:`Router` (method and path
templates to handlers) and :class:`SimulatorServer`: a ``ThreadingHTTPServer`` on a free
loopback port that counts requests, reports every exchange, adds a per-request latency
and injects the faults of a :class:`~jira_chase.simulator.faults.FaultPlan`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from jira_chase.simulator.faults import (
    APPLIED,
    MALFORMED,
    NEEDS_BODY,
    RESET_AFTER,
    RESET_BEFORE,
    SLOW,
    TRUNCATED,
    FaultPlan,
    FaultRecord,
    FaultSchedule,
)

log = logging.getLogger("jira_chase.simulator")

_Server = TypeVar("_Server", bound="SimulatorServer")
#: ``on_exchange(method, path, query, request_json, status, response_headers,
#: response_json, fault)``: ``fault`` is the injected fault kind or None; a request that
#: got no answer at all (``reset-before``) is reported with status 0.
ExchangeListener = Callable[
    [str, str, dict[str, list[str]], Any, int, dict[str, str], Any, "str | None"], None
]


class ApiError(Exception):
    """An error answer: ``{"errorMessages": [...], "errors": {...}}`` with a status.

    ``body`` replaces that shape where an endpoint documents another one (Jira's bulk
    operations answer ``{"errors": [{"message": ...}]}``).
    """

    def __init__(
        self,
        status: int,
        messages: list[str] | tuple[str, ...] = (),
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"{status}: {'; '.join(messages) or errors or body}")
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        self.body = body

    def response(self) -> Response:
        body = self.body
        if body is None:
            body = {"errorMessages": self.messages, "errors": self.errors}
        return Response(self.status, body, self.headers)


_NO_JSON = object()


@dataclass
class Request:
    """One HTTP request as a flavour sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    _json: Any = field(default=_NO_JSON, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON (None when empty); invalid JSON is a 400."""
        if self._json is _NO_JSON:
            if not self.body.strip():
                self._json = None
            else:
                try:
                    self._json = json.loads(self.body)
                except ValueError as exc:
                    raise ApiError(400, [f"The request body is not valid JSON: {exc}"]) from None
        return self._json

    def json_or_none(self) -> Any:
        """The body as JSON for recording, None when it is not JSON."""
        try:
            return self.json()
        except ApiError:
            return None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        value = self.arg(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, [f"The value '{value}' of '{name}' is not a number."]) from None

    def bool_arg(self, name: str, default: bool) -> bool:
        value = self.arg(name)
        if value is None or value == "":
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ApiError(400, [f"The value '{value}' of '{name}' is not true or false."])

    def list_arg(self, name: str) -> list[str]:
        """A comma-separated, possibly repeated parameter as one list of non-empty items."""
        return [part.strip() for item in self.query.get(name, []) for part in item.split(",")]


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable; None sends no body
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is instead of ``body`` (with ``content_type``)
    content_type: str = "application/json;charset=UTF-8"

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        try:
            text = json.dumps(self.body, separators=(",", ":"))
        except RecursionError:  # a document nested deeper than Python's stack allows
            text = dumps_deep(self.body)
        return text.encode("utf-8")


_END = object()


def dumps_deep(value: Any) -> str:
    """`value` as compact JSON, written by a loop: a comment body nested a thousand
    levels deep is valid JSON a real site serves (Jackson's limit is 1000)."""
    out: list[str] = []
    stack: list[list[Any]] = []

    def start(item: Any) -> None:
        if isinstance(item, dict):
            out.append("{")
            stack.append([iter(item.items()), "}", True])
        elif isinstance(item, (list, tuple)):
            out.append("[")
            stack.append([iter(item), "]", True])
        else:
            out.append(json.dumps(item))

    start(value)
    while stack:
        frame = stack[-1]
        item: Any = next(frame[0], _END)
        if item is _END:
            out.append(frame[1])
            stack.pop()
            continue
        if not frame[2]:
            out.append(",")
        frame[2] = False
        if frame[1] == "}":
            out.append(json.dumps(str(item[0])) + ":")
            start(item[1])
        else:
            start(item)
    return "".join(out)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Response]
    style: str  # how errors on this route are shaped; the flavour decides what it means


class Router:
    """Maps a method and a path template to a handler.

    Templates name their variables: ``/rest/api/{version:2|3}/issue/{key}``; a variable
    matches one path segment, or the given regular expression. ``style`` tags a route for
    the flavour (e.g. the error shape its answers use).
    """

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(
        self, method: str, template: str, handler: Callable[..., Response], style: str = ""
    ) -> None:
        pattern = re.sub(
            r"\{(\w+)(?::([^}]+))?\}",
            lambda m: f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})",
            template,
        )
        self._routes.append(Route(method, re.compile(f"^{pattern}$"), handler, style))

    def find(self, method: str, path: str) -> tuple[Route | None, dict[str, str], ApiError | None]:
        """The route and path variables, or the 404/405 :class:`ApiError` to answer.

        A route matching the path under another method still gives its ``style``.
        """
        path_route: Route | None = None
        for route in self._routes:
            match = route.pattern.match(path)
            if match:
                if route.method == method:
                    return route, match.groupdict(), None
                path_route = path_route or route
        if path_route is not None:
            error = ApiError(405, [f"Method {method} is not allowed for {path}."])
            return path_route, {}, error
        return None, {}, ApiError(404, [f"No resource found for {method} {path}."])

    def resolve(self, method: str, path: str) -> tuple[Callable[..., Response], dict[str, str]]:
        """The handler and path variables; a 404 or 405 :class:`ApiError` when none fits."""
        route, params, error = self.find(method, path)
        if error is not None:
            raise error
        assert route is not None
        return route.handler, params


@dataclass
class _Outcome:
    response: Response | None  # None: close without answering
    fault: FaultRecord | None


class SimulatorServer:
    """A threaded HTTP server on a free port that hands every request to :meth:`handle`.

    Subclasses implement :meth:`handle` (and :meth:`fault_response` for the answers of
    injected faults). The server counts requests (``request_count``, ``requests`` as
    ``(method, path)`` in arrival order, faulted ones included) and calls ``on_exchange``
    (see :data:`ExchangeListener`) for every request before the response is sent, so a
    client never sees an answer that was not recorded.

    ``latency`` seconds are added to every request before it is served (a remote site);
    ``faults`` injects the faults of a :class:`FaultPlan` (counts in ``faults_injected``,
    each one in ``fault_log``). Use it as a context manager or call :meth:`start` and
    :meth:`stop`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_exchange: ExchangeListener | None = None,
        faults: FaultPlan | None = None,
        latency: float = 0.0,
    ) -> None:
        if latency < 0:
            raise ValueError(f"latency must not be negative, got {latency}")
        self.on_exchange = on_exchange
        self.latency = latency
        self.fault_plan = faults
        self._schedule = FaultSchedule(faults) if faults is not None else None
        self.requests: list[tuple[str, str]] = []
        self._count_lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), _RequestHandler)
        self._httpd.simulator = self
        self._thread: threading.Thread | None = None
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = bound_host if isinstance(bound_host, str) else bound_host.decode()
        self.url = f"http://{shown}:{bound_port}"

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def fault_response(self, kind: str, request: Request) -> Response:
        """The answer of a fault that is answered without serving the request."""
        status = {"server-error": 500, "unavailable": 503, "unavailable-bare": 503}.get(kind, 429)
        return Response(status, {"errorMessages": [kind], "errors": {}})

    @property
    def request_count(self) -> int:
        with self._count_lock:
            return len(self.requests)

    @property
    def faults_injected(self) -> Counter[str]:
        """How many faults of each kind were injected so far (a copy)."""
        if self._schedule is None:
            return Counter()
        with self._schedule._lock:
            return Counter(self._schedule.injected)

    @property
    def fault_log(self) -> list[FaultRecord]:
        """Every injected fault in order: request, kind, and whether it was carried out."""
        if self._schedule is None:
            return []
        with self._schedule._lock:
            return list(self._schedule.log)

    def reset_counts(self) -> None:
        """Forget the requests counted so far (the fault schedule runs on)."""
        with self._count_lock:
            self.requests.clear()

    def start(self: _Server) -> _Server:
        """Serve in a background thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                # stop() waits up to one poll interval; keep it short for tests.
                kwargs={"poll_interval": 0.05},
                name=f"simulator {self.url}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` or KeyboardInterrupt."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _answer(self, request: Request) -> Response:
        try:
            return self.handle(request)
        except ApiError as error:
            return error.response()
        except Exception as exc:  # a simulator bug must reach the client as a 500, not a hang
            log.exception("simulator failed on %s %s", request.method, request.path)
            return ApiError(500, [f"Simulator error: {exc!r}"]).response()

    def _serve(self, request: Request) -> _Outcome:
        if self.latency:
            time.sleep(self.latency)
        fault = self._schedule.decide(request.method, request.path) if self._schedule else None
        response: Response | None
        if fault is None or APPLIED[fault.kind]:
            response = self._answer(request)
            if fault is not None and fault.kind in NEEDS_BODY and not response.payload():
                assert self._schedule is not None
                fault = self._schedule.downgrade(fault, RESET_AFTER)
            if fault is not None and fault.kind not in (SLOW, TRUNCATED, MALFORMED):
                response = (
                    None if fault.kind == RESET_AFTER else self.fault_response(fault.kind, request)
                )
        elif fault.kind == RESET_BEFORE:
            response = None
        else:
            response = self.fault_response(fault.kind, request)
        with self._count_lock:
            self.requests.append((request.method, request.path))
        if self.on_exchange is not None:
            try:
                self.on_exchange(
                    request.method,
                    request.path,
                    request.query,
                    request.json_or_none(),
                    response.status if response is not None else 0,
                    dict(response.headers) if response is not None else {},
                    response.body if response is not None else None,
                    fault.kind if fault is not None else None,
                )
            except Exception:
                log.exception("on_exchange failed")
        return _Outcome(response, fault)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops bursts of parallel connects for a second
    simulator: SimulatorServer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients reuse connections to Jira
    timeout = 60  # an idle kept-alive connection frees its thread after this
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK hold every answer back by ~40 ms.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:  # noqa: N802 - the names BaseHTTPRequestHandler calls
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=self.headers,  # type: ignore[arg-type]
            body=body,
        )
        outcome = self.server.simulator._serve(request)
        response, fault = outcome.response, outcome.fault
        kind = fault.kind if fault is not None else None
        if response is None:
            self._reset()
            return
        payload = response.payload()
        if kind == SLOW:
            assert fault is not None and self.server.simulator.fault_plan is not None
            time.sleep(self.server.simulator.fault_plan.delay)
        sent = payload
        if kind == TRUNCATED:
            sent = payload[: max(1, len(payload) // 2)]
        elif kind == MALFORMED:
            sent = payload = payload[: max(1, len(payload) // 2)]
        try:
            self.send_response(response.status)
            if payload or response.raw is not None:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            if kind in (TRUNCATED, SLOW):
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if sent:
                self.wfile.write(sent)
            self.wfile.flush()
        except OSError:  # the client gave up (a slow answer after its timeout)
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP reset, as a crashed proxy would."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        log.debug("%s %s", self.address_string(), format % args)
