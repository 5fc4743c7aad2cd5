"""The managed comment on ZenTao: a remark made through the web endpoint
`index.php?m=action&f=comment` with the API token as the session, edited in place with
`f=editComment`, found by the plain-text marker it starts with among the item's actions
made by the bot's account (the item's page data names accounts; the REST API only
realnames), its seal proving its content (see `jira_chase.sources.marker`), and checked by
reading the item back after every write (those endpoints answer HTML).
ZenTao cannot delete a remark: withdrawing it rewrites it to a short "back on track"
note."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests

from jira_chase.engine.comment import (
    RECOVERED,
    CommentDoc,
    ManagedComment,
    Marker,
    read_zentao_marker,
    to_zentao_html,
)
from jira_chase.errors import IssueError
from jira_chase.sources.base import Memory
from jira_chase.sources.http import BODY_ERRORS
from jira_chase.sources.marker import Sealer
from jira_chase.sources.zentao.items import split_key
from jira_chase.sources.zentao.people import People
from jira_chase.sources.zentao.reading import ZenTaoReader
from jira_chase.sources.zentao.session import HttpError, Malformed, ZenTaoSession

# One logger for the whole ZenTao source: its name is part of every log line.
log = logging.getLogger(__package__)

WITHDRAWN = CommentDoc(
    heading="jira-chase: back on track, no process problems found any more",
    items=(),
    footer="ZenTao keeps every remark, so this one stays; jira-chase edits it again only "
    "if the item needs chasing.",
    digest=RECOVERED,
)


class Remarks:
    """The signed-in account's tagged remarks on ZenTao items."""

    def __init__(
        self, session: ZenTaoSession, people: People, reader: ZenTaoReader, memory: Memory
    ):
        self.session = session
        self.people = people
        self.reader = reader
        #: Where the secret that seals the markers is kept (see `jira_chase.sources.marker`).
        self.memory = memory

    def authors(self, issue_key: str) -> dict[str, str]:
        """The account that made each of the item's actions, by action id. The REST API
        names an actor by realname, which anyone may choose; the item's page data
        (`index.php?m=<kind>&f=view&t=json`) keeps the account."""
        kind, number = split_key(issue_key)
        data = self.session.web_view(kind, {f"{kind}ID": number})
        actions = data.get("actions")
        # PHP encodes the actions, an array keyed by id, as an object.
        rows = list(actions.values()) if isinstance(actions, dict) else actions
        return {
            str(row.get("id")): row["actor"]
            for row in (rows if isinstance(rows, list) else ())
            if isinstance(row, dict) and isinstance(row.get("actor"), str)
        }

    def _managed(
        self, issue_key: str, actions: list[dict[str, Any]], tag: str = ""
    ) -> list[ManagedComment]:
        """The remarks of the kind `tag` that start with a marker and that the signed-in
        account made (by account, never by realname), oldest first, each with the digest
        its seal proves (`UNSEALED` when it proves none)."""
        tagged: list[tuple[str, Marker]] = []
        for action in sorted(actions, key=lambda a: int(a.get("id") or 0)):
            if action.get("action") != "commented":
                continue
            marker = read_zentao_marker(str(action.get("comment") or ""), tag)
            if marker is not None:
                tagged.append((str(action.get("id")), marker))
        if not tagged:
            return []
        authors = self.authors(issue_key)
        bot = self.people.profile()["account"]
        sealer = Sealer(self.memory)
        return [
            ManagedComment(issue_key, action_id,
                           sealer.digest(issue_key, marker.digest, tag, marker.seal),
                           marker.digest)
            for action_id, marker in tagged
            if authors.get(action_id) == bot
        ]  # fmt: skip

    def managed_comments(self, issue_key: str, tag: str = "") -> list[ManagedComment]:
        """The bot's remarks that start with the marker, oldest first, read from the
        item's actions (those read in this run, else read now). A remark by anyone else
        never counts."""
        actions = self.reader.fresh.get(issue_key)
        if actions is None:
            try:
                actions = self.reader.actions(issue_key)
            except HttpError as exc:
                if exc.status == 404:
                    return []
                raise self.session.run_error(f"reading the remarks of {issue_key}", exc) from None
            except (Malformed, requests.RequestException) as exc:
                raise self.session.run_error(f"reading the remarks of {issue_key}", exc) from None
        return self._managed(issue_key, actions or [], tag)

    def _post(self, method: str, params: Mapping[str, Any], form: Mapping[str, str]) -> None:
        self.session.post_form("action", method, params, list(form.items()))

    def create(self, key: str, kind: str, number: int, doc: CommentDoc) -> str:
        """Look for the tagged remark first (a run may have died after posting it), post
        it, and read it back; a post whose fate is unknown is looked for, then made once
        more."""
        existing = next(iter(self._managed(key, self.reader.actions(key) or [], doc.tag)), None)
        if existing is not None:
            if existing.digest != doc.digest:
                return self.edit(key, kind, number, existing.comment_id, doc)
            return existing.comment_id
        html = to_zentao_html(doc, Sealer(self.memory).seal(key, doc.digest, doc.tag))
        for attempt in range(2):
            try:
                self._post("comment", {"objectType": kind, "objectID": number}, {"comment": html})
            except HttpError as exc:
                if exc.status < 500:
                    raise
            except (requests.ConnectionError, requests.Timeout, *BODY_ERRORS):
                pass  # it may or may not have been made: look
            found = self._managed(key, self.reader.actions(key) or [], doc.tag)
            if found:
                return found[0].comment_id
            if attempt == 0:
                self.session.stats.retries += 1
                log.info("%s: the remark did not appear; posting it once more", key)
        raise IssueError(
            key,
            "the managed comment did not appear after posting it twice: "
            "zentao.account needs the privilege to comment (action-comment)",
        )

    def edit(self, key: str, kind: str, number: int, comment_id: str, doc: CommentDoc) -> str:
        """Rewrite the bot's remark in place (`f=editComment`) and read it back. ZenTao
        edits any remark by its id, so the remark's account is checked first: one that
        is not the bot's is never edited (it counts as gone)."""
        if self.authors(key).get(comment_id) != self.people.profile()["account"]:
            raise IssueError(key, f"the managed comment {comment_id} is gone", status=404)
        seal = Sealer(self.memory).seal(key, doc.digest, doc.tag)
        html = to_zentao_html(doc, seal)
        for attempt in range(2):
            try:
                self._post("editComment", {"actionID": comment_id}, {"lastComment": html})
            except HttpError as exc:
                if exc.status < 500:
                    raise
            except (requests.ConnectionError, requests.Timeout, *BODY_ERRORS):
                pass  # an edit is idempotent: read back, then try again
            actions = self.reader.actions(key) or []
            action = next((a for a in actions if str(a.get("id")) == comment_id), None)
            if action is None or action.get("action") != "commented":
                raise IssueError(key, f"the managed comment {comment_id} is gone", status=404)
            marker = read_zentao_marker(str(action.get("comment") or ""), doc.tag)
            if marker is not None and (marker.digest, marker.seal) == (doc.digest, seal):
                return comment_id
            if attempt == 0:
                self.session.stats.retries += 1
        raise IssueError(
            key,
            f"ZenTao did not apply the edit of the managed comment {comment_id}: "
            "zentao.account needs the privilege to edit remarks "
            "(action-editComment)",
        )

    def withdraw(self, key: str, kind: str, number: int, comment_id: str) -> None:
        """Rewrite the remark to say the item is back on track (a remark already gone
        needs nothing more)."""
        try:
            self.edit(key, kind, number, comment_id, WITHDRAWN)
        except IssueError as exc:
            if exc.status != 404:  # already gone: the goal is reached
                raise
