"""The ZenTao simulator: ZenTao's REST API v1 (and the two web endpoints a bot needs for
remarks) over a simulator dataset, on the shared HTTP machinery.

It answers as ZenTao 18.8 does (see ``specs/zentao-api-facts.md``):

- ``POST /api.php/v1/tokens`` (JSON ``account``/``password``) answers 201 ``{"token"}``;
  every other API call needs the ``Token`` header (or ``?zentaosid=``), else 401
  ``{"error": "Unauthorized"}``. A token is a session: :meth:`ZenTaoSimulator.expire_tokens`
  ends every session, ``expire_tokens_after=N`` ends each after N requests. A wrong
  password is a 400 with ZenTao's lock warning; the sixth failure locks the account.
- lists are ``{"page", "total", "limit", "<items>": [...]}`` paged by ``page``/``limit``;
  ``GET /products/:id/stories`` takes the browse type in ``status`` (default
  ``unclosed``; ``allstory`` is everything and ``all`` nothing, as on a real server),
  ``/products/:id/bugs`` too (default ``unclosed``, ``all``), ``/executions/:id/tasks``
  defaults to ``all``;
- top-level dates are ISO 8601 UTC (``…Z``), user fields are user objects, and the
  ``actions[]`` of ``GET /stories|tasks|bugs/:id`` carry raw server-local dates
  (``server_timezone``) and the actor's realname;
- ``PUT /stories|bugs/:id`` edits as 18.8 does (:mod:`.zentao_edit`): a bug is rebuilt
  from the PUT's fixed field subset, so a keywords-only PUT also erases the deadline,
  OS and browser, moves ``resolvedDate``/``closedDate`` to now and logs ``linkBug 0 →
  ''``, and a bug resolved as a duplicate answers 200 and keeps nothing; a story
  loses ``linkStories`` and its ``assignedDate`` moves. A story in ``draft`` or
  ``reviewing`` is refused with 400 ``{"error": {"reviewer": …}}`` unless ``reviewer``
  is sent; tasks have no keywords. Every edit logs an ``edited`` action with one
  history row per changed field;
- ``POST /index.php?m=bug&f=batchEdit&productID=…`` (the batch edit form: fixed fields,
  each from the form) and ``…m=story&f=edit&storyID=…`` (the edit form) edit as 18.8's
  ``batchUpdate()`` and ``update()`` do; a failed check answers an alert and keeps
  nothing;
- ``POST /index.php?m=action&f=comment&objectType=…&objectID=…&zentaosid=…`` (form field
  ``comment``) adds a ``commented`` action and ``…&f=editComment&actionID=…`` (form field
  ``lastComment``) rewrites one and moves its date to now; both answer HTML, keep only
  ZenTao's allowed tags, and with an unknown session do nothing but answer the login
  redirect. There is no REST comment endpoint (``GET /comments`` is a 500).
- ``GET /index.php?m=story|task|bug&f=view&<kind>ID=…&t=json&zentaosid=…`` answers the
  item's page data as JSON (``{"status", "data", "md5"}``, ``data`` a JSON string) with the
  actions as stored: ``actor`` is the account, where the REST API says the realname;
- ``GET /index.php?mode=getconfig`` reports the version.

Comments and remarks do not change an item's ``lastEditedDate``; edits do.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, parse_qsl
from zoneinfo import ZoneInfo

from jira_chase.simulator import faults
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.http import (
    ApiError,
    ExchangeListener,
    Request,
    Response,
    Router,
    SimulatorServer,
)
from jira_chase.simulator.server import dataset_clock
from jira_chase.simulator.zentao_data import (
    Action,
    Item,
    ZenTaoWorld,
    load_world,
)
from jira_chase.simulator.zentao_edit import Editor, Refused, php_form

__all__ = ["ZenTaoSimulator", "run"]

API = "/api.php/v1"
KEYWORDS_MAX_CHARS = 255
LOCK_AFTER_FAILURES = 6
#: Tags ZenTao keeps in a remark (`$config->allowedTags`); everything else is stripped.
ALLOWED_TAGS = frozenset(
    (
        "p",
        "span",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "em",
        "u",
        "strong",
        "br",
        "ol",
        "ul",
        "li",
        "img",
        "a",
        "b",
        "font",
        "hr",
        "pre",
        "div",
        "table",
        "td",
        "th",
        "tr",
        "tbody",
    )
)
_LOGIN_PAGE = (
    "<html><meta charset='utf-8'/><script>self.location="
    "'/index.php?m=user&f=login&referer=';</script></html>"
)
_DENIED_PAGE = (
    "<html><meta charset='utf-8'/><script>alert('Sorry, you have no permission.');"
    "history.back();</script></html>"
)
_BUG_LIST_PAGE = (
    "<html><meta charset='utf-8'/><script>parent.location='/index.php?m=bug&f=browse';"
    "</script></html>"
)
#: The web forms the simulator serves (module, method); each needs `?zentaosid=`.
_WEB_FORMS = frozenset(
    {("action", "comment"), ("action", "editComment"), ("bug", "batchEdit"), ("story", "edit")}
)
#: The items whose page the simulator serves as JSON (`?m=<kind>&f=view&t=json`).
_VIEWS = frozenset({"story", "task", "bug"})
_RELOAD_PAGE = (
    "<html><meta charset='utf-8'/><style>body{background:white}</style>"
    "<script>window.parent.location.reload();</script></html>"
)


def strip_tags(text: str) -> str:
    """ZenTao's `strip_tags($comment, $config->allowedTags)`: HTML comments, scripts and
    tags outside the allowed list go, their text stays."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1\s*>", "", text, flags=re.S | re.I)
    return re.sub(
        r"</?([A-Za-z][A-Za-z0-9]*)\b[^>]*>",
        lambda m: m.group(0) if m.group(1).lower() in ALLOWED_TAGS else "",
        text,
    ).strip()


