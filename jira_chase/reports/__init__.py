"""What people read about runs: the summary of a `plan` or `sync` for the terminal and
its JSON document (summary.py), the run history and `explain` (history.py), and the
manager's report in HTML, markdown or JSON (manager/).

May import: run, store, sources, engine, config, jql, errors.
"""
