"""Simulators for hostile data, started without the spec check of `jira_sim`: the
validator recurses into a comment nested a thousand levels deep and fails on its own
stack, whatever the answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jira_chase.simulator import JiraSimulator
from jira_chase.simulator.zentao import ZenTaoSimulator


@pytest.fixture
def raw_sim() -> Iterator[Callable[..., Any]]:
    """`raw_sim(dataset, tracker="cloud"|"datacenter"|"zentao", **options)`: a started
    simulator, stopped after the test."""
    started: list[Any] = []

    def start(dataset: Any, tracker: str = "cloud", **options: Any) -> Any:
        if tracker == "zentao":
            sim: Any = ZenTaoSimulator(dataset, **options)
        else:
            sim = JiraSimulator(dataset, deployment=tracker, **options)
        started.append(sim.start())
        return sim

    yield start
    for sim in started:
        sim.stop()
