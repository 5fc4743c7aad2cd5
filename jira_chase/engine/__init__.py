"""The pure core: the tracker-neutral model (model.py), status history as intervals in
the team's calendar (timeline.py), the rule families (rules/), the judgement of a scope
(evaluate.py), the managed comment and its renderings (comment.py), the writes a
judgement asks for (plan.py), and what a run reports while it works (progress.py).
Small helpers the core shares: words.py, safe_text.py, gc_pause.py, idle_setup.py.

No I/O, no clock (`now` is a parameter), no state store, no tracker.

May import: config, jql, errors.
"""
