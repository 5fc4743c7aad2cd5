"""Proof that a managed comment is the bot's own: its marker carries a seal, a keyed
digest (HMAC-SHA256, truncated) over the issue key, the content digest and the kind of
comment, under a secret kept in the state file. A marker copied from elsewhere, or one
written with a digest predicted from the findings, has no valid seal without the secret,
and a valid marker copied to another issue or kind does not verify there.

The seal is checked together with the comment's author account wherever the tracker
names one; only a comment by the bot's account is ever looked at. A bot comment whose
seal does not verify (the state file and its secret were lost, or the comment predates
seals) is still the bot's, by its author account: it is taken with the digest
`UNSEALED`, which matches no content, so the next write rewrites it under the current
secret instead of adding a second comment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING

from jira_chase.engine.comment import SEAL_LENGTH

if TYPE_CHECKING:
    from jira_chase.sources.base import Memory

#: Where the secret is kept among the state store's facts.
FACT, SECRET = "marker", "secret"
#: The digest of a bot comment whose seal does not verify: never equal to a content digest.
UNSEALED = ""


def seal(secret: str, issue_key: str, digest: str, tag: str = "") -> str:
    """The seal of the marker on `issue_key` for content `digest` of the kind `tag`."""
    message = json.dumps([issue_key, digest, tag], separators=(",", ":")).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:SEAL_LENGTH]


class Sealer:
    """Seals and checks markers with the secret kept in a source's memory (the state
    store, or a dry run's overlay of it), made on first use where there is none."""

    def __init__(self, memory: Memory):
        self.memory = memory

    def secret(self) -> str:
        known = self.memory.recall(FACT).get(SECRET)
        if known:
            return known
        made = secrets.token_hex(32)
        self.memory.remember(FACT, SECRET, made)
        return made

    def seal(self, issue_key: str, digest: str, tag: str = "") -> str:
        return seal(self.secret(), issue_key, digest, tag)

    def digest(self, issue_key: str, digest: str, tag: str, found: str | None) -> str:
        """`digest` when `found` is the right seal for it here, else `UNSEALED`."""
        if not found or not digest:
            return UNSEALED
        return digest if hmac.compare_digest(self.seal(issue_key, digest, tag), found) else UNSEALED
