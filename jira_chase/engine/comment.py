"""The managed comment: one per unhealthy issue, rendered for each tracker.

Pure. A comment is built as a tracker-neutral `CommentDoc` and rendered as Atlassian
Document Format (Jira Cloud), wiki markup (Jira Data Center), HTML (ZenTao) or plain text
(plans). Everything that comes from the tracker (status names, summaries, people) is data,
never markup: ADF carries it in text nodes, wiki markup and HTML escape it, so an issue's
text cannot change a comment's structure or forge the marker that identifies the comment.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jira_chase.engine.evaluate import Verdict
from jira_chase.engine.model import Finding
from jira_chase.engine.rules import cause
from jira_chase.engine.rules.context import fmt_time

#: Comment property (Jira Cloud) that tags the bot's comment and holds its digest.
PROPERTY_KEY = "jira-chase"
#: Bumped when the rendering changes in a way that should rewrite existing comments.
FORMAT_VERSION = 2
#: The digest of a "back on track" note.
RECOVERED = "recovered"
#: Hex digits of the HMAC that a marker carries (see `jira_chase.sources.marker`).
SEAL_LENGTH = 20
#: The longest comment Jira accepts, in characters (Cloud and Data Center alike).
COMMENT_LIMIT = 32_767

_ANCHOR = re.compile(r"^\{anchor:jira-chase-(?:([a-z]+)-)?(\d+)-([0-9a-z]+)(?:-([0-9a-f]+))?\}")
# Characters with a meaning in Jira wiki markup; a backslash makes each literal.
_WIKI_SPECIAL = re.compile(r"([\\{}\[\]*_+\-^~?|!#()<>&:])")


@dataclass(frozen=True)
class CommentItem:
    """One line of a comment: how bad, what kind of thing (`title`), what and since
    when against which limit (`message`), and the team's hint."""

    severity: str
    title: str
    message: str
    hint: str | None


#: What each cause is called on the issue.
TITLES = {
    "stuck": "stuck",
    "redline": "red line",
    "habits": "habit",
    "blocked": "blocked",
    "must-start": "goal",
    "must-finish": "goal",
}


@dataclass(frozen=True)
class CommentDoc:
    """What the comment says; `digest` changes exactly when the content should."""

    heading: str
    items: tuple[CommentItem, ...]
    footer: str
    digest: str
    #: Another kind of managed comment (e.g. "digest"): its own marker, so neither is
    #: ever taken for the other.
    tag: str = ""
    #: Titled lists of plain lines, after the items.
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: (text, URL) shown as a link before the footer.
    link: tuple[str, str] | None = None


@dataclass(frozen=True)
class Marker:
    """What a marker says: the format version, the content digest, and the seal that
    proves the bot wrote it (see `jira_chase.sources.marker`; empty when it has none)."""

    version: int
    digest: str
    seal: str = ""


@dataclass(frozen=True)
class ManagedComment:
    """The bot's comment on an issue as the tracker or the state store knows it."""

    issue_key: str
    comment_id: str
    digest: str
    #: What the marker says the content is, whether or not its seal verifies (`digest`
    #: is `marker.UNSEALED` when it does not): enough to tell, say, which week a weekly
    #: check was written for after the secret was lost.
    said: str = ""


