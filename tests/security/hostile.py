"""The hostile dataset: the demo data with what any tracker user can type planted in it.

Every payload sits in a field a user controls: summaries, display names, status names
are the site's; comments and the remark text are anyone's.
"""

from __future__ import annotations

import copy
from typing import Any

from jira_chase.simulator.demo import build_demo_dataset

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\r\x07"
#: An Atlassian document nested `NESTED_LEVELS` paragraphs deep.
NESTED_LEVELS = 1000
NESTED_ISSUE = "APP-101"


def nested_document(levels: int = NESTED_LEVELS) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": "deep"}
    for _ in range(levels):
        node = {"type": "paragraph", "content": [node]}
    return {"type": "doc", "version": 1, "content": [node]}


def with_nested_comment(dataset: dict[str, Any]) -> dict[str, Any]:
    """`dataset` with a comment nested `NESTED_LEVELS` deep on NESTED_ISSUE."""
    data = copy.deepcopy(dataset)
    issue = next(i for i in data["issues"] if i["key"] == NESTED_ISSUE)
    issue.setdefault("comments", []).append(
        {"at": issue["created"], "by": issue["reporter"], "body": nested_document()}
    )
    return data


def demo_dataset() -> dict[str, Any]:
    return build_demo_dataset()
