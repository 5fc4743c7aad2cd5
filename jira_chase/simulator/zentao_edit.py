"""How ZenTao 18.8 open source edits a story or a bug, for the simulator.

Each function mirrors one code path of 18.8 (files and functions named in its doc) on
the simulator's stored row (:meth:`Editor.stored`): which fields come from the request,
which fall back to defaults, which are recomputed, and which history rows
(`common::createChanges`) the edit leaves. They matter because the REST PUT rebuilds a
bug from a fixed subset of fields: a keywords-only PUT erases the deadline, OS and
browser, moves `resolvedDate`/`closedDate` to now, logs `linkBug 0 → ''`, and for a bug
resolved as a duplicate fails silently (200, nothing kept).

Posted strings are stored HTML-escaped (`fixer::get()` runs `htmlspecialchars(…,
ENT_QUOTES)` on every posted field), as ZenTao does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from jira_chase.simulator.zentao_data import Action, HistoryRow, Item, ZenTaoWorld

#: The fields `api/v1/entries/<kind>.php` `put()` copies from the JSON body, else from
#: the stored row (`entry::batchSetPost`); every other body field is ignored.
PUT_FIELDS = {
    "bug": tuple(
        [
            "uid",
            "title",
            "project",
            "execution",
            "openedBuild",
            "assignedTo",
            "pri",
            "severity",
            "type",
            "story",
            "resolvedBy",
            "closedBy",
            "resolution",
            "product",
            "plan",
            "task",
            "module",
            "steps",
            "mailto",
            "keywords",
        ]
    ),
    "story": tuple(
        [
            "title",
            "product",
            "parent",
            "reviewer",
            "type",
            "plan",
            "module",
            "source",
            "sourceNote",
            "category",
            "pri",
            "estimate",
            "mailto",
            "keywords",
            "uid",
            "stage",
            "notifyEmail",
        ]
    ),
}
#: `$config->story->feedbackSource`: other sources clear `feedbackBy`/`notifyEmail`.
FEEDBACK_SOURCES = ("customer", "user", "market", "service", "operation", "support", "forum")
_DATE_FIELDS = frozenset({"deadline"})
_TIME_FIELDS = frozenset({"resolvedDate", "closedDate", "assignedDate", "activatedDate"})
_INT_FIELDS = frozenset(
    {
        "product", "module", "severity", "project", "execution", "story", "task", "branch",
        "duplicateBug", "pri", "confirmed", "parent", "duplicateStory",
    }
)  # fmt: skip
_LIST_FIELDS = frozenset({"mailto", "os", "browser", "openedBuild", "linkBug", "linkStories"})
#: Request fields `update()` removes before writing (`->remove(...)`).
_NOT_COLUMNS = frozenset(
    {"uid", "comment", "files", "labels", "contactListMenu", "reviewer", "needNotReview",
     "notifyEmail_", "deleteFiles", "steps", "spec", "verify", "lastEditedDate"}
)  # fmt: skip
KEYWORDS_MAX_CHARS = 255
#: The empty value of a field `Editor.resets` empties (text fields: "").
_EMPTY: dict[str, Any] = {f: None for f in _DATE_FIELDS | _TIME_FIELDS} | {
    f: 0 for f in _INT_FIELDS
}
#: Fields `common::createChanges` never logs.
_UNLOGGED = frozenset({"lastEditedDate", "lastEditedBy", "assignedDate", "uid"})


def php_escape(text: str) -> str:
    """`htmlspecialchars($text, ENT_QUOTES)`."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#039;")
    )


class Refused(Exception):
    """ZenTao's DAO check failed: nothing is stored. `fields` maps field -> message."""

    def __init__(self, fields: Mapping[str, str]):
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


