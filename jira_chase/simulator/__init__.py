"""In-process tracker simulators with realistic data, served over real HTTP.

``JiraSimulator`` serves a Jira Cloud or Jira Data Center site over a dataset in the
``jira-chase-dataset/1`` format (see ``DATASET.md``), optionally failing requests from a
seeded ``FaultPlan``; ``load_dataset`` validates and loads such a dataset, and
``generate_dataset`` makes a realistic one of any size.

May import: engine, jql, errors. Nothing in the product imports the simulator but the
demo and `jira-chase simulator` (cli/demo.py, cli/simulator_command.py).
"""

from jira_chase.simulator.dataset import Dataset, DatasetError, load_dataset
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.generate import generate_dataset
from jira_chase.simulator.server import JiraSimulator

__all__ = [
    "Dataset",
    "DatasetError",
    "FaultPlan",
    "JiraSimulator",
    "generate_dataset",
    "load_dataset",
]
