"""The manager's report: trends, charts and the flagged issues in one document, written
as self-contained HTML, markdown or JSON (`jira-chase report`)."""

from __future__ import annotations

from jira_chase.reports.manager.data import REPORT_FORMAT, build_report, issue_url
from jira_chase.reports.manager.render import (
    FORMATS,
    render,
    render_html,
    render_json,
    render_markdown,
)

__all__ = [
    "FORMATS",
    "REPORT_FORMAT",
    "build_report",
    "issue_url",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
]
