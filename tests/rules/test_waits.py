"""Waits between teams, both ways, over plain issues: links and their changelog dates."""

from __future__ import annotations

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Change, Link, Severity
from tests.factories import BOB, at, make_issue, make_settings

SETTINGS = make_settings(cooperation={"blocked_days": 2, "wait_days": 3})


def blocked_by(key: str, days: float | None, status: str = "In Progress") -> Link:
    category = "done" if status == "Done" else "indeterminate"
    since = at(days) if days is not None else None
    return Link("Blocks", "inward", key, key.split("-")[0], status, category, since)


def blocks(key: str, days: float | None, status: str = "In Progress") -> Link:
    category = "done" if status == "Done" else "indeterminate"
    since = at(days) if days is not None else None
    return Link("Blocks", "outward", key, key.split("-")[0], status, category, since)


def link_change(days: float, text: str, added: bool = True) -> Change:
    return Change(at(days), "Link", None if added else text, text if added else None, BOB.id)


def test_both_directions_per_team():
    ours_waits = make_issue(
        "APP-1", path=[(0, "In Progress")], links=(blocked_by("OPS-7", 1),),
        extra_history=(link_change(1, "This issue is blocked by OPS-7"),),
    )  # fmt: skip
    others_wait = make_issue(
        "APP-2", path=[(0, "In Progress")], links=(blocks("OPS-9", 2),),
        extra_history=(link_change(2, "This issue blocks OPS-9"),),
    )  # fmt: skip
    evaluation = evaluate([ours_waits, others_wait], SETTINGS, at(10))
    waits = evaluation.waits
    assert waits is not None
    suffered, caused = waits.suffered["APP"], waits.caused["APP"]
    assert (suffered.count, suffered.open, suffered.median_days) == (1, 1, 9.0)
    assert (caused.count, caused.open, caused.median_days) == (1, 1, 8.0)
    assert caused.open_now == (("OPS-9", "APP-2", 8.0),)
    assert waits.lines() == [
        "APP: others waited on us 1 open, median 8.0 days; we waited on others 1 open, "
        "median 9.0 days"
    ]
    # Ours that another team waits on is told so, critical past twice the limit.
    (finding,) = [f for f in evaluation.by_key()["APP-2"].findings if f.family == "cooperation"]
    assert finding.rule == "blocking-other-team" and finding.severity is Severity.CRITICAL
    assert finding.message.startswith("OPS-9 (OPS) has waited on this since 2026-11-04 (8 days")
    assert "chase-blocking" in [f"chase-{c}" for c in evaluation.by_key()["APP-2"].causes]


def test_a_link_removed_ends_the_wait_and_a_done_blocker_too():
    removed = make_issue(
        "APP-1", path=[(0, "In Progress")],
        extra_history=(
            link_change(1, "This issue is blocked by OPS-7"),
            link_change(4, "This issue is blocked by OPS-7", added=False),
        ),
    )  # fmt: skip
    blocker_done = make_issue(
        "APP-2", path=[(0, "In Progress")], links=(blocked_by("OPS-8", 1, "Done"),),
        extra_history=(link_change(1, "This issue is blocked by OPS-8"),),
    )  # fmt: skip
    waits = evaluate([removed, blocker_done], SETTINGS, at(10)).waits
    assert waits is not None
    (ended,) = [w for w in waits.waits if w.blocker == "OPS-7"]
    assert (ended.start, ended.end, ended.open) == (at(1), at(4), False)
    # A done blocker outside the scope: the wait ended, when is not known: not counted.
    assert not [w for w in waits.waits if w.blocker == "OPS-8"]
    assert waits.suffered["APP"].open == 0


def test_our_blocker_finishing_ends_the_wait_at_its_finish():
    finished = make_issue(
        "APP-3", path=[(0, "In Progress"), (5, "Code Review"), (6, "Done")],
        links=(blocks("OPS-9", 1),),
        extra_history=(link_change(1, "This issue blocks OPS-9"),),
    )  # fmt: skip
    waits = evaluate([finished], SETTINGS, at(10)).waits
    assert waits is not None
    (wait,) = waits.waits
    assert (wait.end, wait.open) == (at(6), False)
    assert waits.caused["APP"].median_days == 5.0 and waits.caused["APP"].open == 0


