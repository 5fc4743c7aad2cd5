"""What the ZenTao source's tests share: settings for a source on the ZenTao simulator
(the `zentao_sim` fixture, over real sockets, is in `tests/conftest.py`)."""

from __future__ import annotations

from typing import Any

from jira_chase.config.settings import ZenTaoSettings


def settings(url: str, **overrides: Any) -> ZenTaoSettings:
    base: dict[str, Any] = {"url": url, "account": "bot", "password": "pw", "products": [1],
                            "executions": [1], "backoff": 0}  # fmt: skip
    return ZenTaoSettings(**{**base, **overrides})
