"""One run, start to end: the pipeline of a `plan` or `sync` (pipeline.py: read, judge,
plan, write, record), the writes recorded as they are made (recording.py), the run timed
under the state file's lock with its metrics file (runner.py, metrics_file.py), the
configuration checked against the tracker (vet.py), and what a sync posts besides its
plan: the weekly check (digest.py) and each goal's comment (goal_comment.py); also
`jira-chase filters` (filters.py).

May import: store, sources, engine, config, jql, errors.
"""
