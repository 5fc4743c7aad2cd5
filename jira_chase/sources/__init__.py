"""The trackers: the contract every source keeps (base.py), Jira Cloud and Data Center
(jira/), ZenTao (zentao/), what they share over HTTP (http.py, json_body.py), and the
seal that proves a managed comment is the bot's own (marker.py).

May import: engine (not engine.rules: a source reads and writes, it never judges),
config, jql, errors.
"""
