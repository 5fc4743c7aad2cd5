"""`python -m jira_chase`: the `jira-chase` command."""

from jira_chase.cli.commands import main

main(prog_name="jira-chase")