def _error(status: int, message: Any, headers: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(status, body={"error": message}, headers=headers)


def _html(status: int, page: str) -> Response:
    return Response(status, raw=page.encode("utf-8"), content_type="text/html; charset=utf-8")


@dataclass
class _Session:
    account: str
    uses: int = 0


class ZenTaoSimulator(SimulatorServer):
    """A ZenTao 18.8 site over a dataset, served over HTTP on a free loopback port.

    - ``dataset``: a Dataset, dict, JSON text or path (see :mod:`.zentao_data` for how it
      maps onto ZenTao); ``status_map``: dataset status -> ``{"story"|"task"|"bug":
      value}``, winning over the dataset's ``statuses[].zentao`` and the defaults.
    - ``clock``: aware datetimes; default the dataset's ``now`` plus the time elapsed.
    - ``credentials``: account -> password; without it any non-empty password of a
      known account signs in.
    - ``expire_tokens_after``: requests a token serves before it expires (None: never).
    - ``users_visible``: False answers ``GET /users`` as for an account without the
      company-browse privilege.
    - ``server_timezone``: the zone of the raw action dates; ``version``: what
      ``getconfig`` reports; ``faults``/``latency`` as for every simulator.
    - ``edit_resets``: fields every edit also empties, as a lossy server would (to test
      that the client notices); ``denied``: privileges (``bug-batchEdit``,
      ``story-edit``, ``bug-view``, …) the account lacks: the API answers 403 ``{"error":
      "Access not allowed"}``, a web form ZenTao's no-permission page, and nothing changes.
    """

    def __init__(
        self,
        dataset: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
        on_exchange: ExchangeListener | None = None,
        credentials: Mapping[str, str] | None = None,
        status_map: Mapping[str, Mapping[str, str]] | None = None,
        expire_tokens_after: int | None = None,
        users_visible: bool = True,
        server_timezone: str = "Asia/Shanghai",
        version: str = "18.8",
        faults: FaultPlan | None = None,
        latency: float = 0.0,
        edit_resets: tuple[str, ...] = (),
        denied: tuple[str, ...] = (),
    ) -> None:
        self.denied = frozenset(denied)
        self.world: ZenTaoWorld = load_world(dataset, status_map)
        self.dataset = self.world.dataset
        self.clock = clock or dataset_clock(self.dataset.now)
        self.zone = ZoneInfo(server_timezone)
        self.version = version
        self.credentials = dict(credentials) if credentials is not None else None
        self.expire_tokens_after = expire_tokens_after
        self.users_visible = users_visible
        self.lock = threading.RLock()
        self._sessions: dict[str, _Session] = {}
        self._failures: dict[str, int] = {}
        self.logins = 0
        super().__init__(
            host=host, port=port, on_exchange=on_exchange, faults=faults, latency=latency
        )
        self.editor = Editor(self.world, self.zone, self.now, tuple(edit_resets))
        self.router = Router()
        self._add_routes()

    def _add_routes(self) -> None:
        add = self.router.add
        add("POST", f"{API}/tokens", self._tokens)
        add("GET", f"{API}/user", self._me)
        add("GET", f"{API}/users", self._users)
        add("GET", f"{API}/products/{{id:\\d+}}", self._product)
        add("GET", f"{API}/products/{{id:\\d+}}/stories", self._stories)
        add("GET", f"{API}/products/{{id:\\d+}}/bugs", self._bugs)
        add("GET", f"{API}/products/{{id:\\d+}}/plans", self._plans)
        add("GET", f"{API}/executions/{{id:\\d+}}", self._execution)
        add("GET", f"{API}/executions/{{id:\\d+}}/tasks", self._tasks)
        for kind, plural in (("story", "stories"), ("task", "tasks"), ("bug", "bugs")):
            add("GET", f"{API}/{plural}/{{id:\\d+}}", self._detail(kind))
            add("PUT", f"{API}/{plural}/{{id:\\d+}}", self._edit(kind))
        add("GET", f"{API}/comments", self._no_comments)
        add("POST", f"{API}/comments", self._no_comments)
        add("GET", "/index.php", self._web)
        add("POST", "/index.php", self._web)

    # -- serving -----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self.lock:
            route, params, error = self.router.find(request.method, request.path)
            if error is not None or route is None:
                status = error.status if error is not None else 404
                return Response(
                    status,
                    {
                        "error": "404 Not found"
                        if status == 404
                        else f"Method {request.method} is not allowed"
                    },
                )
            request.params = params
            try:
                if request.path.startswith(API) and route.handler != self._tokens:
                    request.params["account"] = self._authenticate(request)
                return route.handler(request)
            except ApiError as exc:
                if exc.body is None:  # the shared machinery's Jira-shaped errors
                    return Response(exc.status, {"error": "; ".join(exc.messages) or "error"})
                raise

    def fault_response(self, kind: str, request: Request) -> Response:
        assert self.fault_plan is not None
        wait = self.fault_plan.retry_after
        if kind == faults.BAD_GATEWAY:
            return _html(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        if kind == faults.SERVER_ERROR:
            return Response(500, {"error": "Internal Server Error"})
        if kind in (faults.UNAVAILABLE, faults.UNAVAILABLE_BARE):
            headers = {"Retry-After": str(wait)} if kind == faults.UNAVAILABLE else {}
            return Response(503, {"error": "Service Unavailable"}, headers)
        headers = {}
        if kind == faults.RATE_LIMIT:
            headers["Retry-After"] = str(wait)
        elif kind == faults.RATE_LIMIT_DATE:
            headers["Retry-After"] = formatdate(math.ceil(time.time()) + wait, usegmt=True)
        return Response(429, {"error": "Too Many Requests"}, headers)

    def _session_account(self, token: str | None) -> str | None:
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        session.uses += 1
        if self.expire_tokens_after is not None and session.uses > self.expire_tokens_after:
            del self._sessions[token]
            return None
        return session.account

    def _authenticate(self, request: Request) -> str:
        # `?zentaosid=` wins over the header, as in ZenTao's router.
        token = request.arg("zentaosid") or request.headers.get("Token")
        account = self._session_account(token)
        if account is None:
            raise _error(401, "Unauthorized")
        return account

    # -- time and shapes -----------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(timezone.utc).replace(microsecond=0)

    @staticmethod
    def utc(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def user(self, account: str | None) -> dict[str, Any] | None:
        record = self.world.accounts.get(account or "")
        if record is None:
            return None
        return {
            "id": record.id,
            "account": record.account,
            "avatar": "",
            "realname": record.realname,
        }

    def realname(self, account: str) -> str:
        record = self.world.accounts.get(account)
        return record.realname if record else account

    @staticmethod
    def _last(item: Item, field: str, value: str) -> datetime | None:
        for action in reversed(item.actions):
            if any(h.field == field and h.new == value for h in action.history):
                return action.date
        return None

    def item_json(self, item: Item) -> dict[str, Any]:
        source = item.source
        row = self.editor.stored(item) if item.kind != "task" else {}
        common: dict[str, Any] = {
            "id": item.id,
            "pri": item.pri,
            "status": item.status,
            "assignedTo": self.user(item.assigned_to),
            "openedBy": self.user(item.opened_by),
            "openedDate": self.utc(item.opened),
            "lastEditedBy": self.user(item.last_edited_by),
            "lastEditedDate": self.utc(item.last_edited),
            "closedDate": self.utc(self._last(item, "status", "closed"))
            if item.status == "closed"
            else None,
            "deleted": False,
        }
        if row:
            common.update(
                title=row["title"],
                keywords=row["keywords"],
                product=row["product"],
                branch=row["branch"],
                module=row["module"],
                plan=row["plan"],
                color=row["color"],
                mailto=[self.user(a) for a in str(row["mailto"]).split(",") if a],
                assignedDate=self.utc(row["assignedDate"]),
                closedBy=self.user(row["closedBy"]),
                closedDate=self.utc(row["closedDate"]),
            )
        deadline = self.world.deadline(item)
        if item.kind == "story":
            return {
                **common,
                "type": row["type"],
                "category": row["category"],
                "source": row["source"],
                "sourceNote": row["sourceNote"],
                "estimate": row["estimate"],
                "stage": item.stage,
                "parent": row["parent"],
                "linkStories": row["linkStories"],
                "linkRequirements": row["linkRequirements"],
                "feedbackBy": row["feedbackBy"],
                "notifyEmail": row["notifyEmail"],
                "reviewedBy": row["reviewedBy"] or None,
                "closedReason": row["closedReason"],
                "version": 1,
            }
        if item.kind == "task":
            return {
                **common,
                "project": item.execution,
                "execution": item.execution,
                "module": 0,
                "story": 0,
                "parent": 0,
                "name": source.summary,
                "type": "devel",
                "estimate": source.estimate or 0,
                "consumed": 0,
                "left": 0,
                "deadline": deadline.isoformat() if deadline else None,
                "estStarted": None,
                "realStarted": self.utc(self._last(item, "status", "doing")),
                "finishedDate": self.utc(self._last(item, "status", "done")),
                "closedReason": "done" if item.status == "closed" else "",
            }
        return {
            **common,
            "project": row["project"],
            "execution": row["execution"],
            "story": row["story"],
            "task": row["task"],
            "severity": row["severity"],
            "type": row["type"],
            "statusName": {"active": "Active", "resolved": "Resolved", "closed": "Closed"}.get(
                item.status, item.status
            ),
            "confirmed": row["confirmed"],
            "activatedCount": sum(1 for a in item.actions if a.action == "activated"),
            "openedBuild": row["openedBuild"],
            "os": row["os"],
            "browser": row["browser"],
            "deadline": row["deadline"].isoformat() if row["deadline"] else None,
            "resolvedBy": self.user(row["resolvedBy"]),
            "resolution": row["resolution"],
            "resolvedDate": self.utc(row["resolvedDate"]),
            "resolvedBuild": row["resolvedBuild"],
            "duplicateBug": row["duplicateBug"],
            "linkBug": row["linkBug"],
        }

    def action_json(self, item: Item, action: Action) -> dict[str, Any]:
        return {
            "id": action.id,
            "objectType": action.object_type,
            "objectID": action.object_id,
            "product": f",{item.product},",
            "project": item.execution,
            "execution": item.execution if item.kind == "task" else 0,
            "actor": self.realname(action.actor) if action.actor else "System",
            "action": action.action,
            "date": self.local(action.date),
            "comment": action.comment,
            "extra": action.extra,
            "read": "0",
            "vision": "rnd",
            "efforts": [],
            "desc": f"{self.local(action.date)}, {action.action} by {action.actor}.",
            "history": [
                {"field": h.field, "old": h.old, "new": h.new, "diff": "", "fieldName": h.field}
                for h in action.history
            ],
        }

    @staticmethod
    def _page(request: Request, rows: list[Any], key: str, default_limit: int) -> Response:
        limit = max(1, request.int_arg("limit", default_limit))
        page = max(1, request.int_arg("page", 1))
        start = (page - 1) * limit
        return Response(
            200,
            {"page": page, "total": len(rows), "limit": limit, key: rows[start : start + limit]},
        )

    # -- API endpoints -------------------------------------------------------------------

    def _tokens(self, request: Request) -> Response:
        try:
            body = request.json() or {}
        except ApiError:
            body = {}
        account = body.get("account") if isinstance(body, dict) else None
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(account, str) or not isinstance(password, str) or not account:
            raise _error(400, "Login failed. Please check your account and password.")
        record = self.world.accounts.get(account)
        failures = self._failures.get(account, 0)
        if failures >= LOCK_AFTER_FAILURES:
            raise _error(400, "Your account has been locked. Please try again in 10 minutes.")
        if self.credentials is not None:
            good = record is not None and self.credentials.get(account) == password
        else:
            good = record is not None and bool(password)
        if not good:
            self._failures[account] = failures + 1
            left = LOCK_AFTER_FAILURES - failures - 1
            raise _error(
                400,
                "Login failed. Please check your account and password. "
                f"You have {left} more chances.",
            )
        self._failures.pop(account, None)
        token = secrets.token_hex(13)
        self._sessions[token] = _Session(account)
        self.logins += 1
        return Response(201, {"token": token}, {"Set-Cookie": f"zentaosid={token}; path=/"})

    def _me(self, request: Request) -> Response:
        record = self.world.accounts[request.params["account"]]
        profile = {
            "id": record.id,
            "company": 1,
            "type": "inside",
            "dept": 0,
            "account": record.account,
            "role": {"code": "dev", "name": "Developer"},
            "realname": record.realname,
            "email": record.email or "",
            "gender": "m",
            "deleted": False,
        }
        return Response(200, {"profile": profile})

    def _users(self, request: Request) -> Response:
        if not self.users_visible:
            raise _error(400, "error: no company-browse priv.")
        rows = [
            {
                "id": r.id,
                "dept": 0,
                "account": r.account,
                "realname": r.realname,
                "role": "dev",
                "pinyin": "",
                "email": r.email or "",
            }
            for r in sorted(self.world.accounts.values(), key=lambda r: -r.id)
        ]
        return self._page(request, rows, "users", 20)

    def _product_or_404(self, request: Request) -> int:
        number = int(request.params["id"])
        if number not in self.world.products:
            raise _error(404, "404 Not found")
        return number

    def _product(self, request: Request) -> Response:
        product = self.world.products[self._product_or_404(request)]
        return Response(
            200,
            {
                "id": product.id,
                "program": 0,
                "name": product.name,
                "code": product.key,
                "type": "normal",
                "status": "normal",
                "desc": "",
                "PO": None,
                "QD": None,
                "RD": None,
                "acl": "open",
                "createdDate": None,
                "deleted": False,
            },
        )

    def _execution(self, request: Request) -> Response:
        number = int(request.params["id"])
        execution = self.world.executions.get(number)
        if execution is None:
            raise _error(404, "404 Not found")
        return Response(
            200,
            {
                "id": execution.id,
                "project": execution.id,
                "name": execution.name,
                "code": execution.code,
                "type": "sprint",
                "parent": execution.id,
                "status": "doing",
                "begin": None,
                "end": None,
                "openedBy": None,
                "openedDate": None,
                "delay": 0,
                "progress": 0,
                "deleted": False,
            },
        )

    def _items(
        self, kind: str, *, product: int | None = None, execution: int | None = None
    ) -> list[Item]:
        return [
            item
            for item in self.world.items.values()
            if item.kind == kind
            and (product is None or item.product == product)
            and (execution is None or item.execution == execution)
        ]

    @staticmethod
    def _browse(items: list[Item], browse: str, everything: str) -> list[Item]:
        if browse == everything:
            return items
        if browse == "unclosed":
            return [i for i in items if i.status != "closed"]
        if browse == "undone" and items and items[0].kind == "task":
            return [i for i in items if i.status in ("wait", "doing", "pause")]
        return [i for i in items if i.status == browse]

    def _stories(self, request: Request) -> Response:
        product = self._product_or_404(request)
        # The status parameter is a browse type: `allstory` is every story, and a plain
        # `all` matches none (checked on a live 18.8 server).
        items = self._browse(
            self._items("story", product=product), request.arg("status") or "unclosed", "allstory"
        )
        return self._page(request, [self.item_json(i) for i in items], "stories", 500)

    def _bugs(self, request: Request) -> Response:
        product = self._product_or_404(request)
        items = self._browse(
            self._items("bug", product=product), request.arg("status") or "unclosed", "all"
        )
        return self._page(request, [self.item_json(i) for i in items], "bugs", 20)

    def _tasks(self, request: Request) -> Response:
        number = int(request.params["id"])
        if number not in self.world.executions:
            raise _error(404, "404 Not found")
        items = self._browse(
            self._items("task", execution=number), request.arg("status") or "all", "all"
        )
        return self._page(request, [self.item_json(i) for i in items], "tasks", 100)

    def _plans(self, request: Request) -> Response:
        product = self._product_or_404(request)
        rows = [
            {
                "id": p.id,
                "product": p.product,
                "branch": 0,
                "parent": 0,
                "title": p.title,
                "desc": "",
                "begin": None,
                "end": None,
                "deleted": False,
            }
            for p in self.world.plans.values()
            if p.product == product
        ]
        return self._page(request, rows, "plans", 20)

    def _item_or_404(self, kind: str, request: Request) -> Item:
        item = self.world.find(kind, int(request.params["id"]))
        if item is None:
            raise _error(404, "404 Not found")
        return item

    def _detail(self, kind: str) -> Callable[[Request], Response]:
        def detail(request: Request) -> Response:
            self._check_priv(kind, "view")
            item = self._item_or_404(kind, request)
            body = self.item_json(item)
            body["actions"] = [
                self.action_json(item, a)
                for a in sorted(item.actions, key=lambda a: (a.date, a.id))
            ]
            if kind == "story":
                body.update(
                    spec="",
                    verify="",
                    reviewer=list(item.reviewer),
                    notReview=[],
                    tasks=[],
                    bugs=[],
                )
            return Response(200, body)

        return detail

    def _edit(self, kind: str) -> Callable[[Request], Response]:
        def edit(request: Request) -> Response:
            self._check_priv(kind, "edit")
            item = self._item_or_404(kind, request)
            try:
                body = request.json()
            except ApiError:
                body = None  # ZenTao reads JSON bodies only; anything else changes nothing
            fields = body if isinstance(body, dict) else {}
            if kind == "task":
                return Response(200, self.item_json(item))
            keywords = fields.get("keywords")
            if keywords is not None and not isinstance(keywords, str):
                raise _error(400, {"keywords": "『Keywords』should be a string."})
            if isinstance(keywords, str) and len(keywords) > KEYWORDS_MAX_CHARS:
                raise _error(400, {"keywords": "『Keywords』length should be <= 255."})
            actor = request.params["account"]
            if kind == "story":
                if item.status in ("draft", "reviewing") and not fields.get("reviewer"):
                    raise _error(400, {"reviewer": "『Reviewer』should not be blank."})
                try:
                    self.editor.story_put(item, fields, actor)
                except Refused as exc:
                    raise _error(400, exc.fields) from None
            else:
                # The bug controller answers a failed check with status "error", which
                # the entry does not recognise (it looks for "fail"): 200, nothing kept.
                with contextlib.suppress(Refused):
                    self.editor.bug_put(item, fields, actor)
            return Response(200, self.item_json(item))

        return edit

    def _check_priv(self, module: str, method: str) -> None:
        """`entry::checkPriv()`: 403 for a controller the account may not use."""
        if f"{module}-{method}" in self.denied:
            raise _error(403, "Access not allowed")

    def _no_comments(self, request: Request) -> Response:
        # The route is in the table but its entry file does not exist (checked live).
        return _html(500, "<html><body>Internal Server Error</body></html>")

    # -- web endpoints -------------------------------------------------------------------

    def _web(self, request: Request) -> Response:
        if request.arg("mode") == "getconfig":
            return Response(
                200,
                {
                    "version": self.version,
                    "requestType": "PATH_INFO",
                    "requestFix": "-",
                    "moduleVar": "m",
                    "methodVar": "f",
                    "viewVar": "t",
                    "sessionVar": "zentaosid",
                    "sessionName": "zentaosid",
                    "sessionID": secrets.token_hex(13),
                    "random": secrets.randbelow(10000),
                    "expiredTime": "1440",
                    "serverTime": int(self.now().timestamp()),
                },
                content_type="text/html; charset=utf-8",
            )
        module, method = request.arg("m"), request.arg("f")
        if request.method == "GET" and method == "view" and module in _VIEWS:
            return self._view(request, module)
        if request.method != "POST" or (module, method) not in _WEB_FORMS:
            return _html(404, "<html><body>404 Not Found</body></html>")
        account = self._session_account(request.arg("zentaosid"))
        if account is None:
            return _html(200, _LOGIN_PAGE)
        if f"{module}-{method}" in self.denied:
            return _html(200, _DENIED_PAGE)
        text = request.body.decode("utf-8", "replace")
        if module == "bug":
            return self._bug_batch_edit(request, account, php_form(parse_qsl(text, True)))
        if module == "story":
            return self._story_edit(request, account, php_form(parse_qsl(text, True)))
        form = {k: v[0] for k, v in parse_qs(text).items()}
        if method == "comment":
            return self._comment(request, account, form)
        return self._edit_comment(request, account, form)

    def _view(self, request: Request, kind: str) -> Response:
        """An item's page as JSON (`t=json`): `{"status", "data", "md5"}` with the page's
        variables JSON-encoded in `data` (18.8 `control::parseJSON`). The actions are
        `actionModel::getList()`'s rows keyed by id, `actor` the account as stored; the
        REST API maps it to the realname (`processActionForAPI`), the page does not."""
        account = self._session_account(request.arg("zentaosid"))
        if account is None:
            return _html(200, _LOGIN_PAGE)
        if f"{kind}-view" in self.denied:
            return _html(200, _DENIED_PAGE)
        item = self.world.find(kind, request.int_arg(f"{kind}ID", 0))
        if item is None or request.arg("t") != "json":
            return _html(200, "<script>alert('Access denied.');history.back();</script>")
        actions = {}
        for action in item.actions:
            row = self.action_json(item, action)
            del row["desc"]
            row["actor"] = action.actor or "system"
            actions[str(action.id)] = row
        title = item.source.summary
        view = {
            "title": title,
            kind: {
                "id": item.id,
                ("name" if kind == "task" else "title"): title,
                "status": item.status,
            },
            "users": {a.account: a.realname for a in self.world.accounts.values()},
            "actions": actions,
        }
        data = json.dumps(view, ensure_ascii=False)
        body = {"status": "success", "data": data, "md5": hashlib.md5(data.encode()).hexdigest()}
        return _html(200, json.dumps(body, ensure_ascii=False))

    def _bug_batch_edit(self, request: Request, account: str, form: dict[str, Any]) -> Response:
        """`bug-batchEdit` (module/bug/control.php `batchEdit()`): with `titles` posted,
        `batchUpdate()` each bug of `bugIDList`; a failed check stops at that bug."""
        if not form.get("titles"):
            return _html(200, _BUG_LIST_PAGE)
        ids = form.get("bugIDList")
        numbers = list(ids.values()) if isinstance(ids, dict) else list(ids or ())
        for number in numbers:
            item = self.world.find("bug", int(number)) if str(number).isdigit() else None
            if item is None:
                return _html(500, "<html><body>Fatal error: bug not found</body></html>")
            try:
                self.editor.bug_batch_edit(item, form, account)
            except KeyError as exc:
                return _html(500, f"<html><body>TypeError: missing {exc}</body></html>")
            except Refused as exc:
                return _html(200, f"<script>alert('bug#{item.id}{exc}')</script>")
        return _html(200, _BUG_LIST_PAGE)

    def _story_edit(self, request: Request, account: str, form: dict[str, Any]) -> Response:
        """`story-edit` (module/story/control.php `edit()`) posted: `storyModel::update()`."""
        item = self.world.find("story", request.int_arg("storyID", 0))
        if item is None:
            return _html(200, "<script>alert('Access denied.');history.back();</script>")
        if form:
            try:
                self.editor.story_update(item, form, account)
            except Refused as exc:
                return _html(200, f"<script>alert('{exc}')</script>")
        return _html(200, _RELOAD_PAGE)

    def _comment(self, request: Request, account: str, form: dict[str, str]) -> Response:
        kind = (request.arg("objectType") or "").lower()
        try:
            number = int(request.arg("objectID") or "")
        except ValueError:
            number = 0
        item = self.world.find(kind, number)
        if item is None:
            return _html(200, "<script>alert('Access denied.');history.back();</script>")
        text = strip_tags(form.get("comment", ""))
        if text:
            self.world.add_action(item, "commented", account, self.now(), comment=text)
        return _html(200, _RELOAD_PAGE)

    def _edit_comment(self, request: Request, account: str, form: dict[str, str]) -> Response:
        text = strip_tags(form.get("lastComment", ""))
        if not re.sub(r"<[^>]*>", "", text).strip():
            return _html(200, "<script>alert('The remark must not be empty.')</script>")
        try:
            found = self.world.action_by_id(int(request.arg("actionID") or ""))
        except ValueError:
            found = None
        if found is not None:  # ZenTao updates by id and checks nothing else
            _, action = found
            action.comment = text
            action.date = self.now()
        return _html(200, _RELOAD_PAGE)

    # -- control and readers for tests ---------------------------------------------------

    def expire_tokens(self) -> None:
        """End every session, as ZenTao's session garbage collector does."""
        with self.lock:
            self._sessions.clear()

    def item(self, ref: str) -> Item:
        """The record of an item by ZenTao key (``story-3``) or dataset key (``APP-7``)."""
        with self.lock:
            found = self.world.item(ref)
            if found is None:
                raise KeyError(ref)
            return found

    def key_of(self, dataset_key: str) -> str:
        """The ZenTao key of a dataset issue (``APP-7`` -> ``story-5``)."""
        return self.item(dataset_key).key

    def dataset_key(self, zentao_key: str) -> str:
        """The dataset key of a ZenTao item (``story-5`` -> ``APP-7``)."""
        return self.item(zentao_key).source.key

    def move(self, ref: str, status: str, by: str) -> None:
        """Move an item now to the state of the dataset status `status`, as the person
        `by` (a dataset user id) would (the same call as the Jira simulators')."""
        with self.lock:
            self.world.move(self.item(ref), status, by, self.now())

    def set_fields(self, ref: str, **row: Any) -> None:
        """Store columns of an item as ZenTao would (see ``Item.row``): dates as aware
        datetimes (``deadline`` a date), people as accounts, None for empty."""
        with self.lock:
            item = self.item(ref)
            for field, value in row.items():
                if field == "status":
                    item.status = value
                elif field == "assignedTo":
                    item.assigned_to = value
                elif field == "keywords":
                    item.keywords = value
                elif field == "reviewer":
                    item.reviewer = list(value)
                else:
                    item.row[field] = value

    def stored(self, ref: str) -> dict[str, Any]:
        """The item's stored row (what every edit is checked against)."""
        with self.lock:
            return self.editor.stored(self.item(ref))

    def keywords(self, ref: str) -> str:
        with self.lock:
            return self.item(ref).keywords

    def labels(self, ref: str) -> list[str]:
        """The item's keywords as tokens (comma or space separated)."""
        return [t for t in re.split(r"[,，;\s]+", self.keywords(ref)) if t]

    def comments(self, ref: str) -> list[dict[str, Any]]:
        """``commented`` actions: ``id``, ``actor`` (account), ``comment`` (HTML as
        stored) and ``date``."""
        with self.lock:
            return [
                {"id": a.id, "actor": a.actor, "comment": a.comment, "date": a.date}
                for a in self.item(ref).actions
                if a.action == "commented"
            ]

    def account_of(self, user_id: str) -> str:
        """The ZenTao account of a dataset user id."""
        return self.world.by_user[user_id].account


def run(
    dataset: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    faults: FaultPlan | None = None,
    latency: float = 0.0,
    announce: Callable[[str], object] = print,
) -> None:
    """Serve a ZenTao simulator in this thread until Ctrl-C; ``announce`` gets its URL."""
    simulator = ZenTaoSimulator(dataset, host=host, port=port, faults=faults, latency=latency)
    announce(f"ZenTao simulator at {simulator.url}")
    bot = simulator.dataset.bot
    account = simulator.account_of(bot) if bot else next(iter(simulator.world.accounts))
    announce(f"Sign in as {account!r} (POST /api.php/v1/tokens) with any password.")
    announce("Press Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):
        simulator.serve_forever()
