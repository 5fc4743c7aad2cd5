"""The built-in demo dataset that ``jira-chase demo`` serves from the simulated Jira.

``build_demo_dataset()`` returns a document in the simulator dataset format
(``jira-chase-dataset/1``, see DATASET.md) with the optional top-level keys ``"bot"``
(``u-bot``, the account the tool runs as; it is assigned nothing) and ``"now"``: the
moment the data describes, Friday 2026-11-20 16:00 UTC. The demo judges the process as of
then, so nothing here reads the clock, and a fixed seed makes every build identical.

The story: an app team (project ``APP``, about 150 issues over the eight weeks before
``now``) works To Do -> In Progress -> Code Review -> In QA -> Done, with rework, the odd
reopen, reassignments, priority changes and comments, all in working hours (Mon-Fri
09:00-17:30 UTC). A platform team (``OPS``, 25 issues) is not judged; it owns blockers.

A few issues are unhealthy on purpose; ``DEMO_PLANTED`` maps each of them to the rule
families that should find something on it under ``jira_chase/cli/demo.toml`` (business days,
UTC), and ``on_the_issue`` turns those into the findings the issue carries (labels and
its comment): ``stalled``, ``aging`` and ``stale`` make one ``stuck`` finding, while
``focus`` (a team finding) and ``hygiene`` (notes for the team) stay off the issue:

- ``stalled``: three issues stuck in Code Review (limit 2 days): since Tue 11-17 09:10
  (about 3.3 days: warn in calendar and business days), since Thu 11-12 10:30 and since
  Tue 11-10 14:00 (8.2 and 10.1 calendar days, 6.2 and 8.1 business days: critical);
  one issue stuck in In Progress (limit 5) since Mon 11-09 14:00: 11.1 calendar days
  (critical) or 9.1 business days (warn);
- ``aging``: those four are also older than the p85 (one) or p95 (three) cycle time of
  the last eight weeks (4.9 and 5.8 business days);
- ``stale`` (no human update for 3.5 business days while in a step): three of the stuck
  issues, and one started on Mon 11-16 14:00 and not touched since (4.1 days, under the
  build limit and the p85 cycle time);
- ``wip`` (pulled into a step while it already held its limit, within the step's
  ``limit_days``): Code Review holds seven issues, limit 5: the two that entered last,
  this afternoon; and six issues pulled into In Progress this week while it held 9 to
  12 (limit 8; it holds seven now);
- ``redline``: two issues that reached Done without Code Review (In Progress -> In QA
  -> Done on 11-13, In Progress -> Done on 11-18); one sent from In Progress straight to
  In QA (skipped the required review); one reopened twice (one reopen allowed); one
  Highest-priority bug without a due date;
- ``owner``: one issue in In QA without an assignee;
- ``estimate``: two Stories in In Progress without an estimate (Stories must be
  estimated, an override in the demo config);
- ``goal``: release 1.4 (20 issues, 15 done) is behind its plan to be 90% done by
  11-27 (75% done, 79% planned today, within the 10% tolerance: at risk), a team
  finding; of its five open issues one must move now: it has been in progress longer
  than the p85 cycle time (``must-finish``); its two To Do issues have more than the
  p85 cycle time left before the checkpoint; the Beta goal is on track;
- ``focus`` (a team finding): one person (Dana) with five issues in active steps, each
  entered in the last day;
- ``cooperation``: one issue blocked since Mon 11-16 16:00 by an OPS issue still in
  progress (we wait on them); and the other way, OPS-13 has waited on APP-87 (To Do)
  since Fri 11-06, ten working days — past twice the demo's ``cooperation.wait_days`` —
  while OPS-23 has waited on APP-139 for a day (a wait, not yet a finding);
- ``hygiene`` (notes for the team; a finished issue keeps them for 28 days, the demo's
  ``redlines.flag_finished_days``, so the long-history issue's 13 backward moves count
  only in the process share): two finished issues edited only where no metric reads
  them, one moved Done -> Closed a week after it was done (the workflow, not an edit),
  one done without a resolution (``resolution`` stated as null; the simulated workflow
  sets "Done" otherwise); a chore closed To Do -> Done this afternoon (also a
  ``redline``), created after every other issue; and five open issues from before the
  window, numbered APP-152 to APP-156 after the rest so no key moves: one created
  directly in In Progress, one sent back to To Do three times, a sub-task still To Do
  under its finished story (APP-154), one reopened to To Do with its resolution "Done"
  left;
- ``skills`` (team findings, ``DEMO_PLANTED_TEAM``): every issue's component is its
  product area (the summary's prefix); six of the seven "Release engineering" chores
  finished in the window are Chen's, and the lead moved every issue but her own out of
  Code Review.

Everything else is healthy with a wide margin: an issue in an active step entered it
less than 60% of the step's limit ago in calendar days, nobody else carries more than
three active issues, In Progress holds fewer than eight now, every arrival in Done passed
Code Review, and the other blocked issues wait on an APP issue (same team) or on an OPS
issue that is already Done. Links are listed on the blocked issue only (``inward``).
The team as a whole is judged too (no labels): Code Review is over its WIP limit, the
p85 cycle time (4.9 business days) is above the demo's 4-day threshold, and release
1.4's checkpoint is at risk.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

__all__ = [
    "DEMO_NOW",
    "DEMO_PLANTED",
    "DEMO_PLANTED_TEAM",
    "DEMO_SEED",
    "build_demo_dataset",
    "on_the_issue",
]

DEMO_SEED = 20261120
DEMO_NOW = datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)
_WINDOW_START = DEMO_NOW - timedelta(weeks=8)


# Issue key -> the rule families that should flag it; every other APP issue is healthy.
# The keys follow from the seed (Jira numbers issues in creation order); the tests
# recompute the rules from the raw data and hold this table to it.
def _families(*names: str) -> frozenset[str]:
    return frozenset(names)


DEMO_PLANTED: dict[str, frozenset[str]] = {
    "APP-52": _families("redline"),  # reopened twice (Login: sign in with Google)
    # To Do (release 1.4); the platform team's OPS-13 has waited on it since Fri 11-06
    "APP-87": _families("cooperation"),
    # In Progress since Mon 11-16 14:00, untouched since; pulled in while build held 12
    "APP-91": _families("stale", "wip"),
    # In Progress since Mon 11-09 14:00 (Order history: offline mode)
    "APP-107": _families("stalled", "aging", "stale"),
    # Code Review since Thu 11-12 10:30 (Checkout: retry declined cards), release 1.4:
    # older than the p85 cycle time, so it must finish first
    "APP-108": _families("stalled", "aging", "stale", "goal"),
    "APP-110": _families("wip"),  # entered Code Review last (7th, limit 5)
    "APP-115": _families("redline"),  # In Progress -> In QA, skipping Code Review
    # Code Review since Tue 11-10 14:00 (Profile: export my data)
    "APP-118": _families("stalled", "aging", "stale"),
    "APP-120": _families("wip"),  # pulled into In Progress while it held 9
    "APP-122": _families("redline"),  # In Progress -> In QA -> Done on 11-13
    # APP-124/125/129/133/147: Dana's five active issues (a team finding); two of them
    # pulled into In Progress while it held 9 and 11
    "APP-124": _families("focus", "wip"),
    "APP-125": _families("focus"),
    "APP-129": _families("focus"),
    "APP-133": _families("focus", "wip"),
    "APP-136": _families("owner"),  # In QA, unassigned
    # Code Review since Tue 11-17 09:10 (Search: filters by brand)
    "APP-139": _families("stalled", "aging"),
    "APP-140": _families("wip"),  # entered Code Review 6th (limit 5)
    "APP-144": _families("redline"),  # In Progress -> Done on 11-18 (Bump analytics SDK)
    # blocked by OPS-24 (in progress) since Mon 11-16 16:00; a Story without estimate,
    # pulled into In Progress while it held 11
    "APP-145": _families("cooperation", "estimate", "wip"),
    # a Story without estimate, pulled into In Progress while it held 12
    "APP-146": _families("estimate", "wip"),
    "APP-147": _families("focus"),
    "APP-149": _families("redline"),  # Highest-priority bug without a due date
    "APP-55": _families("hygiene"),  # Done without a resolution
    # To Do -> Done this afternoon, which also skips the required review
    "APP-151": _families("hygiene", "redline"),
    # Planted from before the window, numbered after the rest (see
    # _plant_skills_and_hygiene): created directly in In Progress
    "APP-152": _families("hygiene"),
    "APP-153": _families("hygiene"),  # sent back to To Do three times (2 allowed)
    "APP-155": _families("hygiene"),  # a sub-task still To Do under the finished APP-154
    "APP-156": _families("hygiene"),  # reopened to To Do, its resolution still set
}

#: The rule families whose findings on an issue are one `stuck` finding there.
_STUCK = frozenset({"stalled", "aging", "stale"})
#: The rule families that say what they find to the team, not on the issue.
_TEAM_ONLY = frozenset({"focus", "hygiene"})


def on_the_issue(families: frozenset[str]) -> frozenset[str]:
    """The findings' families an issue carries for `families` of `DEMO_PLANTED`."""
    carried = set(families) - _STUCK - _TEAM_ONLY
    if families & _STUCK:
        carried.add("stuck")
    return frozenset(carried)