def test_no_link_date_is_an_open_wait_without_a_duration_said_in_coverage():
    undated = make_issue("APP-1", path=[(0, "In Progress")], links=(blocked_by("OPS-7", None),))
    evaluation = evaluate([undated], SETTINGS, at(10))
    assert evaluation.waits is not None
    stats = evaluation.waits.suffered["APP"]
    assert (stats.count, stats.open, stats.median_days, stats.unknown_start) == (1, 1, None, 1)
    assert stats.open_now == (("APP-1", "OPS-7", None),)
    assert any("1 waits between teams have no known start" in line
               for line in evaluation.coverage.lines(1))  # fmt: skip


def test_a_waiting_step_dates_a_wait_without_a_link_date():
    settings = make_settings(
        workflow={
            "done": ["Done"],
            "steps": [
                {"name": "build", "statuses": ["In Progress"], "limit_days": 5},
                {"name": "blocked", "statuses": ["Blocked"], "waiting": True},
            ],
        },
        cooperation={"blocked_days": 2},
    )
    parked = make_issue(
        "APP-1", path=[(0, "In Progress"), (3, "Blocked")], links=(blocked_by("OPS-7", None),)
    )
    waits = evaluate([parked], settings, at(10)).waits
    assert waits is not None
    (wait,) = waits.waits
    assert wait.start == at(3) and waits.suffered["APP"].median_days == 7.0


def test_waits_within_one_team_are_not_waits_between_teams():
    inside = make_issue(
        "APP-1", path=[(0, "In Progress")], links=(blocked_by("APP-7", 1),),
        extra_history=(link_change(1, "This issue is blocked by APP-7"),),
    )  # fmt: skip
    waits = evaluate([inside], SETTINGS, at(10)).waits
    assert waits is not None and waits.waits == ()
    assert waits.lines() == []


def test_seen_from_both_ends_a_wait_counts_once():
    waiting = make_issue(
        "APP-1", path=[(0, "In Progress")], links=(blocked_by("OPS-7", 1),),
        extra_history=(link_change(1, "This issue is blocked by OPS-7"),),
    )  # fmt: skip
    blocker = make_issue(
        "OPS-7", path=[(0, "In Progress")], links=(blocks("APP-1", 1),),
        extra_history=(link_change(1, "This issue blocks APP-1"),),
    )  # fmt: skip
    waits = evaluate([waiting, blocker], SETTINGS, at(10)).waits
    assert waits is not None
    assert len(waits.waits) == 1
    assert waits.suffered["APP"].count == 1 and waits.caused["OPS"].count == 1


TEAMS = [{"name": "Mobile", "jql": "labels = mobile"}, {"name": "Web", "jql": "labels = web"}]


def test_configured_teams_wait_on_each_other_inside_one_project():
    # APP-1 (Mobile) is blocked by APP-2 (Web) and by OPS-7, outside the scope.
    mobile = make_issue(
        "APP-1", path=[(0, "In Progress")], labels=("mobile",),
        links=(blocked_by("APP-2", 1), blocked_by("OPS-7", 2)),
        extra_history=(link_change(1, "This issue is blocked by APP-2"),
                       link_change(2, "This issue is blocked by OPS-7")),
    )  # fmt: skip
    web = make_issue(
        "APP-2", path=[(0, "In Progress")], labels=("web",), links=(blocks("APP-1", 1),),
        extra_history=(link_change(1, "This issue blocks APP-1"),),
    )  # fmt: skip
    # Within one project and without [[teams]], neither is a wait between teams...
    by_project = evaluate([mobile, web], SETTINGS, at(10)).waits
    assert by_project is not None
    assert [(w.waiting, w.blocker, w.blocker_team) for w in by_project.waits] == [
        ("APP-1", "OPS-7", "OPS")
    ]
    # ... with them, the team that waits and the one waited on are the configured ones,
    # and the blocker outside the scope is of its project.
    settings = make_settings(cooperation={"blocked_days": 2, "wait_days": 3}, teams=TEAMS)
    evaluation = evaluate([mobile, web], settings, at(10))
    waits = evaluation.waits
    assert waits is not None
    assert [(w.waiting, w.waiting_team, w.blocker, w.blocker_team) for w in waits.waits] == [
        ("APP-1", "Mobile", "APP-2", "Web"),
        ("APP-1", "Mobile", "OPS-7", "OPS"),
    ]
    assert list(waits.caused) == ["Mobile", "Web"]  # the teams in their order
    assert (waits.suffered["Mobile"].open, waits.caused["Web"].open) == (2, 1)
    assert waits.caused["Mobile"].count == waits.suffered["Web"].count == 0
    # The wait rule names the waiting team as configured.
    (finding,) = [f for f in evaluation.by_key()["APP-2"].findings if f.family == "cooperation"]
    assert finding.message.startswith("APP-1 (Mobile) has waited on this since")
