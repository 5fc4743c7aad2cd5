"""How a simulator dataset looks inside ZenTao: products, executions, plans, accounts, and
stories, tasks and bugs with their action logs.

The mapping (see also the README, "ZenTao"):

- each dataset project is a **product** (id 1, 2, … in dataset order, ``code`` = the
  project key) with one **execution** (a sprint, same id) that holds its tasks, and one
  product **plan** per fix version (ids across products in order of first use);
- issue type ``Bug`` becomes a **bug**, ``Story`` and ``Epic`` a **story**, every other
  type a **task**; each kind is numbered 1, 2, … in dataset order (``story-3``);
- a user becomes an **account**: the local part of the email (else the id), with any
  character ZenTao does not allow in accounts replaced by ``_``; the realname is the
  user's name;
- a dataset **status** becomes each kind's ZenTao value: stated per status by the
  optional dataset key ``statuses[].zentao`` (``{"story": "developing", "task": "doing",
  "bug": "active"}``; a story value is a story status or, for an active story, its
  stage) or by default from the status category and its place among the statuses of
  that category (see :func:`default_status_map`);
- the **history** becomes actions: a status change is the action ZenTao logs for it
  (``started``, ``finished``, ``resolved``, ``reviewed``, ``closed``, ``activated``, …)
  with ``status`` (and for stories ``stage``) history rows; assignee, priority and label
  changes are ``assigned``/``edited`` actions with ``assignedTo``, ``pri`` and
  ``keywords`` rows; comments are ``commented`` actions. Changes the ZenTao mapping does
  not show (``Code Review`` -> ``In QA`` is ``done`` -> ``done`` for a task; links,
  ``Flagged``) leave no action.

ZenTao itself records a story's stage change only when a person edits it; here every
stage change is recorded, as a team that sets stages by hand would have it.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jira_chase.simulator.dataset import Dataset, DatasetError, Status, load_dataset
from jira_chase.simulator.dataset import Issue as DatasetIssue

KINDS = ("story", "task", "bug")
STORY_STATUSES = ("draft", "reviewing", "active", "changing", "closed")
STORY_STAGES = (
    "wait",
    "planned",
    "projected",
    "developing",
    "developed",
    "testing",
    "tested",
    "verified",
    "released",
    "closed",
)
TASK_STATUSES = ("wait", "doing", "done", "pause", "cancel", "closed")
BUG_STATUSES = ("active", "resolved", "closed")
#: The optional key on a dataset status that states its ZenTao values.
STATUS_KEY = "zentao"

#: Dataset priority -> ZenTao `pri` (1 is the most urgent).
PRI = {"Highest": 1, "High": 2, "Medium": 3, "Low": 4, "Lowest": 4}
_ACCOUNT_CHARS = re.compile(r"[^A-Za-z0-9_.]")


@dataclass(frozen=True)
class ZenTaoState:
    """Where one dataset status puts an item of one kind: its `status` and, for a
    story, its `stage` ("" for tasks and bugs)."""

    status: str
    stage: str = ""


StatusMap = dict[str, dict[str, ZenTaoState]]


def kind_of(issue_type: str) -> str:
    if issue_type == "Bug":
        return "bug"
    if issue_type in ("Story", "Epic"):
        return "story"
    return "task"


def _story_state(value: str) -> ZenTaoState:
    if value == "closed":
        return ZenTaoState("closed", "closed")
    if value in STORY_STATUSES:
        return ZenTaoState(value, "wait")
    return ZenTaoState("active", value)


def parse_state(kind: str, value: Any, where: str) -> ZenTaoState:
    """One `statuses[].zentao` value for `kind`, validated."""
    allowed = {
        "story": STORY_STATUSES + STORY_STAGES,
        "task": TASK_STATUSES,
        "bug": BUG_STATUSES,
    }[kind]
    if not isinstance(value, str) or value not in allowed:
        raise DatasetError(
            f"dataset: {where}: {STATUS_KEY}.{kind} must be one of {', '.join(allowed)}, "
            f"got {value!r}"
        )
    return _story_state(value) if kind == "story" else ZenTaoState(value)


def default_status_map(statuses: Mapping[str, Status]) -> StatusMap:
    """Each status by its category: ``new`` is a waiting story (stage ``wait``), task
    ``wait`` and bug ``active``; ``done`` is ``closed`` for all three. The ``indeterminate``
    statuses, in dataset order, walk each kind's way through the work: stories through
    the stages ``developing``, ``developed``, ``testing``, ``tested``, ``verified``; tasks
    ``doing`` then ``done``; bugs ``active`` then ``resolved``."""
    stages = ("developing", "developed", "testing", "tested", "verified")
    result: StatusMap = {}
    position = 0
    for name, status in statuses.items():
        if status.category == "new":
            result[name] = {
                "story": ZenTaoState("active", "wait"),
                "task": ZenTaoState("wait"),
                "bug": ZenTaoState("active"),
            }
        elif status.category == "done":
            result[name] = {
                "story": ZenTaoState("closed", "closed"),
                "task": ZenTaoState("closed"),
                "bug": ZenTaoState("closed"),
            }
        else:
            result[name] = {
                "story": ZenTaoState("active", stages[min(position, len(stages) - 1)]),
                "task": ZenTaoState("doing" if position == 0 else "done"),
                "bug": ZenTaoState("active" if position == 0 else "resolved"),
            }
            position += 1
    return result


def split_status_map(document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the document without `statuses[].zentao`, status name -> its raw `zentao`
    value), so the shared loader never sees the ZenTao-only key."""
    doc = copy.deepcopy(dict(document))
    raw: dict[str, Any] = {}
    statuses = doc.get("statuses")
    if isinstance(statuses, list):
        for entry in statuses:
            if isinstance(entry, dict) and STATUS_KEY in entry:
                value = entry.pop(STATUS_KEY)
                raw[str(entry.get("name"))] = value
    return doc, raw


