"""What is particular to Jira Data Center (REST API v2, personal access token).

The scope is searched with `/search`, paged by `startAt` and by the `maxResults` the
server answers with (it caps what is asked for silently), and counted by its `total`;
changelogs come whole inline. Comments are wiki markup, and the bot's managed comment is
tagged with the invisible anchor its body starts with. There is no bulk edit of labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jira_chase.engine.comment import CommentDoc, Marker, read_wiki_marker, to_wiki
from jira_chase.errors import TrackerError
from jira_chase.sources.jira.site import JiraSite

#: `validateQuery` as the REST docs write it; the library's own `True` goes out as "True",
#: which Jira refuses.
VALIDATE_QUERY: Any = "true"


class DataCenterSite(JiraSite):
    api = "2"
    token_name = "personal access token"
    credentials_hint = "the personal access token"
    reader_paths = ("/rest/api/2/search",)
    key_page_size = 1000
    bulk_edit = False

    def credentials(self, email: str, token: str) -> dict[str, Any]:
        return {"basic_auth": None, "token_auth": token}

    def check_deployment(self, reported: str) -> None:
        if reported == "Cloud":
            raise TrackerError(
                f"jira.deployment = 'datacenter' but {self.settings.url} is Jira Cloud: "
                "set jira.deployment = 'cloud'"
            )

    def count_scope(self, jql: str) -> int:
        page = self.get_json(
            "search", {"jql": jql, "maxResults": 0, "fields": "id"}, "counting jira.scope"
        )
        return int(page.get("total") or 0)

    def search_pages(
        self, jql: str, fields: list[str], expand: str | None, doing: str, size: int
    ) -> Iterator[dict[str, Any]]:
        start = 0
        while True:
            page = self.call(
                doing,
                lambda start=start: self.client.search_issues(  # type: ignore[misc]
                    jql,
                    startAt=start,
                    maxResults=size,
                    fields=",".join(fields),
                    expand=expand,
                    json_result=True,
                    validate_query=VALIDATE_QUERY,
                ),
            )
            issues = page.get("issues")
            if not isinstance(issues, list):
                raise TrackerError("Jira's search answer has no 'issues' list")
            yield from issues
            # Page by what the server returned: Data Center silently caps maxResults.
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return

    def whole_changelogs(self, raws: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Data Center's inline changelog is the whole history already."""
        return raws

    def comment_listing(self) -> dict[str, Any]:
        return {}

    def comment_marker(self, comment: dict[str, Any], tag: str = "") -> Marker | None:
        body = comment.get("body")
        return read_wiki_marker(body, tag) if isinstance(body, str) else None

    def comment_payload(self, comment: CommentDoc, seal: str) -> dict[str, Any]:
        return {"body": to_wiki(comment, seal)}
