"""Text from outside made safe to show: secrets redacted from log lines, control
characters escaped before a terminal or a markdown report sees them.

Tracker data is anyone's writing: a summary may carry `ESC]0;…` (set the terminal's
title), `ESC[2J` (clear it), a bare CR (overwrite the line it is on) or a newline that
forges a line of its own. Log lines may carry a session id (`zentaosid=` in ZenTao's
web URLs), a token, an Authorization header or a URL's userinfo.
"""

from __future__ import annotations

import re

#: What stands for a secret taken out of a line.
REDACTED = "***"

_SECRETS = (
    # ZenTao's web session in a URL, and any token-like query parameter.
    re.compile(r"(?i)\b(zentaosid|sid|session|token|access_token|password|api_key)=[^&\s\"'#]+"),
    # Headers as libraries print them: `Authorization: Basic …`, `{'Token': '…'}` (the
    # name as a header is spelled, so that a config key like `jira.token:` stays).
    re.compile(
        r"((?:['\"](?i:authorization|proxy-authorization|token|cookie|set-cookie)['\"]"
        r"|\b(?:Authorization|Proxy-Authorization|Token|Cookie|Set-Cookie))"
        r"\s*[:=]\s*['\"]?)(?:(?i:basic|bearer)\s+)?[^'\"\s,}]+"
    ),
    # user:secret@ in a URL.
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@"),
)


def redacted(text: str) -> str:
    """`text` with session ids, tokens, credential headers and URL userinfo replaced
    by `REDACTED`."""
    text = _SECRETS[0].sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _SECRETS[1].sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _SECRETS[2].sub(lambda m: f"{m.group(1)}{REDACTED}@", text)


# C0 controls but tab and newline, DEL, C1 controls, and the Unicode line and paragraph
# separators and bidirectional overrides that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029]")


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` as a terminal may show it: every control character but newline and tab
    written as an escape (`\\x1b`), so it shows and does nothing."""
    return _CONTROL.sub(_escape, text)


def one_line(text: str) -> str:
    """A single-line field (a name, a summary) as a terminal may show it: line breaks
    as `⏎`, other control characters escaped."""
    return printable(_LINE_BREAK.sub("⏎", text).replace("\t", " "))


#: The longest a text from the tracker (a summary, a name) is kept: one that long says
#: all it can, and one a megabyte long would be copied into every report and snapshot.
TEXT_LIMIT = 300


def clipped(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
