"""Checks of single values that several sections of the settings share: an issue key a
setting names, a tracker's site URL; and the hint for a name the tracker does not know."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

ENV_PREFIX = "JIRA_CHASE_"


def issue_key(value: str | None) -> str | None:
    """An issue key a setting names (a digest's or a goal's issue), or None."""
    if value is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*", value):
        raise ValueError(
            f"{value!r} is not an issue key like APP-1 (ZenTao: story-12, task-3, bug-7)"
        )
    return value


#: Where each tracker's credentials belong, for the error that refuses them in a URL.
CREDENTIAL_KEYS = {
    "jira": f"jira.email and jira.token (or {ENV_PREFIX}JIRA__TOKEN)",
    "zentao": f"zentao.account and zentao.password (or {ENV_PREFIX}ZENTAO__PASSWORD)",
}


def check_site_url(value: str, key: str, suffixes: tuple[str, ...]) -> str:
    """A tracker's base URL: with a scheme and a host, without an API path on its end."""
    from urllib.parse import urlsplit

    text = value.strip()
    parts = urlsplit(text)
    if "@" in parts.netloc:
        # Never echoed: the part before the @ is a secret.
        section = key.partition(".")[0]
        where = CREDENTIAL_KEYS[section]
        raise ValueError(
            f"{key} must not hold credentials (user:secret@ before the host): put them in "
            f"{where}, and give the URL without them"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{text!r} is not a web address: write it with its scheme, e.g. "
            f"'https://{text.split('://')[-1].strip('/') or 'tracker.example.com'}'"
        )
    path = parts.path.rstrip("/")
    for suffix in suffixes:
        if path.endswith(suffix):
            base = text.rstrip("/")[: -len(suffix)]
            raise ValueError(
                f"{text!r} ends in {suffix}: give the site's base URL ({base!r}); "
                f"{key} is the address the API paths are added to"
            )
    return text


def closest_names(name: str, known: Iterable[str]) -> str:
    """ "; did you mean 'Code Review'?" for the closest known names, else the list."""
    spelled = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.casefold(), list(spelled), n=3, cutoff=0.6)
    if close:
        names = " or ".join(repr(spelled[c]) for c in close)
        return f"did you mean {names}?"
    listed = sorted(spelled.values(), key=str.casefold)
    more = f" and {len(listed) - 12} more" if len(listed) > 12 else ""
    return f"the tracker has: {', '.join(listed[:12])}{more}"
