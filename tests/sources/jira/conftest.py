"""The Jira source against the simulator over real sockets, with the real `jira` library:
every way a Jira answer can go wrong reaches its branch in the source (through the
simulator's data and its fault injection)."""

import pytest

from jira_chase.simulator.demo import build_demo_dataset


@pytest.fixture
def demo_sim(jira_sim):
    return jira_sim(build_demo_dataset())
