"""What the Jira source's tests build: settings for a simulated site, fault plans, label
operations."""

from __future__ import annotations

from datetime import datetime, timezone

from jira_chase.config.settings import JiraSettings
from jira_chase.engine.plan import LABELS, Operation
from jira_chase.simulator.faults import FaultPlan

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)
KEYS = ["APP-1", "APP-2", "APP-3", "APP-4", "APP-5", "APP-6"]


def default_settings(url, **kw):
    """The bot on the demo site with jira-chase's own retries and backoff."""
    base = {"url": url, "email": "chase-bot@example.com", "token": "t", "scope": "project = APP"}
    return JiraSettings(**{**base, **kw})


def settings(url, **kw):
    """The bot on the demo site, no retries and a short backoff: a fault shows at once."""
    base = {
        "url": url,
        "email": "chase-bot@example.com",
        "token": "t",
        "scope": "project = APP",
        "retries": 0,
        "backoff": 0.01,
    }
    return JiraSettings(**{**base, **kw})


def only(kind, *endpoints, rate=1.0, delay=1.0):
    return FaultPlan(rate=rate, kinds=[kind], endpoints=list(endpoints), delay=delay)


def label_ops(keys, label="chase-test"):
    return [Operation(LABELS, key, add=(label,), reason="test") for key in keys]