class Editor:
    """The stored rows of the simulator's items and 18.8's edit paths over them."""

    def __init__(
        self,
        world: ZenTaoWorld,
        zone: ZoneInfo,
        now: Callable[[], datetime],
        resets: tuple[str, ...] = (),
    ):
        self.world = world
        self.zone = zone
        self.now = now
        #: Fields every edit also empties (a lossy server, for tests of the client).
        self.resets = resets

    # -- the stored row ---------------------------------------------------------------

    @staticmethod
    def _last(item: Item, field: str, value: str) -> Action | None:
        for action in reversed(item.actions):
            if any(h.field == field and h.new == value for h in action.history):
                return action
        return None

    def stored(self, item: Item) -> dict[str, Any]:
        """The item's row as ZenTao stores it (raw values; see `Item.row`)."""
        closed = self._last(item, "status", "closed") if item.status == "closed" else None
        assigned = next(
            (a for a in reversed(item.actions) if any(h.field == "assignedTo" for h in a.history)),
            None,
        )
        row: dict[str, Any] = {
            "title": item.source.summary,
            "keywords": item.keywords,
            "pri": item.pri,
            "status": item.status,
            "assignedTo": item.assigned_to or "",
            "assignedDate": assigned.date if assigned else item.opened,
            "mailto": "",
            "product": item.product,
            "branch": 0,
            "module": 0,
            "color": "",
            "closedBy": (closed.actor if closed else "") or "",
            "closedDate": closed.date if closed else None,
        }
        if item.kind == "story":
            row.update(
                type="story",
                plan=",".join(str(p) for p in item.plans),
                stage=item.stage,
                category="feature",
                estimate=item.source.estimate or 0,
                source="",
                sourceNote="",
                parent=0,
                linkStories="",
                linkRequirements="",
                feedbackBy="",
                notifyEmail="",
                reviewedBy="",
                closedReason="done" if closed else "",
            )
        elif item.kind == "bug":
            resolved = (
                self._last(item, "status", "resolved")
                if item.status in ("resolved", "closed")
                else None
            )
            row.update(
                project=item.execution,
                execution=item.execution,
                story=0,
                task=0,
                plan=item.plans[0] if item.plans else 0,
                severity=3,
                type="codeerror",
                openedBuild="trunk",
                os="",
                browser="",
                deadline=self.world.deadline(item),
                resolvedBy=(resolved.actor if resolved else "") or "",
                resolution="fixed" if item.status in ("resolved", "closed") else "",
                resolvedDate=resolved.date if resolved else None,
                resolvedBuild="",
                duplicateBug=0,
                linkBug="0",
                # Resolving confirms a bug (`bugModel::resolve()`).
                confirmed=1 if item.assigned_to or item.status != "active" else 0,
            )
        row.update(item.row)
        return row

    def shown(self, field: str, value: Any) -> str:
        """A stored value as a history row shows it (raw, server-local)."""
        if field in _DATE_FIELDS:
            return value.isoformat() if value else "0000-00-00"
        if field in _TIME_FIELDS:
            return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""
        if isinstance(value, float):
            return f"{value:g}"  # PHP prints 5.0 as 5
        return str(value if value is not None else "")

    def coerce(self, field: str, value: Any) -> Any:
        """A request value as `fixer` and the DAO store it."""
        if isinstance(value, list) or field in _LIST_FIELDS:
            parts = value if isinstance(value, list) else [value]
            value = ",".join(str(p) for p in parts if p not in (None, ""))
        if isinstance(value, dict):
            value = str(value.get("account") or value.get("id") or "")
        if field in _DATE_FIELDS:
            text = str(value or "")
            return None if text[:10] in ("", "0000-00-00") else date.fromisoformat(text[:10])
        if field in _TIME_FIELDS:
            text = str(value or "")
            if text[:10] in ("", "0000-00-00"):
                return None
            if text.endswith("Z"):
                return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)
            return datetime.fromisoformat(text).replace(tzinfo=self.zone)
        if field in _INT_FIELDS:
            text = str(value if value is not None else "").strip()
            return int(text) if text.lstrip("-").isdigit() else 0
        if field == "estimate":
            try:
                return float(value or 0)
            except (TypeError, ValueError):
                return 0.0
        return php_escape(str(value if value is not None else ""))

    def save(self, item: Item, old: Mapping[str, Any], new: Mapping[str, Any], actor: str) -> None:
        """`dao->update()->data($new)` then `createChanges($old, $new)` and the `Edited`
        action with those history rows (none when nothing logged changed)."""
        now = self.now()
        if len(str(new.get("keywords", ""))) > KEYWORDS_MAX_CHARS:
            raise Refused({"keywords": "『Keywords』length should be <= 255."})
        new = {**new, **{f: _EMPTY.get(f, "") for f in self.resets if f in old}}
        rows: list[HistoryRow] = []
        for field, value in new.items():
            if field in _NOT_COLUMNS or field not in old:
                continue
            before = old[field]
            if isinstance(before, int) and isinstance(value, str):  # the column's type
                value = int(value) if value.strip().isdigit() else 0
            if self.shown(field, value) == self.shown(field, before) and value == before:
                continue
            if field == "status":
                item.status = str(value)
            elif field == "keywords":
                item.keywords = str(value)
            elif field == "assignedTo":
                item.assigned_to = str(value) or None
            elif field == "stage":
                item.stage = str(value)
                item.row[field] = value
            else:
                item.row[field] = value
            if field in _UNLOGGED or (field == "closedDate" and value is None):
                continue
            if self.shown(field, value) != self.shown(field, before):
                rows.append(HistoryRow(field, self.shown(field, before), self.shown(field, value)))
        if rows:
            self.world.add_action(item, "edited", actor, now, history=rows)
        item.last_edited, item.last_edited_by = now, actor

    # -- bugs -------------------------------------------------------------------------

    def bug_update(self, item: Item, post: Mapping[str, Any], actor: str) -> None:
        """`bugModel::update()` (module/bug/model.php), behind the web edit form and the
        REST PUT. Raises Refused when its checks fail."""
        old = self.stored(item)
        now = self.now()
        p = {k: self.coerce(k, v) for k, v in post.items()}

        def given(field: str) -> bool:
            return bool(p.get(field))

        new: dict[str, Any] = dict(p)
        for field in ("module", "execution", "story", "task", "duplicateBug", "branch"):
            new.setdefault(field, 0)
        new.setdefault("product", old["product"])
        for field, default in (
            ("openedBuild", ""), ("os", ""), ("browser", ""), ("plan", 0), ("deadline", None),
            ("resolvedDate", None), ("mailto", ""),
        ):  # fmt: skip
            new.setdefault(field, default)
        new["lastEditedBy"] = actor
        if p.get("assignedTo", "") != old["assignedTo"]:
            new["assignedDate"] = now
        if given("resolvedBy") and not given("resolvedDate"):
            new["resolvedDate"] = now
        if given("resolution") and not given("resolvedDate"):
            new["resolvedDate"] = now
        if given("resolution") and not given("resolvedBy"):
            new["resolvedBy"] = actor
        if given("closedBy") and not given("closedDate"):
            new["closedDate"] = now
        if given("closedDate") and not given("closedBy"):
            new["closedBy"] = actor
        closing = given("closedBy") or given("closedDate")
        resolving = given("resolution") or given("resolvedDate")
        if closing:
            new["assignedTo"], new["assignedDate"] = "closed", now
        if resolving:
            new["status"] = "resolved"
        if closing:
            new["status"] = "closed"
        if resolving and not given("assignedTo"):
            new["assignedTo"], new["assignedDate"] = item.opened_by or "", now
        if not given("assignedTo") and old["status"] == "closed":
            new["assignedTo"] = "closed"
        if not resolving:
            new["status"] = "active"
        if given("resolution"):
            new["confirmed"] = 1
            if p["resolution"] != "duplicate":
                new["duplicateBug"] = 0
        if not given("linkBug"):
            new["linkBug"] = ""
        self._check_bug(new)
        self.save(item, old, new, actor)

    @staticmethod
    def _check_bug(new: Mapping[str, Any]) -> None:
        if "title" in new and not new["title"]:
            raise Refused({"title": "『Title』should not be blank."})
        if new.get("resolution") == "duplicate" and not new.get("duplicateBug"):
            raise Refused({"duplicateBug": "『Duplicate ID』should not be blank."})

    def bug_put(self, item: Item, body: Mapping[str, Any], actor: str) -> None:
        """`bugEntry::put()` (api/v1/entries/bug.php): the PUT fields from the body, else
        from the stored row, then `bugModel::update()`."""
        old = self.stored(item)
        post = {
            f: body[f] if f in body else old[f] for f in PUT_FIELDS["bug"] if f in body or f in old
        }
        self.bug_update(item, post, actor)

    def bug_batch_edit(self, item: Item, form: Mapping[str, Any], actor: str) -> None:
        """`bugModel::batchUpdate()` for one bug (module/bug/model.php): a fixed set of
        fields, all from the form; nothing else of the row is touched."""
        old = self.stored(item)
        now = self.now()
        key = str(item.id)

        def value(name: str) -> Any:
            column = form.get(name)
            if not isinstance(column, dict) or key not in column:
                raise KeyError(name)
            return column[key]

        def text(name: str, field: str) -> Any:
            return self.coerce(field, value(name))

        new: dict[str, Any] = {"lastEditedBy": actor}
        new["type"] = text("types", "type")
        new["severity"] = text("severities", "severity")
        new["pri"] = text("pris", "pri")
        new["color"] = text("colors", "color")
        new["title"] = text("titles", "title")
        new["plan"] = text("plans", "plan")
        new["branch"] = text("branches", "branch") if "branches" in form else 0
        new["module"] = text("modules", "module")
        assigned = text("assignedTos", "assignedTo")
        new["assignedTo"] = old["assignedTo"] if old["status"] == "closed" else assigned
        new["deadline"] = text("deadlines", "deadline")
        new["resolvedBy"] = text("resolvedBys", "resolvedBy")
        new["keywords"] = text("keywords", "keywords")
        new["os"] = text("os", "os")  # array_filter() on a missing row is a PHP TypeError
        new["browser"] = text("browsers", "browser")
        new["resolution"] = text("resolutions", "resolution")
        duplicate = self.coerce("duplicateBug", form.get("duplicateBugs", {}).get(key))
        duplicate = duplicate or old["duplicateBug"]
        resolution = new["resolution"]
        new["duplicateBug"] = 0 if resolution and resolution != "duplicate" else duplicate
        if new["assignedTo"] != old["assignedTo"]:
            new["assignedDate"] = now
        if resolution:
            new["confirmed"] = 1
        if (new["resolvedBy"] or resolution) and old["status"] not in ("resolved", "closed"):
            new["resolvedDate"], new["status"] = now, "resolved"
        if resolution and not new["resolvedBy"]:
            new["resolvedBy"] = actor
        if resolution and not new["assignedTo"]:
            new["assignedTo"], new["assignedDate"] = item.opened_by or "", now
        self._check_bug(new)
        self.save(item, old, new, actor)

    # -- stories ----------------------------------------------------------------------

    def story_update(self, item: Item, post: Mapping[str, Any], actor: str) -> None:
        """`storyModel::update()` (module/story/model.php), behind the web edit form and
        the REST PUT. Raises Refused when its checks fail."""
        old = self.stored(item)
        now = self.now()
        reviewers = [str(r) for r in post.get("reviewer") or () if r]
        if old["status"] in ("draft", "changing") and not reviewers:
            raise Refused({"reviewer": "『Reviewer』should not be blank."})
        p = {k: self.coerce(k, v) for k, v in post.items()}
        new: dict[str, Any] = dict(p)
        new.setdefault("assignedDate", old["assignedDate"])
        new["lastEditedBy"] = actor
        new.setdefault("reviewedBy", old["reviewedBy"])
        for field in ("mailto", "plan", "notifyEmail"):
            new.setdefault(field, "")
        new.setdefault("product", old["product"])
        new.setdefault("branch", old["branch"])
        if not p.get("linkStories"):
            new["linkStories"] = ""
        if old["type"] == "requirement" and not p.get("linkRequirements"):
            new["linkRequirements"] = ""
        if p.get("assignedTo", "") != old["assignedTo"]:
            new["assignedDate"] = now
        if p.get("source", "") not in FEEDBACK_SOURCES:
            new["feedbackBy"] = new["notifyEmail"] = ""
        # `!empty($_POST['plan'][0])`: the first element of the posted list (the web
        # form's select posts an empty one first), or the first character of a string.
        plan = post.get("plan")
        first = (plan[0] if plan else "") if isinstance(plan, list) else str(plan or "")[:1]
        if first not in ("", "0") and old["stage"] == "wait":
            new["stage"] = "planned"
        new.setdefault("title", old["title"])
        if "reviewer" in post:
            item.reviewer = reviewers
        # `strpos('draft,changing', $status) != false`: 0 for a draft is false in PHP.
        if old["status"] == "changing" and "reviewer" in post:
            new["reviewedBy"] = ""
        self.save(item, old, new, actor)

    def story_put(self, item: Item, body: Mapping[str, Any], actor: str) -> None:
        """`storyEntry::put()` (api/v1/entries/story.php)."""
        old = self.stored(item)
        old = {**old, "reviewer": list(item.reviewer)}
        post = {
            f: body[f] if f in body else old[f]
            for f in PUT_FIELDS["story"]
            if f in body or f in old
        }
        self.story_update(item, post, actor)


def php_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A form body as PHP's `$_POST`: `a[7]=x` nests, `a[]=x` appends."""
    post: dict[str, Any] = {}
    for name, value in pairs:
        head, _, rest = name.partition("[")
        keys = [head] + ([k.rstrip("]") for k in ("[" + rest).split("[")[1:]] if rest else [])
        node: Any = post
        for n, part in enumerate(keys):
            last = n == len(keys) - 1
            nxt = None if last else keys[n + 1]
            if isinstance(node, list):
                if last:
                    node.append(value)
                    break
                child: Any = [] if nxt == "" else {}
                node.append(child)
                node = child
                continue
            if part == "" and not last:
                break
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, [] if nxt == "" else {})
    return post
