"""The command line: each `jira-chase` command (commands.py) with its options and exit
codes (support.py), what it prints for people and for log shippers (output.py), the demo
(demo.py, with demo.toml and zentao_demo.toml) and `jira-chase simulator`.

May import: reports, run, store, sources, engine, config, jql, errors; the simulator only
from demo.py and simulator_command.py. Nothing imports cli but cli itself (and
`python -m jira_chase`).
"""
