"""What ZenTao's items are, as every part of the ZenTao source needs them: the kinds and
their states, item keys, keywords as labels, and the items ZenTao refuses to edit."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from jira_chase.errors import IssueError
from jira_chase.sources.base import Memory

# One logger for the whole ZenTao source: its name is part of every log line.
log = logging.getLogger(__package__)

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
#: The states where an item waits before work starts: the default of `workflow.backlog`
#: (a story's stages before development, a task not started, a bug not yet resolved —
#: ZenTao has no state for a bug being fixed).
BACKLOG = (
    "story:draft", "story:reviewing", "story:active", "story:changing", "story:wait",
    "story:planned", "story:projected", "task:wait", "bug:active",
)  # fmt: skip
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
#: Memory kind: items ZenTao refuses to edit (key -> "<lastEditedDate>\t<cause>").
REFUSED = "zentao.refuses-keywords"
_SEPARATORS = r"[,，;；、\s]+"
KEY = re.compile(r"^(story|task|bug)-(\d+)$")
#: Accounts ZenTao uses that are not people (closed items are "assigned to" `closed`).
NOBODY = frozenset({"", "closed", "system"})


def split_key(issue_key: str) -> tuple[str, int]:
    """An item key (`story-12`) as its kind and number."""
    match = KEY.match(issue_key)
    if match is None:
        raise IssueError(issue_key, "not a ZenTao item key (story-N, task-N or bug-N)")
    return match.group(1), int(match.group(2))


def keyword_tokens(text: str | None) -> list[str]:
    """ZenTao keywords as tokens: people separate them with commas (also full-width),
    semicolons or spaces."""
    return [t for t in re.split(_SEPARATORS, text or "") if t]


def keywords(value: Any) -> str:
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


class Refusals:
    """The items ZenTao would not let us label as they are (`REFUSED` facts in the
    source's memory), each left alone until it is edited again."""

    def __init__(self, memory: Memory):
        self.memory = memory
        self._known: dict[str, str] | None = None  # the facts, read once a run

    def use(self, memory: Memory) -> None:
        self.memory = memory
        self._known = None

    def refuses(self, key: str, row: Mapping[str, Any]) -> bool:
        """ZenTao refused to edit this item before and it has not changed since: its
        labels are not tried again (its comment still carries the findings)."""
        if self._known is None:
            self._known = self.memory.recall(REFUSED)
        fact = self._known.get(key)
        if fact is None:
            return False
        edited, _, cause = fact.partition("\t")
        if edited != str(row.get("lastEditedDate") or ""):
            self.memory.forget(REFUSED, key)  # it was edited since: try again
            return False
        log.info("%s: not labelled: %s", key, cause)
        return True

    def remember(self, key: str, item: Mapping[str, Any], cause: str) -> None:
        """This item cannot be labelled as it is, for `cause`."""
        self.memory.remember(REFUSED, key, f"{item.get('lastEditedDate') or ''}\t{cause}")
