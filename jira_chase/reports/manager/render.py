"""The report document (data.py) as HTML, markdown or JSON.

HTML is one self-contained file: styles, charts (inline SVG, see svg.py) and the page's
one script (templates/report.js) are all inline; nothing is fetched. Its
Content-Security-Policy fetches nothing either and runs that one script alone, allowed
by its hash.

The flagged issues are embedded once, as gzip-compressed JSON in base64 in a data block
(`<script type="application/gzip">`, which no browser runs), and the script builds each
team's findings table from them: at 20,000 issues the rows are 0.18 MB that way against
2.7 MB as plain JSON and 3.0 MB as the rows of an HTML table (benchmarks/README.md).
Base64 holds no character that could end the block, whatever the tracker's text.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from jira_chase.engine.safe_text import clipped, printable
from jira_chase.reports.manager.charts import all_charts

FORMATS = ("html", "markdown", "json")

# Characters that would change a markdown table or start markup.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#])")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{round(value, 1):g}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100):g} %"


def _md(value: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).splitlines()))


def _delta(change: dict[str, int] | None, key: str) -> Markup:
    if not change:
        return Markup("")
    value = change.get(key, 0)
    return Markup('<div class="delta">{}</div>').format(f"{value:+d} since last report")


def _trend(now: float | None, before: float | None) -> Markup:
    """A measure against its earlier value: up (longer, worse) or down, by how much."""
    if now is None or before is None:
        return Markup('<span class="muted">—</span>')
    change = round(now - before, 1)
    if change == 0:
        return Markup('<span class="muted">= {}</span>').format(f"{before:g}")
    kind, arrow = ("worse", "▲") if change > 0 else ("better", "▼")
    return Markup('<span class="{}">{} {} (was {})</span>').format(
        kind, arrow, f"{change:+g}", f"{before:g}"
    )


def _mdelta(change: dict[str, int] | None, key: str) -> str:
    return f" ({change.get(key, 0):+d})" if change else ""


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("jira_chase.reports.manager", "templates"),
        autoescape=select_autoescape(["j2"]) if autoescape else False,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_num, md=_md)
    env.globals.update(pct=_pct, delta=_delta, mdelta=_mdelta, trend=_trend, list_limit=LIST_LIMIT)
    return env


#: How many entries a list of the page (red lines, blockers, open waits) shows; the rest
#: is counted (every flagged issue is in the findings table).
LIST_LIMIT = 20

#: The report's one script (the findings tables, their search and filters).
SCRIPT = resources.files("jira_chase.reports.manager").joinpath("templates/report.js").read_text()

#: What the findings table shows of each flagged issue, and in which columns (the
#: assignee only when people are named).
_ROW_FIELDS = ("key", "url", "summary", "status", "step", "assignee", "health", "severity",
               "families", "findings", "age_days")  # fmt: skip


def _columns(named: bool) -> list[tuple[str, str]]:
    return [
        ("key", "issue"), ("health", "health"), ("families", "families"),
        ("age_days", "age in step"), *([("assignee", "assignee")] if named else []),
        ("status", "status"), ("summary", "summary"), ("findings", "findings"),
    ]  # fmt: skip


def team_ids(doc: dict[str, Any]) -> list[str]:
    """An HTML id for each team's section, from its name: "team-" and the name's
    letters and digits, numbered when two names give the same."""
    ids: list[str] = []
    for team in doc.get("teams") or []:
        base = "team-" + (re.sub(r"[^0-9a-z]+", "-", str(team["name"]).lower()).strip("-") or "x")
        candidate, n = base, 1
        while candidate in ids:
            n += 1
            candidate = f"{base}-{n}"
        ids.append(candidate)
    return ids


def findings_payload(doc: dict[str, Any]) -> str:
    """Every team's flagged issues, in the document's order (most severe first), as the
    page's script reads them: JSON, gzip-compressed, in base64."""
    named = bool(doc.get("name_people"))
    teams = doc.get("teams") or []
    data = {
        "group_by": "assignee" if named else "step",
        "no_group": "unassigned" if named else "not in a step",
        "steps": [s["name"] for s in doc.get("steps") or []],
        "columns": _columns(named),
        "families": sorted({f for t in teams for row in t["flagged"] for f in row["families"]}),
        "teams": [
            {
                "name": t["name"],
                "rows": [{k: row.get(k) for k in _ROW_FIELDS} for row in t["flagged"]],
            }
            for t in teams
        ],
    }
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    # mtime 0: the same document gives the same page, byte for byte
    return base64.b64encode(gzip.compress(text.encode(), compresslevel=9, mtime=0)).decode()


def content_security_policy(script: str = SCRIPT) -> str:
    """The report's policy: nothing is fetched, and the only script that runs is its own
    inline one, allowed by its hash; text from the tracker cannot add one."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return (
        f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def render_html(doc: dict[str, Any]) -> str:
    template = _environment(True).get_template("report.html.j2")
    return template.render(doc=doc, h=doc["headline"], charts=all_charts(doc),
                           team_ids=team_ids(doc), findings=findings_payload(doc),
                           script=Markup(SCRIPT), csp=content_security_policy())  # fmt: skip


def render_markdown(doc: dict[str, Any]) -> str:
    template = _environment(False).get_template("report.md.j2")
    text = template.render(doc=doc, h=doc["headline"])
    # Read in terminals and editors too: control characters from tracker data show.
    return printable(re.sub(r"\n{3,}", "\n\n", text))


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def _clipped_texts(value: Any) -> Any:
    """`value` with every text in it clipped to safe_text.TEXT_LIMIT characters."""
    if isinstance(value, str):
        return clipped(value)
    if isinstance(value, dict):
        return {key: _clipped_texts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clipped_texts(item) for item in value]
    return value


def render(doc: dict[str, Any], fmt: str) -> str:
    """The document in `fmt`, its texts clipped: whatever the tracker holds, a report
    stays the size of its content."""
    doc = _clipped_texts(doc)
    if fmt == "html":
        return render_html(doc)
    if fmt == "markdown":
        return render_markdown(doc)
    return render_json(doc)