def build_status_map(
    statuses: Mapping[str, Status],
    raw: Mapping[str, Any],
    explicit: Mapping[str, Mapping[str, str]] | None = None,
) -> StatusMap:
    """Defaults, then the dataset's `statuses[].zentao`, then `explicit` (same shape)."""
    result = default_status_map(statuses)
    for source in (raw, explicit or {}):
        for name, value in source.items():
            where = f"status {name!r}"
            if name not in result:
                raise DatasetError(f"dataset: {where}: not declared in 'statuses'")
            if not isinstance(value, Mapping):
                raise DatasetError(
                    f"dataset: {where}: {STATUS_KEY} must be an object with the keys "
                    "story, task and/or bug"
                )
            for kind, state in value.items():
                if kind not in KINDS:
                    raise DatasetError(
                        f"dataset: {where}: unknown key {STATUS_KEY}.{kind} (known: story, "
                        "task, bug)"
                    )
                result[name][kind] = parse_state(kind, state, where)
    return result


def read_document(source: Any) -> Dataset | dict[str, Any]:
    """A Dataset as is; anything else as a parsed JSON document."""
    if isinstance(source, Dataset):
        return source
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, bytes) or (isinstance(source, str) and source.lstrip().startswith("{")):
        try:
            parsed = json.loads(source)
        except ValueError as exc:
            raise DatasetError(f"dataset: the given JSON is not valid: {exc}") from None
    else:
        path = Path(os.fspath(source))
        try:
            parsed = json.loads(path.read_bytes())
        except OSError as exc:
            raise DatasetError(f"dataset: cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise DatasetError(f"dataset: {path} is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise DatasetError("dataset: the document must be a JSON object")
    return parsed


# -- the ZenTao records -----------------------------------------------------------------


@dataclass
class Account:
    id: int
    account: str
    realname: str
    email: str | None
    user_id: str  # the dataset's user id


@dataclass
class HistoryRow:
    field: str
    old: str
    new: str


@dataclass
class Action:
    id: int
    object_type: str
    object_id: int
    action: str
    actor: str  # an account ("" for the system)
    date: datetime  # aware; shown in the server's time zone
    comment: str = ""
    extra: str = ""
    history: list[HistoryRow] = field(default_factory=list)


@dataclass
class Product:
    id: int
    key: str
    name: str


@dataclass
class Execution:
    id: int
    product: int
    name: str
    code: str


@dataclass
class Plan:
    id: int
    product: int
    title: str


@dataclass
class Item:
    """A story, task or bug; writes edit it in place."""

    kind: str
    id: int
    source: DatasetIssue
    product: int
    execution: int
    status: str
    stage: str
    keywords: str
    pri: int
    assigned_to: str | None  # account
    opened_by: str | None
    opened: datetime
    plans: list[int]
    actions: list[Action]
    reviewer: list[str] = field(default_factory=list)
    last_edited: datetime | None = None
    last_edited_by: str | None = None
    #: Stored columns that differ from what the dataset implies (set by edits and tests):
    #: dates as aware datetimes (`deadline` a date), people as accounts, None for empty.
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"

    @property
    def title(self) -> str:
        return self.source.summary


def _html_text(text: str) -> str:
    return "<br />".join(html.escape(line) for line in text.splitlines())


_STATUS_ACTIONS = {
    ("task", "wait", "doing"): "started",
    ("task", "doing", "done"): "finished",
    ("task", "wait", "done"): "finished",
    ("task", "doing", "pause"): "paused",
    ("task", "pause", "doing"): "restarted",
    ("bug", "active", "resolved"): "resolved",
    ("story", "reviewing", "active"): "reviewed",
    ("story", "draft", "reviewing"): "submitreview",
    ("story", "active", "changing"): "changed",
}


def status_action(kind: str, old: str, new: str) -> str:
    """The action ZenTao logs for a status change."""
    if new == "closed":
        return "closed"
    if new == "cancel":
        return "canceled"
    if old in ("closed", "done", "resolved", "cancel") and new not in ("closed",):
        return "activated"
    return _STATUS_ACTIONS.get((kind, old, new), "edited")


class ZenTaoWorld:
    """The dataset as ZenTao shows it. Not thread-safe: the server serialises access."""

    def __init__(
        self,
        dataset: Dataset,
        status_map: StatusMap,
    ) -> None:
        self.dataset = dataset
        self.status_map = status_map
        self.accounts: dict[str, Account] = {}
        self.by_user: dict[str, Account] = {}
        self._make_accounts()
        self.products: dict[int, Product] = {}
        self.executions: dict[int, Execution] = {}
        self.plans: dict[int, Plan] = {}
        self._product_of: dict[str, int] = {}
        for number, project in enumerate(dataset.projects.values(), 1):
            self.products[number] = Product(number, project.key, project.name)
            self.executions[number] = Execution(
                number, number, f"{project.name} sprint", f"{project.key}-S1"
            )
            self._product_of[project.key] = number
        plan_ids: dict[tuple[int, str], int] = {}
        self.items: dict[str, Item] = {}
        self.by_dataset_key: dict[str, Item] = {}
        counters = dict.fromkeys(KINDS, 0)
        actions: list[tuple[datetime, int, Action]] = []
        for order, issue in enumerate(dataset.issues.values()):
            kind = kind_of(issue.type)
            counters[kind] += 1
            product = self._product_of[issue.project]
            plans: list[int] = []
            if kind != "task":
                for version in issue.fix_versions:
                    plan_key = (product, version)
                    if plan_key not in plan_ids:
                        plan_ids[plan_key] = len(plan_ids) + 1
                        self.plans[plan_ids[plan_key]] = Plan(plan_ids[plan_key], product, version)
                    plans.append(plan_ids[plan_key])
            item = self._make_item(kind, counters[kind], issue, product, plans)
            self.items[item.key] = item
            self.by_dataset_key[issue.key] = item
            actions.extend((a.date, order, a) for a in item.actions)
        # Action ids grow with time across every object, as in ZenTao's one action table.
        actions.sort(key=lambda entry: (entry[0], entry[1]))
        for number, (_, _, action) in enumerate(actions, 1):
            action.id = number
        self._next_action = len(actions)

    # -- building ------------------------------------------------------------------------

    def _make_accounts(self) -> None:
        taken: set[str] = set()
        for number, user in enumerate(self.dataset.users.values(), 1):
            base = user.email.split("@", 1)[0] if user.email else user.id
            account = _ACCOUNT_CHARS.sub("_", base) or f"user{number}"
            candidate, suffix = account, 1
            while candidate.lower() in taken:
                suffix += 1
                candidate = f"{account}{suffix}"
            taken.add(candidate.lower())
            record = Account(number, candidate, user.name, user.email, user.id)
            self.accounts[candidate] = record
            self.by_user[user.id] = record

    def account(self, user_id: str | None) -> str | None:
        return self.by_user[user_id].account if user_id in self.by_user else None

    def state(self, kind: str, status: str) -> ZenTaoState:
        return self.status_map[status][kind]

    def _make_item(
        self, kind: str, number: int, issue: DatasetIssue, product: int, plans: list[int]
    ) -> Item:
        histories = issue.histories
        first_status = next(
            (ci.from_value for h in histories for ci in h.items if ci.field == "status"),
            issue.status,
        )
        initial = self.state(kind, first_status or issue.status)
        first_labels = next(
            (ci.from_value for h in histories for ci in h.items if ci.field == "labels"), None
        )
        labels = first_labels.split() if first_labels is not None else list(issue.labels)
        first_assignee = next(
            (ci for h in histories for ci in h.items if ci.field == "assignee"), None
        )
        assignee = first_assignee.from_value if first_assignee else issue.assignee
        first_priority = next(
            (ci.from_value for h in histories for ci in h.items if ci.field == "priority"), None
        )
        item = Item(
            kind=kind,
            id=number,
            source=issue,
            product=product,
            execution=product,
            status=initial.status,
            stage=initial.stage,
            keywords=",".join(labels),
            pri=PRI.get(first_priority or issue.priority or "", 3),
            assigned_to=self.account(assignee),
            opened_by=self.account(issue.reporter),
            opened=issue.created,
            plans=plans,
            actions=[],
        )
        if kind == "story" and item.opened_by:
            item.reviewer = [item.opened_by]
        item.actions.append(Action(0, kind, number, "opened", item.opened_by or "", issue.created))
        for history in histories:
            self._replay(item, history.at, history.by, history.items)
        for comment in issue.comments:
            item.actions.append(
                Action(
                    0,
                    kind,
                    number,
                    "commented",
                    self.account(comment.author) or "",
                    comment.created,
                    comment=_html_text(comment.body if isinstance(comment.body, str) else ""),
                )
            )
        item.actions.sort(key=lambda a: a.date)
        final = self.state(kind, issue.status)
        if (item.status, item.stage) != (final.status, final.stage):
            raise DatasetError(
                f"dataset: issue {issue.key}: its history ends in ZenTao {kind} state "
                f"{item.status}/{item.stage}, its status {issue.status!r} maps to "
                f"{final.status}/{final.stage}"
            )
        return item

    def _replay(self, item: Item, at: datetime, by: str | None, changes: Any) -> None:
        rows: list[HistoryRow] = []
        name = ""
        assigned = False
        extra = ""
        for change in changes:
            if change.field == "status" and change.to_value is not None:
                name = self._to_state(item, change.to_value, rows) or name
            elif change.field == "assignee":
                new_account = self.account(change.to_value)
                rows.append(HistoryRow("assignedTo", item.assigned_to or "", new_account or ""))
                item.assigned_to = new_account
                assigned = True
                extra = new_account or ""
            elif change.field == "priority" and change.to_value in PRI:
                new_pri = PRI[change.to_value]
                rows.append(HistoryRow("pri", str(item.pri), str(new_pri)))
                item.pri = new_pri
            elif change.field == "labels":
                new_keywords = ",".join((change.to_value or "").split())
                rows.append(HistoryRow("keywords", item.keywords, new_keywords))
                item.keywords = new_keywords
        if not rows:
            return
        name = name or ("assigned" if assigned else "edited")
        action = Action(0, item.kind, item.id, name, self.account(by) or "", at, extra=extra)
        action.history = rows
        item.actions.append(action)
        item.last_edited, item.last_edited_by = at, action.actor

    # -- lookups and writes ----------------------------------------------------------------

    def item(self, ref: str) -> Item | None:
        """By ZenTao key (`story-3`) or dataset key (`APP-7`)."""
        return self.items.get(ref.lower()) or self.by_dataset_key.get(ref.upper())

    def find(self, kind: str, number: int) -> Item | None:
        return self.items.get(f"{kind}-{number}")

    def action_by_id(self, action_id: int) -> tuple[Item, Action] | None:
        for item in self.items.values():
            for action in item.actions:
                if action.id == action_id:
                    return item, action
        return None

    def add_action(
        self,
        item: Item,
        name: str,
        actor: str,
        at: datetime,
        *,
        comment: str = "",
        history: list[HistoryRow] | None = None,
    ) -> Action:
        self._next_action += 1
        action = Action(
            self._next_action, item.kind, item.id, name, actor, at, comment, "", history or []
        )
        item.actions.append(action)
        if name != "commented":
            item.last_edited, item.last_edited_by = at, actor
        return action

    def move(self, item: Item, status: str, by: str, at: datetime) -> Action:
        """Move an item to the ZenTao state of the dataset status `status`, as the person
        `by` (a dataset user id) would by editing it: one action with its history rows."""
        rows: list[HistoryRow] = []
        name = self._to_state(item, status, rows)
        return self.add_action(item, name or "edited", self.account(by) or "", at, history=rows)

    def _to_state(self, item: Item, status: str, rows: list[HistoryRow]) -> str:
        """Put `item` in the state of the dataset `status`, adding the history rows that
        say so to `rows`; the action's name when the status changed, else ""."""
        new = self.state(item.kind, status)
        name = ""
        if new.status != item.status:
            name = status_action(item.kind, item.status, new.status)
            rows.append(HistoryRow("status", item.status, new.status))
        if item.kind == "story" and new.stage != item.stage:
            rows.append(HistoryRow("stage", item.stage, new.stage))
        item.status, item.stage = new.status, new.stage
        return name

    def deadline(self, item: Item) -> date | None:
        return item.source.duedate if item.kind != "story" else None


def load_world(
    source: Any, status_map: Mapping[str, Mapping[str, str]] | None = None
) -> ZenTaoWorld:
    """Load a dataset (a Dataset, dict, JSON text or path) as ZenTao shows it."""
    document = read_document(source)
    raw: dict[str, Any] = {}
    if isinstance(document, Dataset):
        dataset = document
    else:
        stripped, raw = split_status_map(document)
        dataset = load_dataset(stripped)
    return ZenTaoWorld(dataset, build_status_map(dataset.statuses, raw, status_map))
