"""The writing side of the Jira source: label edits, one by one or (where the site
allows) as bulk edits, and the bot's managed comments, which are never created twice."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import requests
from jira import JIRAError

from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, LABELS, Operation
from jira_chase.errors import IssueError
from jira_chase.sources.base import Outcome
from jira_chase.sources.http import BODY_ERRORS, backoff_delay
from jira_chase.sources.jira.notifications import Notifications, project_of, refuses_silence
from jira_chase.sources.jira.reading import JiraReader
from jira_chase.sources.jira.site import JiraSite, error_text
from jira_chase.sources.marker import Sealer

log = logging.getLogger(__name__)

BULK_EDIT_MAX_ISSUES = 1000
#: Identical label changes on at least this many issues go through Cloud bulk edit.
BULK_EDIT_MIN_ISSUES = 5
#: ... and on at least this many where watchers cannot be spared the email: one bulk
#: change notification instead of one email per issue.
BULK_EDIT_MIN_NOISY = 2
#: The longest wait, in seconds, for a bulk edit task (at least jira.timeout).
BULK_TASK_WAIT = 60.0


class JiraWriter:
    """Performs the run's operations on the site."""

    def __init__(self, site: JiraSite, reader: JiraReader, notifications: Notifications):
        self.site = site
        self.settings = site.settings
        self.reader = reader
        self.notifications = notifications
        self._bulk_allowed = site.bulk_edit

    def find_managed_comment(self, issue_key: str) -> ManagedComment | None:
        """The bot's own comment on the issue, recognised by being written by the bot's
        account and by its tag (Cloud: a comment property; Data Center: the invisible
        anchor its body starts with), whose seal proves the content digest (see
        `jira_chase.sources.marker`), so no one else's comment can pass for it. The oldest one
        wins should there be more."""
        found = self.managed_comments(issue_key)
        return found[0] if found else None

    def managed_comments(self, issue_key: str, tag: str = "") -> list[ManagedComment]:
        """The bot's comments tagged as the kind `tag` (see CommentDoc.tag), oldest first."""
        bot = self.site.bot_id()
        sealer = Sealer(self.site.memory)
        found: list[ManagedComment] = []
        start = 0
        while True:
            params: dict[str, Any] = {"startAt": start, "maxResults": 100, "orderBy": "created"}
            params.update(self.site.comment_listing())
            page = self.site.get_json(
                f"issue/{issue_key}/comment", params, f"reading comments of {issue_key}"
            )
            comments = page.get("comments") or []
            for comment in comments:
                author = comment.get("author") or {}
                if (author.get("accountId") or author.get("name")) != bot:
                    continue
                marker = self.site.comment_marker(comment, tag)
                if marker is not None:
                    digest = sealer.digest(issue_key, marker.digest, tag, marker.seal)
                    found.append(
                        ManagedComment(issue_key, str(comment["id"]), digest, marker.digest)
                    )
            start += len(comments)
            if not comments or start >= int(page.get("total", 0)):
                return found

    # -- writes ---------------------------------------------------------------------

    def apply(self, operations: Sequence[Operation]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        labels = [op for op in operations if op.kind == LABELS]
        if self._bulk_allowed and labels and len({(op.add, op.remove) for op in labels}) == 1:
            # Bulk edit where many issues change alike, or where notifications cannot be
            # suppressed (one bulk notification instead of an email per issue).
            by_silence: dict[bool, list[Operation]] = {True: [], False: []}
            for op in labels:
                project = project_of(op.issue_key)
                by_silence[self.notifications.may_write_silently(project)].append(op)
            bulked: set[int] = set()
            for silent, group in by_silence.items():
                wanted = BULK_EDIT_MIN_ISSUES if silent else BULK_EDIT_MIN_NOISY
                if len(group) < wanted or not self._bulk_allowed:
                    continue
                bulk = self._apply_labels_bulk(group, silent=silent)
                if bulk is not None:
                    outcomes += bulk
                    bulked.update(id(op) for op in group)
            operations = [op for op in operations if id(op) not in bulked]
        outcomes += [self._apply_single(op) for op in operations]
        return outcomes

    def _apply_single(self, op: Operation) -> Outcome:
        try:
            return Outcome(op, comment_id=self._apply_one(op))
        except IssueError as exc:
            return Outcome(op, error=exc)

    def _apply_one(self, op: Operation) -> str | None:
        key = op.issue_key
        session = self.site.client._session
        try:
            if op.kind == LABELS:
                self._edit_labels(op)
                return None
            if op.kind == COMMENT_CREATE:
                return self._create_comment(op)
            if op.kind == COMMENT_UPDATE:
                try:
                    session.put(
                        self.site.url(f"issue/{key}/comment/{op.comment_id}"),
                        params={"notifyUsers": "false"},
                        data=json.dumps(self._comment_payload(op)),
                    )
                except JIRAError as exc:
                    if exc.status_code != 404:
                        raise
                    # Someone deleted the comment: write it anew (the outcome names the
                    # new comment, which replaces the deleted one in the state store).
                    log.info("%s: managed comment %s is gone; creating it again", key,
                             op.comment_id)  # fmt: skip
                    return self._create_comment(op)
                return op.comment_id
            if op.kind == COMMENT_DELETE:
                try:
                    session.delete(self.site.url(f"issue/{key}/comment/{op.comment_id}"))
                except JIRAError as exc:
                    if exc.status_code != 404:  # already gone: the goal is reached
                        raise
                return None
        except JIRAError as exc:
            if exc.status_code == 401:
                raise self.site.run_error(f"writing {key}", exc) from None
            raise IssueError(
                key,
                f"HTTP {exc.status_code} on {op.kind} ({op.reason}): {error_text(exc)}",
                status=exc.status_code,
            ) from None
        except requests.RequestException as exc:
            raise IssueError(
                key, f"{op.kind} ({op.reason}) failed with no HTTP answer: {exc}"
            ) from None
        raise ValueError(f"the Jira source cannot apply {op.kind!r} operations")

    def _edit_labels(self, op: Operation) -> None:
        """One issue's label edit, silent where the bot may suppress notifications; a
        403 refusing that teaches the source, and the same edit goes again without it."""
        update = [{"add": label} for label in op.add] + [{"remove": label} for label in op.remove]
        url = self.site.url(f"issue/{op.issue_key}")
        data = json.dumps({"update": {"labels": update}})
        project = project_of(op.issue_key)
        if self.notifications.may_write_silently(project):
            try:
                self.site.client._session.put(url, params={"notifyUsers": "false"}, data=data)
                return
            except JIRAError as exc:
                if not refuses_silence(exc):
                    raise
                self.notifications.refused_silence(project)
        self.site.client._session.put(url, data=data)
        self.notifications.noisy(project)

    def _comment_payload(self, op: Operation) -> dict[str, Any]:
        assert op.comment is not None
        doc = op.comment
        seal = Sealer(self.site.memory).seal(op.issue_key, doc.digest, doc.tag)
        return self.site.comment_payload(doc, seal)

    def _create_comment(self, op: Operation) -> str:
        """POST the comment. A 429 or 503 means Jira did not take it: wait as asked and
        try again. After an answer that leaves it unknown whether the comment was made
        (connection lost, timeout, other 5xx, a cut-off answer) look for it first, and
        try again only when it is not there."""
        url = self.site.url(f"issue/{op.issue_key}/comment")
        payload = json.dumps(self._comment_payload(op))
        tag = op.comment.tag if op.comment is not None else ""
        attempts = self.settings.retries + 1
        uncertain = False
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                answer = self.site.client._session.post(url, data=payload).json()
                created = str(answer["id"])
                if uncertain:
                    self.remove_duplicates(op.issue_key, keep=created, tag=tag)
                return created
            except JIRAError as exc:
                status = exc.status_code or 0
                if status in (429, 503):
                    if last:
                        raise
                    self._pause(attempt, exc.response)
                    continue
                if status < 500:
                    raise
                error: Exception = exc
            except (requests.RequestException, ValueError, KeyError) as exc:
                error = exc
            existing = next(iter(self.managed_comments(op.issue_key, tag)), None)
            if existing is not None:
                return existing.comment_id
            if last:
                raise error
            uncertain = True
            self._pause(attempt, None)
        raise AssertionError("unreachable")

    def remove_duplicates(self, issue_key: str, *, keep: str, tag: str = "") -> None:
        """After a create that followed a lost answer, a server that was merely slow may
        have made the first comment after all: keep one, delete the others, so there is
        never more than one managed comment."""
        for extra in self.managed_comments(issue_key, tag):
            if extra.comment_id != keep:
                log.info("%s: deleting duplicate managed comment %s", issue_key, extra.comment_id)
                try:
                    self.site.client._session.delete(
                        self.site.url(f"issue/{issue_key}/comment/{extra.comment_id}")
                    )
                except JIRAError as exc:
                    if exc.status_code != 404:
                        raise

    def _pause(self, attempt: int, response: requests.Response | None) -> None:
        """Wait before trying a write again (Retry-After when the answer has one)."""
        self.site.stats.retries += 1
        header = response.headers.get("Retry-After") if response is not None else None
        time.sleep(backoff_delay(attempt, self.settings.backoff, header))

    def _apply_labels_bulk(self, ops: list[Operation], *, silent: bool) -> list[Outcome] | None:
        """One bulk edit for many identical label changes, without a notification when
        `silent`; None when the bot may not bulk-edit (the caller then writes issue by
        issue). Bulk edit is only a faster way to make the same edits: an issue the
        task does not confirm as edited (Jira could not edit it, the task failed or
        never finished, the answer was lost) is edited alone, so that its outcome is
        the issue's own answer, with its HTTP status, as on a run that edits it alone."""
        outcomes: list[Outcome] = []
        add, remove = ops[0].add, ops[0].remove
        for start in range(0, len(ops), BULK_EDIT_MAX_ISSUES):
            chunk = ops[start : start + BULK_EDIT_MAX_ISSUES]
            keys = [op.issue_key for op in chunk]
            unconfirmed: dict[str, str] = {}
            for option, labels in (("ADD", add), ("REMOVE", remove)):
                if not labels:
                    continue
                try:
                    unconfirmed.update(self._bulk_edit(keys, option, labels, silent=silent))
                except (requests.RequestException, ValueError, KeyError) as exc:
                    # The answer to the submit was lost or cut off: whether the task was
                    # queued is unknown. Label edits converge, so edit issue by issue.
                    unconfirmed = dict.fromkeys(keys, f"the answer was lost ({exc})")
                    break
                except JIRAError as exc:
                    if exc.status_code in (401,):
                        raise self.site.run_error("bulk-editing labels", exc) from None
                    if exc.status_code in (403, 404) and not outcomes and start == 0:
                        log.info("bulk edit unavailable (HTTP %s); editing issue by issue",
                                 exc.status_code)  # fmt: skip
                        self._bulk_allowed = False
                        return None
                    unconfirmed = dict.fromkeys(keys, f"HTTP {exc.status_code}: {error_text(exc)}")
                    break
            for op in chunk:
                why = unconfirmed.get(op.issue_key)
                if why is not None:
                    log.info("%s: bulk edit did not confirm it (%s); editing it alone",
                             op.issue_key, why)  # fmt: skip
                    outcomes.append(self._apply_single(op))
                    continue
                outcomes.append(Outcome(op))
                if not silent:
                    self.notifications.noisy(project_of(op.issue_key))
        return outcomes

    def _bulk_failures(self, keys: list[str], status: dict[str, Any]) -> dict[str, str]:
        """The issues a completed bulk edit task did not edit, with Jira's reasons. Jira
        names issues by id, so every key's id is needed (an incremental run has not read
        most issues this run): an issue counts as edited only where the task lists its
        id among the processed ones and not among the failed ones."""
        ids = self.reader.ids_of(keys)
        failed = status.get("failedAccessibleIssues") or {}
        reasons = {str(k): "; ".join(map(str, v)) if isinstance(v, list) else str(v)
                   for k, v in failed.items()}  # fmt: skip
        processed = status.get("processedAccessibleIssues")
        done = {str(i) for i in processed} if isinstance(processed, list) else None
        out: dict[str, str] = {}
        for key in keys:
            issue_id = ids.get(key)
            reason = reasons.get(issue_id or "") or reasons.get(key)
            if reason is not None:
                out[key] = reason
            elif issue_id is None:
                out[key] = "the issue is not visible to the bot"
            elif done is not None and issue_id not in done and key not in done:
                out[key] = "Jira's task did not list the issue as edited"
        return out

    def _bulk_edit(
        self, keys: list[str], option: str, labels: tuple[str, ...], *, silent: bool
    ) -> dict[str, str]:
        body = {
            "selectedIssueIdsOrKeys": keys,
            "selectedActions": ["labels"],
            "editedFieldsInput": {
                "labelsFields": [
                    {
                        "fieldId": "labels",
                        "bulkEditMultiSelectFieldOption": option,
                        "labels": [{"name": label} for label in labels],
                    }
                ]
            },
            "sendBulkNotification": not silent,
        }
        task_id = None
        for attempt in range(self.settings.retries + 1):
            try:
                response = self.site.client._session.post(
                    self.site.url("bulk/issues/fields"), data=json.dumps(body)
                )
                task_id = str(response.json()["taskId"])
                break
            except (ValueError, KeyError, TypeError, *BODY_ERRORS):
                # A cut-off answer: the edit converges, so sending it again is safe.
                self.site.stats.retries += 1
                time.sleep(backoff_delay(attempt, self.settings.backoff))
        if task_id is None:
            return dict.fromkeys(keys, "Jira's answer had no task id")
        deadline = time.monotonic() + max(BULK_TASK_WAIT, self.settings.timeout)
        delay = 0.2
        while True:
            status = self.site.get_json(f"bulk/queue/{task_id}", {}, "waiting for a bulk edit")
            state = status.get("status")
            if state == "COMPLETE":
                return self._bulk_failures(keys, status)
            if state in ("FAILED", "CANCELLED", "CANCEL_REQUESTED", "DEAD"):
                return dict.fromkeys(keys, f"task {task_id} ended {state}")
            if time.monotonic() > deadline:
                return dict.fromkeys(keys, f"task {task_id} still {state}")
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