#: The team findings (family, rule, subject) of the skills family the demo must show:
#: Chen did six of the seven Release engineering chores finished in the window, and the
#: lead moved nearly every issue out of Code Review.
DEMO_PLANTED_TEAM: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("skills", "knowledge-concentration", "component Release engineering"),
        ("skills", "review-spread", "step review"),
    }
)

_TODO, _BUILD, _REVIEW, _QA, _DONE = "To Do", "In Progress", "Code Review", "In QA", "Done"
_CLOSED = "Closed"  # a second done status: archived after release
#: The component of chores that belong to no product area; most of it is Chen's.
_RELEASE_COMPONENT = "Release engineering"

_USERS: list[tuple[str, str, str]] = [
    ("u-ann", "Ann Lee", "ann.lee@example.com"),
    ("u-bob", "Bob Martin", "bob.martin@example.com"),
    ("u-chen", "Chen Wei", "chen.wei@example.com"),
    ("u-dana", "Dana Kowalski", "dana.kowalski@example.com"),
    ("u-emeka", "Emeka Obi", "emeka.obi@example.com"),
    ("u-farah", "Farah Haddad", "farah.haddad@example.com"),
    ("u-gus", "Gustavo Reyes", "gustavo.reyes@example.com"),
    ("u-hana", "Hana Sato", "hana.sato@example.com"),
    ("u-bot", "Chase Bot", "chase-bot@example.com"),
]
_FIRST_NAME = {uid: name.split()[0] for uid, name, _ in _USERS}
_LEAD = "u-farah"  # the APP team lead: reports, triages, reopens; builds a little
_APP_DEVS = ["u-ann", "u-bob", "u-chen", "u-dana", "u-emeka"]
_APP_PEOPLE = [*_APP_DEVS, _LEAD]
_OPS_PEOPLE = ["u-gus", "u-hana"]

_FOREIGN_LABELS = ["customer", "backend", "frontend", "tech-debt"]
_PRIORITIES = ["Highest", "High", "Medium", "Low"]


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


# --- working time: Mon-Fri 09:00-17:30 UTC, minute resolution -------------------------


def _day_start(t: datetime) -> datetime:
    return t.replace(hour=9, minute=0, second=0, microsecond=0)


def _day_end(t: datetime) -> datetime:
    return t.replace(hour=17, minute=30, second=0, microsecond=0)


def _next_working(t: datetime) -> datetime:
    while True:
        if t.weekday() < 5 and t <= _day_end(t):
            return max(t, _day_start(t))
        t = _day_start(t + timedelta(days=1))


def _prev_working(t: datetime) -> datetime:
    while True:
        if t.weekday() < 5 and t >= _day_start(t):
            return min(t, _day_end(t))
        t = _day_end(t - timedelta(days=1))


