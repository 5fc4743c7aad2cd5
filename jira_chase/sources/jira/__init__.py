"""Jira Cloud (REST v3, enhanced search) and Data Center (REST v2) through the `jira` library.

Cloud: issues come from `search/jql` paged by `nextPageToken` (the old `/search` is
gone); inline changelogs stop at 40 entries, so longer histories are completed with
`changelog/bulkfetch`. Data Center: `/search` paged by `startAt`, paging by the
`maxResults` the server answers with, full changelog inline.

What differs between the two is said once, in `cloud.py` and `datacenter.py` (a
`JiraSite` each, chosen when the source is made); everything else is shared:

- `site.py`: the client, its retries, request counting and the mapping of Jira's
  answers to errors that name what to fix;
- `payload.py`: Jira's issue JSON -> `Issue`;
- `reading.py`: the scope's issues (incrementally, with a snapshot cache), labels, links;
- `notifications.py`: where the bot may write without notifying watchers;
- `writing.py`: label edits (one by one, or in bulk where the site allows) and the
  managed comments;
- `source.py`: `JiraSource`, the `Source` contract over all of these.
"""
