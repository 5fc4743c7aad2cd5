import pytest

from jira_chase.simulator.demo import build_demo_dataset


@pytest.fixture
def demo_sim(jira_sim):
    return jira_sim(build_demo_dataset())