def _add_work(t: datetime, minutes: int) -> datetime:
    t = _next_working(t)
    while True:
        available = int((_day_end(t) - t).total_seconds() // 60)
        if minutes <= available:
            return t + timedelta(minutes=minutes)
        minutes -= available
        t = _next_working(_day_start(t + timedelta(days=1)))


def _sub_work(t: datetime, minutes: int) -> datetime:
    t = _prev_working(t)
    while True:
        available = int((t - _day_start(t)).total_seconds() // 60)
        if minutes <= available:
            return t - timedelta(minutes=minutes)
        minutes -= available
        t = _prev_working(_day_end(t - timedelta(days=1)))


def _work_between(a: datetime, b: datetime) -> int:
    """Working minutes from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
    total, t = 0, _next_working(a)
    while t < b:
        end = min(_day_end(t), b)
        total += max(0, int((end - t).total_seconds() // 60))
        t = _next_working(_day_start(t + timedelta(days=1)))
    return total


def _random_time(rng: random.Random, a: datetime, b: datetime) -> datetime:
    """A random working moment in [a, b] (``a`` itself when there is no working time)."""
    return _add_work(a, rng.randint(0, max(0, _work_between(a, b))))


# --- the texts -------------------------------------------------------------------------

_AREAS: dict[str, list[str]] = {
    "Checkout": [
        "guest checkout",
        "saved addresses",
        "Apple Pay",
        "order summary redesign",
        "gift messages",
        "split payment",
    ],
    "Cart": [
        "save for later",
        "quantity stepper",
        "cart sharing link",
        "low stock warning",
        "bundle discounts",
    ],
    "Search": [
        "recent searches",
        "filters by price",
        "typo tolerance",
        "voice search",
        "search suggestions",
        "sort by rating",
    ],
    "Product page": [
        "image zoom",
        "size guide",
        "stock badge",
        "related products",
        "video gallery",
        "delivery estimate",
    ],
    "Wishlist": [
        "price drop alerts",
        "shareable wishlists",
        "move to cart",
        "multiple lists",
    ],
    "Login": [
        "sign in with Google",
        "magic link login",
        "remember device",
        "passkeys",
        "biometric unlock",
    ],
    "Profile": [
        "edit delivery preferences",
        "delete account",
        "avatar upload",
        "loyalty points balance",
        "address book",
    ],
    "Order history": [
        "reorder button",
        "invoice download",
        "return request flow",
        "order filters",
        "cancel an order",
    ],
    "Delivery tracking": [
        "live map",
        "delivery time window",
        "courier chat",
        "delivery photo proof",
        "leave at the door option",
    ],
    "Promo codes": [
        "stackable codes",
        "code validation messages",
        "first-order discount",
        "referral codes",
    ],
    "Onboarding": [
        "skip option",
        "interest picker",
        "permission primer",
        "welcome offer",
    ],
    "Reviews": [
        "photo reviews",
        "helpful votes",
        "review moderation queue",
        "verified buyer badge",
    ],
    "Settings": [
        "language switcher",
        "dark mode",
        "notification preferences",
        "currency picker",
        "clear cache option",
    ],
}
_BUG_SYMPTOMS = [
    "crash on Android 14 when rotating",
    "spinner never stops on a slow network",
    "wrong currency symbol in the EUR locale",
    "layout broken on small screens",
    "VoiceOver reads buttons twice",
    "state lost after the app resumes",
    "error toast shown twice",
    "dark mode text unreadable",
    "deep link opens the home screen",
    "timestamps shown in UTC",
]
_TASKS = [
    "Upgrade React Native to 0.76",
    "Move image CDN config to remote settings",
    "Rotate the Sentry DSN",
    "Clean up unused feature flags",
    "Add e2e smoke tests to the nightly build",
    "Split the API client into modules",
    "Update App Store screenshots",
    "Document the release checklist",
    "Remove the legacy cart endpoint calls",
    "Speed up the iOS CI build",
    "Bump analytics SDK to 5.1",
    "Migrate the design tokens to the new package",
    "Set up a staging build for QA devices",
    "Audit third-party licences",
    "Add crash-free rate to the release dashboard",
    "Replace moment.js with date-fns",
    "Enable strict mode in the TypeScript config",
    "Archive the old onboarding experiments",
]
_OPS_SUMMARIES = [
    "Upgrade the Kubernetes cluster to 1.31",
    "Rotate database credentials",
    "Set up alerting for the payments service",
    "Move image storage to the new bucket",
    "Add read replica for the orders database",
    "Terraform the staging VPC",
    "Cut log retention costs",
    "Renew TLS certificates for api.example.com",
    "Migrate CI runners to ARM",
    "Backup restore drill",
    "Rate limiting on the public API gateway",
    "Patch OpenSSL on the edge nodes",
    "Grafana dashboards for checkout latency",
    "Retire the old Redis cluster",
    "Load test the search service",
    "Secrets manager for mobile build keys",
    "Autoscaling for the image resizer",
    "Postgres 16 upgrade plan",
    "Uptime checks for the app API",
    "Clean up unused IAM roles",
    "Staging data refresh job",
    "On-call runbook for the payments service",
    "Pin base images in the build pipeline",
    "Cost report per service",
    "DNS failover test",
]
_COMMENTS = [
    "Design sign-off is in Figma, see the 'Final' page.",
    "Pushed a first draft, feedback welcome.",
    "Does this need a migration? I don't think so.",
    "Support has three more tickets about this.",
    "Tested on iOS 17 and Android 14, looks good.",
    "Left a few review comments, mostly naming.",
    "Can we split this? The API part could ship first.",
    "Repro steps are in the attached screen recording.",
    "{name}, can you take a look when you have a minute?",
    "I'll pair with {name} on this tomorrow morning.",
    "Acceptance criteria updated after the grooming session.",
    "Blocked for an hour by the flaky CI, rerun is green now.",
    "Copy approved by marketing.",
    "Added analytics events as discussed.",
]


# --- drafts ------------------------------------------------------------------------------


@dataclass
class _Draft:
    project: str
    type: str
    summary: str
    priority: str  # the current one
    reporter: str
    created: datetime
    assignee: str | None  # the current one
    statuses: list[tuple[datetime, str, str]] = field(default_factory=list)  # at, by, to
    changes: list[tuple[datetime, str, str, str, str]] = field(default_factory=list)
    comments: list[tuple[datetime, str, str]] = field(default_factory=list)
    links: list[tuple[_Draft, datetime]] = field(default_factory=list)  # "is blocked by"
    labels: list[str] = field(default_factory=list)
    estimate: int | None = None
    fix_versions: list[str] = field(default_factory=list)
    duedate: date | None = None
    key: str = ""
    initial: str = "To Do"  # the status it was created in
    components: list[str] = field(default_factory=list)
    parent: str | None = None
    # A resolution stated in the data (the site's workflow sets one otherwise).
    resolution: tuple[str | None] | None = None

    @property
    def status(self) -> str:
        return self.statuses[-1][2] if self.statuses else self.initial

    @property
    def last_event(self) -> datetime:
        return max([self.created] + [t for t, _, _ in self.statuses])


class _Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.app_summaries = self._app_summary_pool()
        self.ops_summaries = list(_OPS_SUMMARIES)
        rng.shuffle(self.ops_summaries)

    # texts and fields

    def _app_summary_pool(self) -> dict[str, list[str]]:
        rng = self.rng
        stories = [f"{area}: {what}" for area, items in _AREAS.items() for what in items]
        bugs = [f"{area}: {symptom}" for area in _AREAS for symptom in _BUG_SYMPTOMS]
        tasks = list(_TASKS) + [
            f"{area}: {chore}"
            for area in _AREAS
            for chore in ("add analytics events", "add end-to-end tests")
        ]
        for pool in (stories, bugs, tasks):
            rng.shuffle(pool)
        return {"Story": stories, "Bug": bugs, "Task": tasks}

    def app_summary(self, kind: str) -> str:
        return self.app_summaries[kind].pop()

    def kind(self) -> str:
        kinds = [k for k in ("Story", "Task", "Bug") if self.app_summaries[k]]
        weights = {"Story": 50, "Task": 25, "Bug": 25}
        return self.rng.choices(kinds, weights=[weights[k] for k in kinds])[0]

    def priority(self) -> str:
        return self.rng.choices(_PRIORITIES, weights=[7, 22, 56, 15])[0]

    def new_app(
        self, created: datetime, kind: str | None = None, summary: str | None = None
    ) -> _Draft:
        rng = self.rng
        kind = kind or self.kind()
        reporter = rng.choice([_LEAD, _LEAD, *_APP_DEVS])
        draft = _Draft(
            project="APP",
            type=kind,
            summary=summary or self.app_summary(kind),
            priority=self.priority(),
            reporter=reporter,
            created=created,
            assignee=None,
        )
        points = {"Story": ([1, 2, 3, 5, 8], 0.85), "Task": ([1, 2, 3], 0.4), "Bug": ([1, 2], 0.2)}
        choices, share = points[kind]
        if rng.random() < share:
            draft.estimate = rng.choice(choices)
        r = rng.random()
        if r < 0.4:
            draft.fix_versions = ["Beta"]
        elif r < 0.55:
            draft.fix_versions = ["1.4"]
        if rng.random() < 0.22:
            draft.labels = sorted(rng.sample(_FOREIGN_LABELS, rng.choice([1, 1, 1, 2])))
        return draft

    def new_ops(self, created: datetime, summary: str | None = None) -> _Draft:
        rng = self.rng
        return _Draft(
            project="OPS",
            type=rng.choices(["Task", "Story", "Bug"], weights=[70, 15, 15])[0],
            summary=summary or self.ops_summaries.pop(),
            priority=self.priority(),
            reporter=rng.choice(_OPS_PEOPLE),
            created=created,
            assignee=None,
            labels=["backend"] if rng.random() < 0.3 else [],
        )

    # durations in working minutes

    def stay(self, status: str, rework: bool = False) -> int:
        rng = self.rng
        if status == _TODO:
            return rng.randint(60, 8 * 510)
        if status == _BUILD:
            return rng.randint(120, 5 * 60) if rework else rng.randint(4 * 60, 26 * 60)
        if status == _REVIEW:
            return rng.randint(60, 510)
        if status == _QA:
            return rng.randint(90, 13 * 60)
        return rng.randint(60, 240)

    # flows

    def path(self, end: str, reopen: bool = False) -> list[str]:
        """Statuses visited after To Do up to ``end``; every arrival in Done passes review."""
        rng = self.rng
        steps = [_BUILD]
        if end == _BUILD:
            if rng.random() < 0.25:
                steps += [_REVIEW, _BUILD]
            return steps
        steps.append(_REVIEW)
        while rng.random() < 0.22 and len(steps) < 6:
            steps += [_BUILD, _REVIEW]
        if end == _REVIEW:
            return steps
        skip_qa = end == _DONE and rng.random() < 0.08
        if not skip_qa:
            steps.append(_QA)
            if rng.random() < 0.08:
                steps += [_BUILD, _REVIEW, _QA]
        if end == _QA:
            return steps
        steps.append(_DONE)
        if reopen:
            steps += [_BUILD, _REVIEW, _QA, _DONE]
        return steps

    def actor(self, owner: str, frm: str, team: list[str]) -> str:
        """Who moves an issue out of ``frm``: the owner, a colleague (review, QA) or the lead."""
        if frm == _DONE:
            return _LEAD if owner in _APP_PEOPLE else owner
        if frm in (_TODO, _BUILD):
            return owner
        others = [p for p in team if p != owner] or [owner]
        return self.rng.choice(others)

    def schedule(self, draft: _Draft, owner: str, steps: list[str], times: list[datetime]) -> None:
        team = _OPS_PEOPLE if draft.project == "OPS" else _APP_DEVS
        prev = _TODO
        for status, at in zip(steps, times, strict=True):
            draft.statuses.append((at, self.actor(owner, prev, team), status))
            prev = status
        draft.assignee = owner

    def forward(self, draft: _Draft, owner: str, steps: list[str], wait: int) -> None:
        times, t, prev = [], _add_work(draft.created, wait), _TODO
        for i, status in enumerate(steps):
            if i:
                t = _add_work(t, self.stay(prev, rework=prev == _BUILD and i > 1))
            times.append(t)
            prev = status
        self.schedule(draft, owner, steps, times)

    def backward(
        self,
        draft: _Draft,
        owner: str,
        steps: list[str],
        entered: datetime,
        created_before: datetime | None = None,
    ) -> int:
        """Place ``steps`` so the last is entered at ``entered``; set ``created``; the wait."""
        times = [entered]
        for i in range(len(steps) - 2, -1, -1):
            times.insert(0, _sub_work(times[0], self.stay(steps[i], rework=i > 0)))
        wait = self.stay(_TODO)
        if created_before is not None:
            wait = max(wait, _work_between(created_before, times[0]) + self.rng.randint(30, 900))
        draft.created = _sub_work(times[0], wait)
        self.schedule(draft, owner, steps, times)
        return wait

    # decorations

    def reassign(self, draft: _Draft, wait: int, team: list[str]) -> None:
        """The first owner hands the issue over before work starts."""
        if draft.assignee is None or wait < 2:
            return
        first = self.rng.choice([p for p in team if p != draft.assignee])
        at = _add_work(draft.created, self.rng.randint(1, wait - 1))
        by = _LEAD if draft.project == "APP" else first
        draft.changes.append((at, by, "assignee", first, draft.assignee))

    def reprioritise(self, draft: _Draft, until: datetime) -> None:
        rank = _PRIORITIES.index(draft.priority)
        first = self.rng.choice(
            _PRIORITIES[max(0, rank - 1) : rank] + _PRIORITIES[rank + 1 : rank + 2]
        )
        at = _random_time(self.rng, draft.created + timedelta(minutes=5), until)
        by = _LEAD if draft.project == "APP" else draft.reporter
        draft.changes.append((at, by, "priority", first, draft.priority))

    def comment(self, draft: _Draft, until: datetime, count: int) -> None:
        rng = self.rng
        people = _OPS_PEOPLE if draft.project == "OPS" else _APP_PEOPLE
        for _ in range(count):
            by = rng.choice(people)
            body = rng.choice(_COMMENTS)
            if "{name}" in body:
                body = body.format(name=_FIRST_NAME[rng.choice([p for p in people if p != by])])
            at = _random_time(rng, draft.created + timedelta(minutes=10), until)
            draft.comments.append((at, by, body))

    def finish(self, draft: _Draft, wait: int = 0) -> None:
        """Optional reassignment, priority change, comments and due date, all before now."""
        rng = self.rng
        team = _OPS_PEOPLE if draft.project == "OPS" else _APP_DEVS
        if wait and rng.random() < 0.2:
            self.reassign(draft, wait, team)
        end = draft.last_event
        if rng.random() < 0.15:
            self.reprioritise(draft, max(end, draft.created + timedelta(hours=1)))
        until = min(DEMO_NOW - timedelta(minutes=5), end + timedelta(days=2))
        self.comment(draft, until, rng.choice([0, 0, 1, 1, 1, 2, 2, 3]))
        if draft.priority == "Highest" or rng.random() < 0.15:
            # open work is due after now; finished work was due around when it finished
            if draft.status == _DONE:
                due = (end + timedelta(days=rng.randint(-2, 6))).date()
            else:
                due = DEMO_NOW.date() + timedelta(days=rng.randint(3, 28))
            while due.weekday() >= 5:
                due += timedelta(days=1)
            draft.duedate = due


def _done_issue(gen: _Generator, reopen: bool = False) -> _Draft:
    """An APP issue created in the window and finished (through review) before now."""
    rng = gen.rng
    while True:
        created = _random_time(rng, _WINDOW_START, DEMO_NOW - timedelta(days=3))
        draft = gen.new_app(created)
        owner = rng.choice([*_APP_DEVS, *_APP_DEVS, _LEAD])
        wait = gen.stay(_TODO)
        gen.forward(draft, owner, gen.path(_DONE, reopen=reopen), wait)
        if draft.last_event <= DEMO_NOW - timedelta(hours=1):
            gen.finish(draft, wait)
            return draft
        gen.app_summaries[draft.type].append(draft.summary)  # give the summary back


def _active_issue(
    gen: _Generator,
    owner: str,
    status: str,
    entered: datetime,
    summary: str | None = None,
    kind: str | None = None,
    created_before: datetime | None = None,
) -> _Draft:
    draft = gen.new_app(_WINDOW_START, kind, summary)
    wait = gen.backward(draft, owner, gen.path(status), entered, created_before)
    gen.finish(draft, wait)
    return draft


def _explicit(
    gen: _Generator,
    draft: _Draft,
    owner: str,
    steps: list[tuple[str, datetime]],
    wait: int,
) -> None:
    """Exactly these transitions, created ``wait`` working minutes before the first."""
    gen.schedule(draft, owner, [s for s, _ in steps], [t for _, t in steps])
    draft.created = _sub_work(steps[0][1], wait)


def _long_history_issue(gen: _Generator) -> _Draft:
    """Done after twelve review round trips, a QA bounce, handovers and re-prioritising."""
    rng = gen.rng
    draft = gen.new_app(_at(9, 28, 10, 15), "Story", "Checkout: migrate to the new payments API")
    draft.priority, draft.estimate, draft.fix_versions = "High", 8, ["Beta"]
    draft.labels = ["backend", "customer"]
    owners = ["u-ann", "u-bob"]
    steps = [_BUILD] + [_REVIEW, _BUILD] * 12 + [_REVIEW, _QA, _BUILD, _REVIEW, _QA, _DONE]
    t = _add_work(draft.created, 150)
    prev, owner = _TODO, owners[0]
    for i, status in enumerate(steps):
        if i:
            t = _add_work(t, rng.randint(120, 300) if prev == _BUILD else rng.randint(60, 240))
        by = gen.actor(owner, prev, _APP_DEVS)
        draft.statuses.append((t, by, status))
        if status == _BUILD and prev == _REVIEW and i % 4 == 2:
            # the reviewer hands the rework to the other developer
            handover = owners[(owners.index(owner) + 1) % 2]
            draft.changes.append((t + timedelta(minutes=7), by, "assignee", owner, handover))
            owner = handover
        prev = status
    draft.assignee = owner
    priorities = ["Medium", "High", "Highest", "High", "Highest", "High"]
    stamps = sorted(rng.sample(range(2, len(steps) - 2), len(priorities) - 1))
    for frm, to, i in zip(priorities, priorities[1:], stamps, strict=False):
        at = draft.statuses[i][0] + timedelta(minutes=23)
        draft.changes.append((at, _LEAD, "priority", frm, to))
    draft.comments = [
        (draft.statuses[3][0] + timedelta(minutes=40), "u-chen", "The refund path needs a test."),
        (draft.statuses[14][0] + timedelta(minutes=12), _LEAD, "Customer escalation, raising."),
        (draft.statuses[-2][0] + timedelta(minutes=30), "u-emeka", "Declined cards retry twice."),
    ]
    return draft


def _generate() -> dict[str, Any]:
    rng = random.Random(DEMO_SEED)
    gen = _Generator(rng)
    app: list[_Draft] = []
    ops: list[_Draft] = []

    # OPS: the platform team, with the two blockers the APP team waits on.
    ops_blocker = gen.new_ops(_WINDOW_START, "Provision the notification queue in staging")
    ops_blocker.priority = "High"
    _explicit(gen, ops_blocker, "u-gus", [(_BUILD, _at(11, 13, 10, 5))], wait=600)
    ops_blocker.comments += [
        (_at(11, 18, 11, 20), "u-ann", "Any ETA? Order status notifications wait on this."),
        (_at(11, 18, 14, 2), "u-gus", "Waiting on a quota increase from the cloud provider."),
    ]
    ops_solved = gen.new_ops(_WINDOW_START, "Expose the pricing service to the app API")
    solved_steps = [
        (_BUILD, _at(11, 11, 9, 40)),
        (_REVIEW, _at(11, 13, 15, 0)),
        (_QA, _at(11, 16, 13, 30)),
        (_DONE, _at(11, 17, 11, 0)),
    ]
    _explicit(gen, ops_solved, "u-hana", solved_steps, wait=900)
    ops += [ops_blocker, ops_solved]
    busy = 0  # the two platform engineers share the active work: three items each
    for status, count in ((_DONE, 14), (_TODO, 4), (_BUILD, 2), (_REVIEW, 2), (_QA, 1)):
        for _ in range(count):
            owner = rng.choice(_OPS_PEOPLE)
            if status not in (_DONE, _TODO):
                owner, busy = _OPS_PEOPLE[(busy + 1) % 2], busy + 1
            if status == _DONE:
                draft = gen.new_ops(_random_time(rng, _WINDOW_START, _at(11, 10, 17)))
                wait = gen.stay(_TODO)
                gen.forward(draft, owner, gen.path(_DONE), wait)
            elif status == _TODO:
                draft = gen.new_ops(_random_time(rng, _at(10, 20, 9), _at(11, 20, 12)))
                draft.assignee, wait = (owner if rng.random() < 0.5 else None), 0
            else:
                draft = gen.new_ops(_WINDOW_START)
                entered = _random_time(rng, _at(11, 12, 9), _at(11, 20, 12))
                wait = gen.backward(draft, owner, gen.path(status), entered)
            gen.finish(draft, wait)
            ops.append(draft)

    # APP, planted: stuck in review (warn, critical, critical) and stuck in build.
    review_warn = _active_issue(
        gen, "u-ann", _REVIEW, _at(11, 17, 9, 10), "Search: filters by brand", "Story"
    )
    review_warn.comments.append((_at(11, 19, 10, 5), "u-ann", "Bob, can you take the review?"))
    review_crit = _active_issue(
        gen,
        "u-bob",
        _REVIEW,
        _at(11, 12, 10, 30),
        "Checkout: retry declined cards",
        "Story",
    )
    review_crit.comments.append((_at(11, 16, 15, 45), "u-bob", "Still waiting for a reviewer."))
    review_older = _active_issue(
        gen, "u-chen", _REVIEW, _at(11, 10, 14, 0), "Profile: export my data", "Story"
    )
    build_stuck = _active_issue(
        gen, "u-emeka", _BUILD, _at(11, 9, 14, 0), "Order history: offline mode", "Story"
    )
    build_stuck.comments.append(
        (_at(11, 13, 16, 10), "u-emeka", "Sync conflicts are harder than expected, on it.")
    )
    review_crit.labels, build_stuck.labels = ["customer"], ["frontend", "tech-debt"]
    app += [review_warn, review_crit, review_older, build_stuck]

    # APP, planted: reached Done without review.
    via_qa = gen.new_app(_WINDOW_START, "Bug", "Promo codes: discount applied twice")
    via_qa.priority, via_qa.duedate = "Highest", date(2026, 11, 13)
    via_qa_steps = [
        (_BUILD, _at(11, 10, 10, 20)),
        (_QA, _at(11, 12, 15, 10)),
        (_DONE, _at(11, 13, 11, 40)),
    ]
    _explicit(gen, via_qa, "u-chen", via_qa_steps, wait=120)
    via_qa.comments.append((_at(11, 12, 15, 12), "u-chen", "Small fix, sending straight to QA."))
    straight = gen.new_app(_WINDOW_START, "Task", "Bump analytics SDK to 5.2")
    straight_steps = [(_BUILD, _at(11, 17, 10, 0)), (_DONE, _at(11, 18, 12, 5))]
    _explicit(gen, straight, "u-bob", straight_steps, wait=300)
    app += [via_qa, straight]

    # APP, planted: Dana carries five active issues, each fresh.
    for status, entered in (
        (_BUILD, _at(11, 19, 14, 0)),
        (_BUILD, _at(11, 20, 9, 40)),
        (_REVIEW, _at(11, 19, 16, 30)),
        (_REVIEW, _at(11, 20, 11, 0)),
        (_QA, _at(11, 20, 10, 20)),
    ):
        app.append(_active_issue(gen, "u-dana", status, entered))

    # APP, planted: blocked by the platform team for four days.
    blocked = _active_issue(
        gen,
        "u-ann",
        _BUILD,
        _at(11, 19, 9, 15),
        "Push notifications: order status updates",
        "Story",
        created_before=_at(11, 16, 16, 0),
    )
    blocked.links.append((ops_blocker, _at(11, 16, 16, 0)))
    app.append(blocked)

    # APP, healthy but linked: blocked by an APP issue, and by an OPS issue that is Done.
    app_blocker = _active_issue(
        gen,
        "u-chen",
        _REVIEW,
        _at(11, 20, 13, 0),
        summary="Cart: price breakdown API client",
        kind="Task",
        created_before=_at(11, 17, 11, 0),
    )
    waits_on_app = _active_issue(
        gen,
        _LEAD,
        _BUILD,
        _at(11, 19, 10, 30),
        summary="Cart: price breakdown sheet",
        kind="Story",
        created_before=_at(11, 17, 11, 0),
    )
    waits_on_app.links.append((app_blocker, _at(11, 17, 11, 0)))
    waits_on_ops = _active_issue(
        gen,
        "u-emeka",
        _BUILD,
        _at(11, 18, 15, 0),
        summary="Product page: live price from the pricing service",
        kind="Story",
        created_before=_at(11, 13, 10, 0),
    )
    waits_on_ops.links.append((ops_solved, _at(11, 13, 10, 0)))
    app += [app_blocker, waits_on_app, waits_on_ops]

    # APP, healthy and fresh: the rest of the board.
    for owner, status, entered in (
        ("u-bob", _QA, _at(11, 19, 15, 0)),
        ("u-emeka", _QA, _at(11, 20, 9, 30)),
        ("u-ann", _REVIEW, _at(11, 20, 14, 15)),
    ):
        app.append(_active_issue(gen, owner, status, entered))

    app.append(_long_history_issue(gen))
    for i in range(110):
        app.append(_done_issue(gen, reopen=i in (17, 48, 83)))
    for _ in range(21):
        recent = rng.random() < 0.7
        start = _at(10, 23, 9) if recent else _WINDOW_START
        draft = gen.new_app(_random_time(rng, start, DEMO_NOW - timedelta(hours=2)))
        if draft.priority == "Highest" or rng.random() < 0.45:
            draft.assignee = rng.choice(_APP_DEVS)
        gen.finish(draft)
        app.append(draft)

    for prefix, drafts in (("APP", app), ("OPS", ops)):
        drafts.sort(key=lambda d: d.created)
        for number, draft in enumerate(drafts, start=1):
            draft.key = f"{prefix}-{number}"
    _plant_by_key({d.key: d for d in app})
    _plant_waits({d.key: d for d in app}, {d.key: d for d in ops})
    app += _plant_skills_and_hygiene(gen, app)
    document: dict[str, Any] = {
        "format": "jira-chase-dataset/1",
        "now": _iso(DEMO_NOW),
        "bot": "u-bot",
        # The bot administers the platform team's project but not the app team's, where
        # its label changes therefore email the watchers (Jira lets only project admins
        # suppress notifications).
        "projects": [
            {"key": "APP", "name": "App team", "admins": [_LEAD]},
            {"key": "OPS", "name": "Platform team", "admins": ["u-gus", "u-bot"]},
        ],
        "users": [{"id": uid, "name": name, "email": email} for uid, name, email in _USERS],
        "statuses": [
            {"name": _TODO, "category": "new"},
            {"name": _BUILD, "category": "indeterminate"},
            {"name": _REVIEW, "category": "indeterminate"},
            {"name": _QA, "category": "indeterminate"},
            {"name": _DONE, "category": "done"},
            {"name": _CLOSED, "category": "done"},
        ],
        "issues": [_issue_json(d) for d in app + ops],
    }
    return document


def _plant_by_key(app: dict[str, _Draft]) -> None:
    """The planted problems made by editing issues the seed already placed (after
    numbering, without moving any creation time, so every key stays where it was)."""
    # Reopened a second time (the demo allows one reopen): Done again on 10-30.
    twice = app["APP-52"]
    assert twice.status == _DONE and twice.last_event < _at(10, 29, 9)
    twice.statuses += [
        (_at(10, 29, 11, 0), _LEAD, _BUILD),
        (_at(10, 29, 15, 30), "u-ann", _REVIEW),
        (_at(10, 30, 10, 0), "u-bob", _QA),
        (_at(10, 30, 14, 20), "u-chen", _DONE),
    ]
    # Started on Mon 11-16 14:00 and not touched since: stale (4.1 business days
    # without an update), yet under the build limit and younger than the p85 cycle time.
    idle = app["APP-91"]
    assert idle.status == _TODO and idle.assignee == "u-bob" and idle.last_event < _at(11, 16, 9)
    assert not [c for c in idle.comments if c[0] > _at(11, 16, 9)]
    idle.statuses.append((_at(11, 16, 14, 0), "u-bob", _BUILD))
    # Sent from In Progress straight to In QA: moved past required Code Review.
    skipped = app["APP-115"]
    assert [to for _, _, to in skipped.statuses] == [_BUILD, _REVIEW, _QA]
    (build, _, qa) = skipped.statuses
    skipped.statuses = [build, (qa[0], skipped.assignee or "u-emeka", _QA)]
    # In QA with nobody owning it.
    unowned = app["APP-136"]
    assert unowned.status == _QA and not [c for c in unowned.changes if c[2] == "assignee"]
    unowned.assignee = None
    # A Highest-priority bug without a due date.
    undated = app["APP-149"]
    assert undated.priority == "Highest" and undated.status == _TODO
    undated.duedate = None


def _plant_waits(app: dict[str, _Draft], ops: dict[str, _Draft]) -> None:
    """The platform team waits on the app team too (links listed on the waiting issue):
    OPS-13 on APP-87 since Fri 11-06 (ten working days, long) and OPS-23 on APP-139
    since Thu 11-19 (one day)."""
    for waiting, blocker, since in (
        ("OPS-13", "APP-87", _at(11, 6, 10, 0)),
        ("OPS-23", "APP-139", _at(11, 19, 14, 0)),
    ):
        assert ops[waiting].status == _TODO and app[blocker].status != _DONE
        assert max(ops[waiting].created, app[blocker].created) < since
        ops[waiting].links.append((app[blocker], since))


def _plant_skills_and_hygiene(gen: _Generator, app: list[_Draft]) -> list[_Draft]:
    """Where knowledge sits in one head, and the tracker used against the process.

    Every issue gets its product area (the summary's prefix) as its component; chores
    without one are "Release engineering" when Chen did them, and one more (six of
    seven: concentrated). The lead moves every issue out of Code Review but her own (a
    bottleneck of people). Two finished issues change where no metric reads; one chore
    of this afternoon and five open issues from before the window, numbered after the
    rest, plant the other hygiene cases. Returns the new ones.
    """
    window_end = DEMO_NOW
    chores: list[_Draft] = []
    for draft in app:
        if ":" in draft.summary:
            draft.components = [draft.summary.split(":", 1)[0]]
        elif draft.status == _DONE and _WINDOW_START <= draft.last_event <= window_end:
            chores.append(draft)
        # Farah reviews; her own work goes to Ann.
        reviewer = "u-ann" if draft.assignee == _LEAD else _LEAD
        prev = draft.initial
        for i, (at, _by, to) in enumerate(draft.statuses):
            if prev == _REVIEW and to != _REVIEW:
                draft.statuses[i] = (at, reviewer, to)
            prev = to
    by_key = {d.key: d for d in app}
    chens = [d for d in chores if d.assignee == "u-chen"]
    other = next(d for d in chores if d.assignee != "u-chen")
    assert len(chens) == 6
    for draft in [*chens, other]:
        draft.components = [_RELEASE_COMPONENT]

    # A finished issue keeps its findings for redlines.flag_finished_days (28 in the demo
    # config): the finished cases are recent. Two existing ones change only what no
    # metric reads: archived Done -> Closed a week after it was done (a status edit in
    # done, not a reopen), and done without a resolution (no resolution screen).
    edited = by_key["APP-54"]
    assert edited.status == _DONE and edited.last_event < _at(11, 10, 9)
    edited.statuses.append((_at(11, 10, 10, 0), _LEAD, _CLOSED))
    unresolved = by_key["APP-55"]
    assert unresolved.status == _DONE
    unresolved.resolution = (None,)
    # A chore of this afternoon, created after every other issue: closed straight from
    # To Do.
    no_step = gen.new_app(_WINDOW_START, "Task", "Fix the typo in the App Store description")
    no_step.fix_versions, no_step.labels, no_step.priority = [], [], "Medium"
    _explicit(gen, no_step, "u-bob", [(_DONE, _at(11, 20, 13, 0))], wait=150)
    assert no_step.created > max(d.created for d in app)

    def old(owner: str, summary: str, kind: str, steps: list[tuple[str, datetime]]) -> _Draft:
        draft = gen.new_app(_WINDOW_START, kind, summary)
        draft.fix_versions, draft.labels, draft.priority = [], [], "Medium"
        _explicit(gen, draft, owner, steps, wait=240)
        return draft

    # From before the window, moved in after the rest: created straight into In Progress
    # (and put back to To Do the next day); sent back to To Do three times and waiting
    # there; a finished story with a sub-task still open; and one reopened to To Do with
    # its resolution left in place.
    in_step = old("u-dana", "Reviews: sort by newest", "Story", [(_TODO, _at(9, 2, 10, 0))])
    in_step.initial, in_step.created = _BUILD, _at(9, 1, 10, 0)
    back = old("u-emeka", "Settings: font size option", "Story",
               [(_BUILD, _at(9, 1, 10, 0)), (_TODO, _at(9, 2, 10, 0)),
                (_BUILD, _at(9, 3, 10, 0)), (_TODO, _at(9, 4, 10, 0)),
                (_BUILD, _at(9, 7, 10, 0)), (_TODO, _at(9, 8, 10, 0))])  # fmt: skip
    through = [(_BUILD, _at(9, 1, 10, 0)), (_REVIEW, _at(9, 2, 14, 0)),
               (_QA, _at(9, 3, 11, 0)), (_DONE, _at(9, 4, 15, 0))]  # fmt: skip
    parent = old("u-ann", "Wishlist: wishlist badge on the tab bar", "Story", through)
    child = gen.new_app(_WINDOW_START, "Task", "Wishlist: badge artwork for dark mode")
    child.type, child.priority, child.fix_versions, child.labels = "Subtask", "Medium", [], []
    child.created, child.assignee = _at(9, 1, 11, 0), "u-ann"
    reopened = old("u-bob", "Search: clear all filters button", "Story",
                   [*through, (_TODO, _at(9, 8, 10, 0))])  # fmt: skip
    reopened.resolution = ("Done",)
    planted = [no_step, in_step, back, parent, child, reopened]
    for number, draft in enumerate(planted, start=len(app) + 1):
        draft.key = f"APP-{number}"
        if ":" in draft.summary:
            draft.components = [draft.summary.split(":", 1)[0]]
    child.parent = parent.key
    return planted


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _issue_json(d: _Draft) -> dict[str, Any]:
    entries: list[tuple[datetime, int, dict[str, Any]]] = []
    prev = d.initial
    for order, (at, by, to) in enumerate(d.statuses):
        entries.append((at, order, {"by": by, "field": "status", "from": prev, "to": to}))
        prev = to
    for order, (at, by, name, frm, to) in enumerate(d.changes, start=len(entries)):
        entries.append((at, order, {"by": by, "field": name, "from": frm, "to": to}))
    entries.sort(key=lambda e: (e[0], e[1]))
    history: list[dict[str, Any]] = []
    last = d.created
    for at, _, entry in entries:
        at = max(at, last + timedelta(minutes=1))  # strictly after creation and each other
        last = at
        history.append({"at": _iso(at), **entry})
    issue: dict[str, Any] = {
        "key": d.key,
        "project": d.project,
        "type": d.type,
        "summary": d.summary,
        "priority": d.priority,
        "status": d.status,
    }
    if d.assignee:
        issue["assignee"] = d.assignee
    issue["reporter"] = d.reporter
    if d.labels:
        issue["labels"] = list(d.labels)
    issue["created"] = _iso(d.created)
    if d.duedate:
        issue["duedate"] = d.duedate.isoformat()
    if d.fix_versions:
        issue["fixVersions"] = list(d.fix_versions)
    if d.components:
        issue["components"] = list(d.components)
    if d.parent:
        issue["parent"] = d.parent
    if d.resolution is not None:
        issue["resolution"] = d.resolution[0]
    if d.estimate is not None:
        issue["estimate"] = d.estimate
    issue["history"] = history
    if d.links:
        issue["links"] = [
            {"type": "Blocks", "direction": "inward", "key": target.key, "since": _iso(since)}
            for target, since in d.links
        ]
    if d.comments:
        issue["comments"] = [
            {"at": _iso(at), "by": by, "body": body} for at, by, body in sorted(d.comments)
        ]
    return issue


_built = lru_cache(maxsize=1)(_generate)


def build_demo_dataset() -> dict[str, Any]:
    """The demo dataset (a fresh copy each call; identical on every call and machine)."""
    return copy.deepcopy(_built())
