"""ZenTao (open source 16.0+, and Pro, Biz and Max built on it) through its REST API v1,
on `requests`.

Keys and projects: `story-12`, `bug-7`, `task-31`; the project of a story or bug is its
product (`P1`), of a task its execution (`E2`). Types are `Story`, `Bug`, `Task`, and
`pri` 1-4 reads as Highest, High, Medium, Low, so configs written for Jira keep working.
Actors are realnames: they are mapped back to accounts through `GET /users` and the user
objects the lists carry; a name that cannot be mapped stays the person's id. Tasks have
no keywords, so their issues are marked `labels_supported=False` and only their managed
comment carries the findings.

The parts, each with its own concern:
- `session`: signing in and again when the session ends, reads, retries, web forms,
  failures as errors that name the setting to fix;
- `items`: the kinds of items, their states and keys, keywords as labels, and the items
  ZenTao refuses to edit;
- `people`: accounts and realnames;
- `reading`: the items in scope and their histories as Issues;
- `remarks`: the managed comment, a remark made and edited through the web endpoints;
- `writing`: keyword edits that change nothing else;
- `source`: `ZenTaoSource`, the Source contract over all of them.
"""
