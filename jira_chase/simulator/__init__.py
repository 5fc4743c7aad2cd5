"""In-process tracker simulators with realistic data, served over real HTTP.

``JiraSimulator`` serves a Jira Cloud site over a dataset in the ``jira-chase-dataset/1``
format (see ``DATASET.md``); ``load_dataset`` validates and loads such a dataset.
"""

from jira_chase.simulator.dataset import Dataset, DatasetError, load_dataset
from jira_chase.simulator.server import JiraSimulator

__all__ = ["Dataset", "DatasetError", "JiraSimulator", "load_dataset"]
