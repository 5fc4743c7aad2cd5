"""The report document (data.py) as HTML, markdown or JSON.

HTML is one self-contained file: styles, charts (inline SVG, see svg.py) and the small
script that sorts the flagged-issue table are all inline; nothing is fetched. Its
Content-Security-Policy fetches nothing either and runs that one script alone, allowed
by its hash.
"""

from __future__ import annotations

import base64
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
    env.globals.update(pct=_pct, delta=_delta, mdelta=_mdelta)
    return env


#: The report's one script (it sorts the flagged-issue table).
SCRIPT = resources.files("jira_chase.reports.manager").joinpath("templates/sort.js").read_text()


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
