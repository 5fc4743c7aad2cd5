"""Health labels as ZenTao keywords: prefixed tokens in `keywords` (stories and bugs;
other keywords are left as they are; tasks have none).

ZenTao 18.8's REST PUT rebuilds a bug from a subset of its fields (losing the deadline,
OS, browser, and moving the resolved and closed dates) and drops a story's links, so
keywords go through the web forms that keep every other field: a bug's batch edit
(`bugModel::batchUpdate()`) and a story's edit form (`storyModel::update()`), posted
with the fields they would otherwise reset. Each write is verified by reading the item
back: any other field that changed is a data-safety failure that stops keyword writes
to that kind for the run; an item ZenTao will not edit (a duplicate naming no bug) is
remembered (`REFUSED`) and left alone until it changes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import requests

from jira_chase.engine.plan import Operation
from jira_chase.errors import IssueError
from jira_chase.sources.http import BODY_ERRORS
from jira_chase.sources.zentao.items import (
    KINDS,
    Refusals,
    edit_keywords,
    keyword_tokens,
    keywords,
)
from jira_chase.sources.zentao.reading import ZenTaoReader
from jira_chase.sources.zentao.session import ZenTaoSession

KEYWORDS_MAX_CHARS = 255
#: What a keyword write may change besides the keywords: ZenTao's own bookkeeping.
_BOOKKEEPING = frozenset({"keywords", "lastEditedBy", "lastEditedDate", "actions", "preAndNext"})


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


class KeywordWriter:
    """Keyword edits that change nothing else, each read back and compared."""

    def __init__(self, session: ZenTaoSession, reader: ZenTaoReader, refusals: Refusals):
        self.session = session
        self.reader = reader
        self.refusals = refusals
        #: Kinds whose keyword write changed other fields in this run -> the item it did.
        self._unsafe: dict[str, str] = {}

    def write(self, op: Operation, kind: str, number: int) -> None:
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
        item = self.session.get(path)
        self.reader.saw(op.issue_key, item)
        current = keywords(item.get("keywords"))
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
            self.session.post_form(module, method, params, form)
        except (requests.ConnectionError, requests.Timeout, *BODY_ERRORS) as exc:
            lost = exc  # it may or may not have been made: the read-back tells
        after = self.session.get(path)
        self.reader.saw(op.issue_key, after)
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
        tokens = {t.casefold() for t in keyword_tokens(keywords(stored))}
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
        self.refusals.remember(key, item, cause)
        raise IssueError(
            key,
            f"{cause}; jira-chase leaves its labels alone until the {kind} changes "
            "(its comment still carries the findings)",
        )
