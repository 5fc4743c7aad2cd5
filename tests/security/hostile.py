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


#: A status no workflow names, for `check`'s warnings (Jira sites only: ZenTao's
#: statuses are fixed).
HOSTILE_STATUS = "Blocked\x1b]0;status\x07"
HOSTILE_STATUS_ISSUE = "APP-60"
FORGED = "FORGED LINE"
#: Markup of every tracker's kind: HTML that would run a script, wiki markup, a mention
#: and the bot's markers (Data Center anchor, ZenTao tag).
MARKUP = (
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    " {color:red}*wiki*{color} [~admin] {anchor:jira-chase-2-x} [jira-chase:2:x]"
)


def demo_dataset() -> dict[str, Any]:
    return build_demo_dataset()


def hostile_dataset(tracker: str = "cloud") -> dict[str, Any]:
    """The demo data with control characters and forged lines in every summary and
    every person's display name, and (on Jira) an issue in a status named with them."""
    data = build_demo_dataset()
    for issue in data["issues"]:
        issue["summary"] = f"{issue['summary']} {ESCAPES}\n{FORGED} in a summary {MARKUP}"
    for user in data["users"]:
        if user["id"] != data["bot"]:
            user["name"] = f"{user['name']}{ESCAPES}\n{FORGED} in a name {MARKUP}"
    if tracker != "zentao":
        data["statuses"].append({"name": HOSTILE_STATUS, "category": "indeterminate"})
        issue = next(i for i in data["issues"] if i["key"] == HOSTILE_STATUS_ISSUE)
        previous = issue["status"]
        issue["status"] = HOSTILE_STATUS
        issue.setdefault("history", []).append(
            {"at": "2026-11-18T10:00:00Z", "by": issue["reporter"], "field": "status",
             "from": previous, "to": HOSTILE_STATUS}
        )  # fmt: skip
    return data


def raw_controls(text: str) -> list[str]:
    """The control characters (but newline) in `text`, as a terminal would obey them."""
    return sorted({c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0})


def with_huge_texts(dataset: dict[str, Any], size: int = 1_000_000) -> dict[str, Any]:
    """`dataset` with a display name and a summary `size` characters long."""
    data = copy.deepcopy(dataset)
    user = next(u for u in data["users"] if u["id"] != data["bot"])
    user["name"] = "N" * size
    data["issues"][0]["summary"] = "S" * size
    return data
