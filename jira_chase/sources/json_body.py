"""Tracker answers decoded without unbounded recursion.

Anyone who can comment can make an answer deep: an Atlassian document nested a thousand
levels is valid JSON, and Python's decoder gives up on it with `RecursionError` — on
every run, since the comment stays. Every session of a source decodes its answers
through `BoundedResponse.json`: the fast decoder first, and only when it runs out of
depth a loop (no recursion) that keeps the answer's first `MAX_DEPTH` levels and puts
`None` where a deeper value was, with one warning naming the issue it was in.
"""

from __future__ import annotations

import logging
import re
from json import JSONDecodeError
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

#: Levels of an answer kept; every answer jira-chase reads is far shallower, apart
#: from the text of comments, which it does not read.
MAX_DEPTH = 64

_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_STRUCTURE = re.compile(r'["\[\]{}]')
_LITERALS = {"true": True, "false": False, "null": None}


def _skip(text: str, pos: int) -> int:
    """The end of the array or object starting at `pos`, counted without recursion."""
    depth = 0
    while True:
        found = _STRUCTURE.search(text, pos)
        if found is None:
            raise JSONDecodeError("unterminated value", text, pos)
        char, pos = found.group(), found.end()
        if char == '"':
            pos = scanstring(text, pos)[1]
        elif char in "[{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos


def _key(text: str, pos: int) -> tuple[str, int]:
    """An object's key and the position after its colon."""
    if text[pos : pos + 1] != '"':
        raise JSONDecodeError("expecting a property name in double quotes", text, pos)
    key, pos = scanstring(text, pos + 1)
    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    if text[pos : pos + 1] != ":":
        raise JSONDecodeError("expecting ':'", text, pos)
    return key, _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]


def loads_bounded(text: str, max_depth: int = MAX_DEPTH) -> tuple[Any, list[list[Any]]]:
    """`text` decoded without recursion, and the paths (keys and indexes) of the values
    nested deeper than `max_depth`, which stand as None in the result."""
    cut: list[list[Any]] = []
    # Each frame: the container being filled and, for an object, the key being read.
    stack: list[list[Any]] = []
    space = _SPACE.match
    pos = space(text, 0).end()  # type: ignore[union-attr]
    while True:
        char = text[pos : pos + 1]
        value: Any
        if char and char in "{[":
            if len(stack) >= max_depth:
                cut.append([frame[1] if isinstance(frame[0], dict) else len(frame[0])
                            for frame in stack])  # fmt: skip
                value, pos = None, _skip(text, pos)
            else:
                container: Any = {} if char == "{" else []
                pos = space(text, pos + 1).end()  # type: ignore[union-attr]
                if text[pos : pos + 1] == ("}" if char == "{" else "]"):
                    value, pos = container, pos + 1
                else:
                    frame = [container, None]
                    if char == "{":
                        frame[1], pos = _key(text, pos)
                    stack.append(frame)
                    continue
        elif char == '"':
            value, pos = scanstring(text, pos + 1)
        else:
            number = _NUMBER.match(text, pos)
            if number and number.group():
                literal = number.group()
                value = float(literal) if number.group(1) or number.group(2) else int(literal)
                pos = number.end()
            else:
                for word, meaning in _LITERALS.items():
                    if text.startswith(word, pos):
                        value, pos = meaning, pos + len(word)
                        break
                else:
                    raise JSONDecodeError("expecting a value", text, pos)
        # Put the value in its container; close every container that ends here.
        while True:
            if not stack:
                pos = space(text, pos).end()  # type: ignore[union-attr]
                if pos != len(text):
                    raise JSONDecodeError("extra data", text, pos)
                return value, cut
            frame = stack[-1]
            container = frame[0]
            if isinstance(container, dict):
                container[frame[1]] = value
            else:
                container.append(value)
            pos = space(text, pos).end()  # type: ignore[union-attr]
            char = text[pos : pos + 1]
            if char == ",":
                pos = space(text, pos + 1).end()  # type: ignore[union-attr]
                if isinstance(container, dict):
                    frame[1], pos = _key(text, pos)
                break
            if char != ("}" if isinstance(container, dict) else "]"):
                raise JSONDecodeError("expecting ',' or the end of the container", text, pos)
            stack.pop()
            value, pos = container, pos + 1


def _where(doc: Any, path: list[Any]) -> tuple[str | None, str]:
    """The issue a path leads through (the last `key` on the way) and the path's first
    steps as text."""
    issue, node, parts = None, doc, []
    for step in path:
        if isinstance(node, dict) and isinstance(node.get("key"), str):
            issue = node["key"]
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
        node = node[step] if isinstance(node, (dict, list)) else None
    shown = "".join(parts[:_SHOWN_STEPS]).lstrip(".")
    return issue, shown + ("…" if len(parts) > _SHOWN_STEPS else "")


_SHOWN_STEPS = 8


class BoundedResponse(requests.Response):
    """A response whose JSON is decoded without running out of depth (see the module);
    `warned` holds what its session has warned about already."""

    warned: set[tuple[str | None, str]]

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except RecursionError:
            pass
        doc, cut = loads_bounded(self.text)
        path = urlsplit(self.url).path
        for steps in cut:
            issue, where = _where(doc, steps)
            if (issue, where) in self.warned:
                continue
            self.warned.add((issue, where))
            log.warning(
                "%sa value nested deeper than %d levels was skipped (%s in the answer to "
                "%s); the run goes on without it",
                f"{issue}: " if issue else "",
                MAX_DEPTH,
                where,
                path,
            )
        return doc


def install(session: requests.Session) -> None:
    """Decode every answer `session` receives without unbounded recursion, warning once
    per session about each value cut."""
    warned: set[tuple[str | None, str]] = set()

    def bound_json(response: requests.Response, *args: Any, **kwargs: Any) -> Any:
        response.__class__ = BoundedResponse
        response.warned = warned  # type: ignore[attr-defined]
        return response

    session.hooks["response"].append(bound_json)
