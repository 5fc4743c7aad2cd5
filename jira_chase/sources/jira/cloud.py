"""What is particular to Jira Cloud (REST API v3).

The scope is searched with `search/jql`, paged by `nextPageToken`, and counted with
`search/approximate-count`; inline changelogs stop at 40 entries and are completed
with `changelog/bulkfetch`. Comments are Atlassian Document Format, and the bot's
managed comment is tagged with a comment property. Label changes alike on many issues
may go as one bulk edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jira_chase.engine.comment import FORMAT_VERSION, PROPERTY_KEY, CommentDoc, Marker, to_adf
from jira_chase.errors import TrackerError
from jira_chase.sources.jira.site import KEY_PAGE_SIZE, JiraSite

BULK_CHANGELOG_MAX_ISSUES = 1000


def _property_key(tag: str) -> str:
    """The comment property that tags the bot's comment of the kind `tag`."""
    return f"{PROPERTY_KEY}-{tag}" if tag else PROPERTY_KEY


def _cut_short(raw: Any) -> bool:
    """Whether a searched issue's inline changelog holds fewer entries than it has."""
    changelog = raw.get("changelog") or {} if isinstance(raw, dict) else {}
    return len(changelog.get("histories", [])) < int(changelog.get("total", 0))


class CloudSite(JiraSite):
    api = "3"
    token_name = "API token"
    credentials_hint = "jira.email and the token"
    reader_paths = (
        "/rest/api/3/search/",
        "/rest/api/3/changelog/bulkfetch",
        "/rest/api/3/bulk/",
    )
    key_page_size = KEY_PAGE_SIZE
    bulk_edit = True

    def credentials(self, email: str, token: str) -> dict[str, Any]:
        return {"basic_auth": (email, token), "token_auth": None}

    def no_server_info(self, exc: TrackerError) -> TrackerError:
        if "HTTP 404" in str(exc):
            return TrackerError(
                f"{exc} — no REST API v3 there: for Jira Data Center set "
                "jira.deployment = 'datacenter', else check jira.url"
            )
        return exc

    def check_deployment(self, reported: str) -> None:
        if reported != "Cloud":
            raise TrackerError(
                f"jira.deployment = 'cloud' but {self.settings.url} reports deploymentType "
                f"{reported!r}: set jira.deployment = 'datacenter'"
            )

    def validate_scope(self) -> int:
        body = {"jql": self.settings.scope, "fields": ["id"], "maxResults": 1}
        self.post_json("search/jql", body, "checking jira.scope")
        return super().validate_scope()

    def count_scope(self, jql: str) -> int:
        answer = self.post_json("search/approximate-count", {"jql": jql}, "counting jira.scope")
        return int(answer.get("count") or 0)

    def search_pages(
        self, jql: str, fields: list[str], expand: str | None, doing: str, size: int
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            body: dict[str, Any] = {
                "jql": jql,
                "fields": fields,
                "maxResults": size,
            }
            if expand:
                body["expand"] = expand
            if token:
                body["nextPageToken"] = token
            page = self.post_json("search/jql", body, doing)
            issues = page.get("issues")
            if not isinstance(issues, list):
                raise TrackerError("Jira's search/jql answer has no 'issues' list")
            yield from issues
            token = page.get("nextPageToken")
            if not token or page.get("isLast") is True:
                return
            if token in seen:
                raise TrackerError("Jira repeated a search page token; stopping to avoid a loop")
            seen.add(token)

    def whole_changelogs(self, raws: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Issues whose changelog is whole pass at once; those cut short are held (only
        they stay raw JSON) and completed a thousand at a time once the search is done."""
        truncated: list[dict[str, Any]] = []
        for raw in raws:
            if _cut_short(raw):
                truncated.append(raw)
            else:
                yield raw
        for start in range(0, len(truncated), BULK_CHANGELOG_MAX_ISSUES):
            chunk = truncated[start : start + BULK_CHANGELOG_MAX_ISSUES]
            self._complete_changelogs(chunk)
            yield from chunk

    def _complete_changelogs(self, raws: list[dict[str, Any]]) -> None:
        """Replace truncated inline changelogs (Cloud caps them at 40) with full ones."""
        truncated = {
            str(raw["id"]): raw
            for raw in raws
            if len(raw.get("changelog", {}).get("histories", []))
            < int(raw.get("changelog", {}).get("total", 0))
        }
        if not truncated:
            return
        ids = list(truncated)
        full: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        for start in range(0, len(ids), BULK_CHANGELOG_MAX_ISSUES):
            chunk = ids[start : start + BULK_CHANGELOG_MAX_ISSUES]
            token: str | None = None
            seen: set[str] = set()
            while True:
                body: dict[str, Any] = {"issueIdsOrKeys": chunk, "maxResults": 1000}
                if token:
                    body["nextPageToken"] = token
                page = self.post_json("changelog/bulkfetch", body, "fetching full changelogs")
                for entry in page.get("issueChangeLogs", []):
                    full.setdefault(str(entry["issueId"]), []).extend(
                        entry.get("changeHistories", [])
                    )
                token = page.get("nextPageToken")
                if not token:
                    break
                if token in seen:
                    raise TrackerError("Jira repeated a changelog page token; stopping")
                seen.add(token)
        for issue_id, raw in truncated.items():
            histories = full.get(issue_id, [])
            raw["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }

    def comment_listing(self) -> dict[str, Any]:
        return {"expand": "properties"}

    def comment_marker(self, comment: dict[str, Any], tag: str = "") -> Marker | None:
        for prop in comment.get("properties") or []:
            value = prop.get("value")
            if prop.get("key") == _property_key(tag) and isinstance(value, dict):
                version = value.get("version")
                return Marker(
                    version if isinstance(version, int) else 0,
                    str(value.get("digest", "")),
                    str(value.get("seal") or ""),
                )
        return None

    def comment_payload(self, comment: CommentDoc, seal: str) -> dict[str, Any]:
        value = {"version": FORMAT_VERSION, "digest": comment.digest, "seal": seal}
        return {
            "body": to_adf(comment),
            "properties": [{"key": _property_key(comment.tag), "value": value}],
        }
