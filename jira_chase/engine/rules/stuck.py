"""Stuck: one issue that is not moving, said once.

Three rules see it from three sides — `stalled` (time in the current step against the
step's limit), `aging` (age against the cycle times of recently finished issues) and
`stale` (no person has touched it) — and each stays a switch of its own in `[rules]`.
On the issue they are one finding of the family `stuck`, with the strongest severity,
every part's evidence and one label: the assignee has one thing to act on.
"""

from __future__ import annotations

from collections.abc import Sequence

from jira_chase.engine.model import Finding

#: The families that are parts of `stuck`, in the order their evidence is shown.
PARTS = ("stalled", "aging", "stale")
FAMILY = "stuck"
RULE = "not-moving"


def merge(findings: Sequence[Finding]) -> Finding:
    """The `stuck` finding of one issue made of its part findings (at least one)."""
    ordered = sorted(findings, key=lambda f: (-f.severity, PARTS.index(f.family)))
    strongest = ordered[0]
    shown = sorted(findings, key=lambda f: PARTS.index(f.family))
    evidence: dict[str, str] = {}
    for finding in shown:
        for name, value in finding.evidence:
            if evidence.get(name, value) != value:
                name = f"{finding.family} {name}"
            evidence.setdefault(name, value)
    volatile = {name for f in shown for name in f.volatile}
    volatile |= {f"{f.family} {name}" for f in shown for name in f.volatile}
    return Finding(
        issue_key=strongest.issue_key,
        family=FAMILY,
        rule=RULE,
        severity=strongest.severity,
        message="not moving: " + "; ".join(f.message for f in shown),
        config_key=strongest.config_key,
        evidence=tuple(evidence.items()),
        volatile=tuple(sorted(name for name in volatile if name in evidence)),
        parts=tuple((f.family, f.rule) for f in ordered),
    )
