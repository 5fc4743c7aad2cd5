"""The state file: the SQLite store of runs, writes, managed comments, owned labels and
facts, with the lock one run holds (state.py); its versioned schema and migrations
(schema.py); issue snapshots (snapshot.py); the trend each run keeps and the time to
recovery derived from it (trends.py, trend_tables.py); and how files jira-chase writes
are written (files.py).

May import: engine, config, errors.
"""
