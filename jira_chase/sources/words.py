"""One string for each short text a fetch meets again and again.

A tracker's answer is JSON, and every status name, field name and person id in it is a
new string per change; a large scope's histories hold millions of them. The sources
pass those texts through `word`, so equal ones are one object (as in issues decoded from
the state store: see `snapshot.Shared`).
"""

from __future__ import annotations

from typing import TypeVar

#: Texts up to this length are kept (longer ones, like comment bodies, seldom repeat).
LONGEST = 64
#: The most texts kept; past it they are forgotten and kept anew.
MOST = 200_000

_WORDS: dict[str, str] = {}

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
