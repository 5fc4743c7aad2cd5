"""Who is who in ZenTao: the signed-in account, and the accounts behind the realnames
that ZenTao's actions name as actors."""

from __future__ import annotations

import logging
from typing import Any

from jira_chase.engine.model import Person
from jira_chase.engine.safe_text import clipped
from jira_chase.errors import TrackerError
from jira_chase.sources.zentao.items import NOBODY
from jira_chase.sources.zentao.session import ZenTaoSession

# One logger for the whole ZenTao source: its name is part of every log line.
log = logging.getLogger(__package__)


class People:
    """Accounts and realnames as far as ZenTao has shown them: `GET /users` when the
    account may list users, and every user object an answer carries."""

    def __init__(self, session: ZenTaoSession):
        self.session = session
        self._profile: dict[str, Any] | None = None
        self._realnames: dict[str, str] = {}  # account -> realname
        self._accounts: dict[str, str | None] = {}  # realname -> account (None: ambiguous)

    def profile(self) -> dict[str, Any]:
        """The signed-in account's profile (`GET /user`)."""
        if self._profile is None:
            body = self.session.read("/user", None, "reading the signed-in account (GET /user)")
            profile = body.get("profile")
            if not isinstance(profile, dict) or not profile.get("account"):
                raise TrackerError("unexpected answer from ZenTao's GET /user: no profile")
            self._profile = profile
            self.know(profile)
        return self._profile

    def know(self, user: Any) -> None:
        """Learn the account and realname of a user object."""
        if not isinstance(user, dict):
            return
        account, realname = user.get("account"), user.get("realname")
        if not isinstance(account, str) or account in NOBODY:
            return
        name = realname if isinstance(realname, str) and realname else account
        self._realnames[account] = name
        known = self._accounts.get(name, account)
        self._accounts[name] = account if known == account else None

    def load(self) -> None:
        """The signed-in account and, where it may list them, every user."""
        self.profile()
        try:
            for user in self.session.pages("/users", {}, "users", "reading the users"):
                self.know(user)
        except TrackerError as exc:
            # Listing users needs the company-browse privilege; the items' user objects
            # name most people anyway.
            log.info("cannot list ZenTao users (%s); mapping actors by the users seen", exc)

    def person_id(self, actor: Any) -> str | None:
        """An action's actor (a realname) as a person id: the account when it is known
        and unambiguous, else the realname itself."""
        if not isinstance(actor, str) or actor.casefold() in NOBODY:
            return None
        if self.is_bot(actor):
            return str(self.profile()["account"])
        if actor in self._realnames:
            return actor
        return self._accounts.get(actor) or actor

    def person(self, user: Any) -> Person | None:
        """A user object as a Person (None for nobody)."""
        if not isinstance(user, dict):
            return None
        account = user.get("account")
        if not isinstance(account, str) or account in NOBODY:
            return None
        self.know(user)
        return Person(id=account, name=clipped(self._realnames.get(account, account)))

    def is_bot(self, actor: Any) -> bool:
        """Whether an actor is the signed-in account (by account or realname)."""
        profile = self.profile()
        return actor in (profile.get("account"), profile.get("realname"))
