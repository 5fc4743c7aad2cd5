"""Where the bot may edit labels without notifying watchers.

Jira lets only a user with "Administer Projects" (or "Administer Jira") pass
`notifyUsers=false` on an issue edit; anyone else gets 403 and nothing changes. The
source asks `mypermissions` once per project it writes labels to, remembers the answer
(and any such 403) in its memory, and suppresses notifications only where it may; where
it may not, it writes with notifications on and counts those writes.
"""

from __future__ import annotations

import logging

from jira import JIRAError

from jira_chase.engine.plan import project_of
from jira_chase.errors import TrackerError
from jira_chase.sources.jira.site import KEY_PAGE_SIZE, JiraSite, error_text

log = logging.getLogger(__name__)

#: Memory kind: per project key, "yes" when the bot may suppress notifications there.
SILENT_WRITES = "jira-silent-writes"
#: The permissions that allow `notifyUsers=false` (either one).
SILENCING_PERMISSIONS = ("ADMINISTER_PROJECTS", "ADMINISTER")


def refuses_silence(exc: JIRAError) -> bool:
    """Jira's 403 for `notifyUsers=false` from a user who may not suppress notifications."""
    return exc.status_code == 403 and "notification" in error_text(exc).lower()


class Notifications:
    """What the source knows, and learns, of where it may write silently."""

    def __init__(self, site: JiraSite):
        self.site = site
        #: Per project, whether this run sends `notifyUsers=false` there.
        self._silent: dict[str, bool] = {}

    def may_write_silently(self, project: str) -> bool:
        """Whether label edits in `project` may pass `notifyUsers=false`: what this run
        learnt, else a remembered "yes", else what `mypermissions` says (asked again for
        a remembered "no", so a granted permission takes effect on the next run). When
        Jira cannot tell, a remembered "no" stands, else the source tries and learns
        from Jira's 403."""
        known = self._silent.get(project)
        if known is not None:
            return known
        remembered = self.site.memory.recall(SILENT_WRITES).get(project)
        if remembered == "yes":
            allowed = True
        else:
            answer = self.may_suppress(project)
            if answer is None:
                allowed = remembered != "no"
            else:
                allowed = answer
                self.site.memory.remember(SILENT_WRITES, project, "yes" if answer else "no")
        self._silent[project] = allowed
        return allowed

    def may_suppress(self, project: str) -> bool | None:
        """Jira's `mypermissions` for `project`: does the bot hold Administer Projects
        (or Administer Jira)? None when Jira does not say."""
        params = {"projectKey": project, "permissions": ",".join(SILENCING_PERMISSIONS)}
        try:
            page = self.site.get_json(
                "mypermissions", params, f"reading the bot's permissions in {project}"
            )
        except TrackerError as exc:
            log.info("%s; learning from the first write instead", exc)
            return None
        permissions = page.get("permissions")
        if not isinstance(permissions, dict):
            log.info("Jira's mypermissions answer for %s has no permissions map", project)
            return None
        return any(
            isinstance(permissions.get(key), dict)
            and permissions[key].get("havePermission") is True
            for key in SILENCING_PERMISSIONS
        )

    def refused_silence(self, project: str) -> None:
        log.info(
            "Jira refused notifyUsers=false in %s: the bot lacks Administer Projects there; "
            "writing with notifications on",
            project,
        )
        self._silent[project] = False
        self.site.memory.remember(SILENT_WRITES, project, "no")

    def noisy(self, project: str, count: int = 1) -> None:
        by_project = self.site.stats.noisy_by_project
        by_project[project] = by_project.get(project, 0) + count

    def scope_projects(self) -> list[str]:
        """The projects this configuration writes to: those of the issues in scope and
        of the issues linked to them (a blocking label may land there)."""
        projects: set[str] = set()
        wanted = ["project", "issuelinks"]
        listing = self.site.search(
            self.site.settings.scope, wanted, None, "listing the scope's projects", KEY_PAGE_SIZE
        )
        for raw in listing:
            fields = raw.get("fields") or {} if isinstance(raw, dict) else {}
            key = raw.get("key") if isinstance(raw, dict) else None
            project = (fields.get("project") or {}).get("key")
            if project or key:
                projects.add(str(project or project_of(str(key))))
            for link in fields.get("issuelinks") or []:
                other = link.get("inwardIssue") or link.get("outwardIssue") or {}
                if other.get("key"):
                    projects.add(project_of(str(other["key"])))
        return sorted(projects)

    def modes(self) -> dict[str, bool | None]:
        """Per project this configuration writes to: True when label changes there are
        silent, False when they email the issue's watchers, None when Jira does not say.
        Asks Jira afresh."""
        return {p: self.may_suppress(p) for p in self.scope_projects()}