def findings_digest(verdict: Verdict) -> str:
    """A short stable hash of the verdict's findings, ignoring the passing of time."""
    payload = json.dumps(
        [FORMAT_VERSION, verdict.health.value, sorted(f.fingerprint() for f in verdict.findings)],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def hint_for(finding: Finding, hints: dict[str, str]) -> str | None:
    """The team's hint for a finding: by its rule, its parts' rules or families, its
    family, then its cause."""
    names = [finding.rule]
    for family, rule in finding.parts:
        names += [rule, family]
    names += [finding.family, cause(finding)]
    return next((hints[name] for name in names if name in hints), None)


def build_comment(verdict: Verdict, hints: dict[str, str], now: datetime) -> CommentDoc:
    """The comment for an unhealthy issue, as the team reads it: one line per finding
    (what, since when, against which limit) with the team's hint. The evidence, the
    rule and the setting behind each threshold are in `explain`, the JSON and the
    report, not here."""
    count = len(verdict.findings)
    heading = (
        f"jira-chase: {verdict.health.value.replace('-', ' ')} "
        f"({count} finding{'s' if count != 1 else ''})"
    )
    items = tuple(
        CommentItem(
            severity=f.severity.label,
            title=TITLES.get(cause(f), cause(f)),
            message=f.message,
            hint=hint_for(f, hints),
        )
        for f in verdict.findings
    )
    footer = (
        f"As of {fmt_time(now)}. jira-chase edits this comment when its findings change "
        f"(`jira-chase explain {verdict.issue.key}` shows the evidence)."
    )
    return fit(CommentDoc(heading, items, footer, findings_digest(verdict)))


#: The longest a single text (a message, an evidence value, a hint) may be in a comment
#: that is over the limit.
TEXT_CAP = 500
#: Characters a rendering may spend per item and per text on markup, at most.
_MARKUP_PER_ITEM, _MARKUP_PER_TEXT = 400, 120


def rendered_length(doc: CommentDoc) -> int:
    """The length of the longest rendering, as the tracker counts it (with a seal in the
    marker)."""
    seal = "0" * SEAL_LENGTH
    return max(adf_length(to_adf(doc)), len(to_wiki(doc, seal)), len(to_zentao_html(doc, seal)))


def _could_be_over(doc: CommentDoc) -> bool:
    """False when no rendering can reach the limit: escaping makes a character at most
    six (a JSON or HTML escape), and markup costs at most so much per item and text."""
    texts = [doc.heading, doc.footer]
    for item in doc.items:
        texts += [item.severity, item.title, item.message, item.hint or ""]
    budget = 6 * sum(len(t) for t in texts) + _MARKUP_PER_TEXT * len(texts)
    return budget + _MARKUP_PER_ITEM * (len(doc.items) + 2) > COMMENT_LIMIT


def _cap(text: str, size: int = TEXT_CAP) -> str:
    return text if len(text) <= size else text[: size - 1] + "\u2026"


def fit(doc: CommentDoc) -> CommentDoc:
    """`doc`, shortened when a rendering would exceed `COMMENT_LIMIT`: long texts are cut
    (with an ellipsis), then findings from the end are left out and counted in the
    footer. The digest, and so the marker that identifies the comment, never changes."""
    if not _could_be_over(doc) or rendered_length(doc) <= COMMENT_LIMIT:
        return doc
    items = tuple(
        CommentItem(
            severity=item.severity,
            title=_cap(item.title, 100),
            message=_cap(item.message),
            hint=_cap(item.hint) if item.hint else None,
        )
        for item in doc.items
    )
    heading = _cap(doc.heading)

    def shortened(shown: int) -> CommentDoc:
        left_out = len(items) - shown
        footer = doc.footer
        if left_out:
            footer = (
                f"{left_out} more finding{'s' if left_out != 1 else ''} not shown (a comment "
                f"holds at most {COMMENT_LIMIT:,} characters). {doc.footer}"
            )
        return CommentDoc(heading, items[:shown], _cap(footer, 1000), doc.digest)

    # The most findings that fit; none always fits (short heading and footer).
    low, high = 0, len(items)
    while low < high:
        middle = (low + high + 1) // 2
        if rendered_length(shortened(middle)) <= COMMENT_LIMIT:
            low = middle
        else:
            high = middle - 1
    return shortened(low)


def recovery_comment(now: datetime, left_scope: str | None = None) -> CommentDoc:
    """What the managed comment says once there is nothing to chase: the issue is healthy
    again, or (`left_scope`, the reason) it is no longer in the scope."""
    if left_scope:
        return CommentDoc(
            heading=f"jira-chase: no longer chased since {fmt_time(now)}",
            items=(),
            footer=f"This issue {left_scope}, so jira-chase no longer judges it.",
            digest=RECOVERED,
        )
    return CommentDoc(
        heading=f"jira-chase: back on track since {fmt_time(now)}",
        items=(),
        footer="No process problems found any more.",
        digest=RECOVERED,
    )


# -- renderings ----------------------------------------------------------------------


def to_text(doc: CommentDoc) -> str:
    """Plain text, for plans and logs."""
    lines = [doc.heading]
    for item in doc.items:
        lines.append(f"- [{item.severity}] {item.title}: {item.message}")
        if item.hint:
            lines.append(f"  what to do: {item.hint}")
    for title, entries in doc.sections:
        lines.append(title)
        lines += [f"- {entry}" for entry in entries]
    if doc.link:
        lines.append(f"{doc.link[0]}: {doc.link[1]}")
    lines.append(doc.footer)
    return "\n".join(lines)


def _text(value: str, *marks: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": m} for m in marks]
    return node


def _paragraph(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(nodes)}


def _bullets(items: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {"type": "bulletList", "content": [{"type": "listItem", "content": c} for c in items]}


def to_adf(doc: CommentDoc) -> dict[str, Any]:
    """Atlassian Document Format; tracker text lives only in text nodes."""
    content: list[dict[str, Any]] = [_paragraph(_text(doc.heading, "strong"))]
    entries = []
    for item in doc.items:
        line = [
            _text(item.severity.upper(), "strong"),
            _text(f" {item.title}: "),
            _text(item.message),
        ]
        if item.hint:
            line += [_text(" What to do: ", "strong"), _text(item.hint)]
        entries.append([_paragraph(*line)])
    if entries:
        content.append(_bullets(entries))
    for title, lines in doc.sections:
        content.append(_paragraph(_text(title, "strong")))
        if lines:
            content.append(_bullets([[_paragraph(_text(line))] for line in lines]))
    if doc.link:
        text, url = doc.link
        content.append(
            _paragraph({"type": "text", "text": text,
                        "marks": [{"type": "link", "attrs": {"href": url}}]})
        )  # fmt: skip
    content.append(_paragraph(_text(doc.footer, "em")))
    return {"type": "doc", "version": 1, "content": content}


def adf_length(body: dict[str, Any]) -> int:
    """How long an ADF comment counts against `COMMENT_LIMIT`: the characters of its
    compact JSON. Jira Cloud stores the document, not its text, so this is the
    conservative measure (always more than the visible text)."""
    return len(json.dumps(body, separators=(",", ":"), ensure_ascii=False))


def escape_wiki(value: str) -> str:
    """Tracker text as literal wiki-markup text: every special character escaped and
    line breaks folded, so it cannot open a macro, a link, a mention or a new block."""
    flat = " ".join(value.splitlines())
    return _WIKI_SPECIAL.sub(r"\\\1", flat)


def wiki_marker(digest: str, tag: str = "", seal: str = "") -> str:
    """An invisible anchor that identifies the bot's comment (of the kind `tag`), its
    content and, by the `seal`, its origin."""
    kind = f"{tag}-" if tag else ""
    sealed = f"-{seal}" if seal else ""
    return f"{{anchor:jira-chase-{kind}{FORMAT_VERSION}-{digest}{sealed}}}"


def to_wiki(doc: CommentDoc, seal: str = "") -> str:
    """Wiki markup for Jira Data Center, starting with the invisible marker."""
    lines = [f"{wiki_marker(doc.digest, doc.tag, seal)}*{escape_wiki(doc.heading)}*"]
    for item in doc.items:
        hint = f" *What to do:* {escape_wiki(item.hint)}" if item.hint else ""
        lines.append(
            f"* *{item.severity.upper()}* {escape_wiki(item.title)}: "
            f"{escape_wiki(item.message)}{hint}"
        )
    for title, entries in doc.sections:
        lines.append(f"*{escape_wiki(title)}*")
        lines += [f"* {escape_wiki(entry)}" for entry in entries]
    if doc.link:
        # A URL cannot be escaped inside a link; the config refuses one with | [ ] or space.
        lines.append(f"[{escape_wiki(doc.link[0])}|{doc.link[1]}]")
    lines.append(f"_{escape_wiki(doc.footer)}_")
    return "\n".join(lines)


def read_wiki_marker(body: str, tag: str = "") -> Marker | None:
    """The marker of the kind `tag` that `body` starts with, if it does."""
    match = _ANCHOR.match(body)
    if match is None or (match.group(1) or "") != tag:
        return None
    return Marker(int(match.group(2)), match.group(3), match.group(4) or "")


def parse_wiki_marker(body: str, tag: str = "") -> tuple[int, str] | None:
    """(format version, digest) when `body` starts with the bot's marker of the kind
    `tag`, else None."""
    marker = read_wiki_marker(body, tag)
    return None if marker is None else (marker.version, marker.digest)


# -- ZenTao ----------------------------------------------------------------------------
#
# ZenTao keeps a remark as HTML and sanitises it on the way in (`strip_tags` with its
# `allowedTags`, which drops HTML comments and anything else invisible), so the marker
# is plain text: the first thing in the comment, small and grey, and it survives any
# sanitising. Tracker text is HTML-escaped, so it can neither add markup nor put a marker
# in front of ours.

_ZENTAO_MARKER = re.compile(r"^\[jira-chase(?:-([a-z]+))?:(\d+):([0-9a-z]+)(?::([0-9a-f]+))?\]")
_TAG = re.compile(r"<[^>]*>")


def zentao_marker(digest: str, tag: str = "", seal: str = "") -> str:
    """The plain-text tag that starts the bot's ZenTao comment (of the kind `tag`)."""
    kind = f"-{tag}" if tag else ""
    sealed = f":{seal}" if seal else ""
    return f"[jira-chase{kind}:{FORMAT_VERSION}:{digest}{sealed}]"


def _html(value: str) -> str:
    return html.escape(" ".join(value.splitlines()), quote=True)


def to_zentao_html(doc: CommentDoc, seal: str = "") -> str:
    """HTML for a ZenTao remark, using only tags ZenTao keeps, starting with the marker."""
    parts = [
        '<p><span style="color:#999999;font-size:smaller">'
        f"{zentao_marker(doc.digest, doc.tag, seal)}</span></p>",
        f"<p><strong>{_html(doc.heading)}</strong></p>",
    ]
    if doc.items:
        parts.append("<ul>")
        for item in doc.items:
            hint = f" <strong>What to do:</strong> {_html(item.hint)}" if item.hint else ""
            parts.append(
                f"<li><strong>{_html(item.severity.upper())}</strong> "
                f"{_html(item.title)}: {_html(item.message)}{hint}</li>"
            )
        parts.append("</ul>")
    for title, entries in doc.sections:
        parts.append(f"<p><strong>{_html(title)}</strong></p>")
        if entries:
            parts.append("<ul>" + "".join(f"<li>{_html(e)}</li>" for e in entries) + "</ul>")
    if doc.link:
        parts.append(f'<p><a href="{_html(doc.link[1])}">{_html(doc.link[0])}</a></p>')
    parts.append(f"<p><em>{_html(doc.footer)}</em></p>")
    return "".join(parts)


def read_zentao_marker(body: str, tag: str = "") -> Marker | None:
    """The marker of the kind `tag` that a ZenTao remark (HTML as stored, or plain text)
    starts with, if it does."""
    text = html.unescape(_TAG.sub("", body)).lstrip()
    match = _ZENTAO_MARKER.match(text)
    if match is None or (match.group(1) or "") != tag:
        return None
    return Marker(int(match.group(2)), match.group(3), match.group(4) or "")


def parse_zentao_marker(body: str, tag: str = "") -> tuple[int, str] | None:
    """(format version, digest) when a ZenTao remark (HTML as stored, or plain text)
    starts with the bot's marker of the kind `tag`, else None."""
    marker = read_zentao_marker(body, tag)
    return None if marker is None else (marker.version, marker.digest)
