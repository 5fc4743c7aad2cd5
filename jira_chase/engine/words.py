"""One object for each short text and each time zone a run meets again and again.

A tracker's answer is JSON, and so is a cached snapshot: every status name, field name
and person id in it is a new string per change, and every time with an offset other
than UTC brings its own zone object; a large scope's histories hold millions of them.
The sources and the snapshot decoder pass those through `word` and `zoned`, so that
equal ones are one object.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TypeVar

#: Texts up to this length are kept (longer ones, like summaries and comment bodies,
#: seldom repeat).
LONGEST = 64
#: The most texts kept; past it they are forgotten and kept anew.
MOST = 200_000

_WORDS: dict[str, str] = {}
_ZONES: dict[timedelta | None, tzinfo] = {}

_Text = TypeVar("_Text", str, str | None)


def word(text: _Text) -> _Text:
    """`text`, or the equal string met before."""
    if text is None or len(text) > LONGEST:
        return text
    known = _WORDS.get(text)
    if known is None:
        if len(_WORDS) >= MOST:
            _WORDS.clear()
        _WORDS[text] = known = text
    return known


#: The equal string met before, or None: a lookup alone, for hot loops (`word` keeps a
#: new one). The dictionary's own method (it is cleared, never replaced).
known_word: Callable[[str | None], str | None] = _WORDS.get  # type: ignore[assignment]


def zoned(moment: datetime) -> datetime:
    """`moment`, with the zone object met before for its offset (UTC is one already)."""
    zone = moment.tzinfo
    if zone is None or zone is timezone.utc:
        return moment
    known = _ZONES.setdefault(moment.utcoffset(), zone)
    return moment if known is zone else moment.replace(tzinfo=known)
