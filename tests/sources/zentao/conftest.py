"""What the ZenTao source's tests share: a ZenTao simulator over real sockets and
settings for a source on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jira_chase.config import ZenTaoSettings
from jira_chase.simulator.zentao import ZenTaoSimulator
from tests.conftest import build_demo_like_dataset


@pytest.fixture
def zentao_sim() -> Iterator[Any]:
    started: list[ZenTaoSimulator] = []

    def start(dataset: Any = None, **options: Any) -> ZenTaoSimulator:
        sim = ZenTaoSimulator(dataset or build_demo_like_dataset(), **options)
        started.append(sim.start())
        return sim

    yield start
    for sim in started:
        sim.stop()


def settings(url: str, **overrides: Any) -> ZenTaoSettings:
    base: dict[str, Any] = {"url": url, "account": "bot", "password": "pw", "products": [1],
                            "executions": [1], "backoff": 0}  # fmt: skip
    return ZenTaoSettings(**{**base, **overrides})
