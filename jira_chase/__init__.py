"""jira-chase: chase the process, not the result."""

__version__ = "0.1.0"
