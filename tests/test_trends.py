"""The trend kept per run and time to recovery, over a real state store."""

from datetime import datetime, timedelta, timezone

from jira_chase.store import trends
from jira_chase.store.state import StateStore

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_recovery_times_come_from_a_sequence_of_runs(tmp_path):
    runs = [
        {"A-1": ("at-risk", ("stale",)), "A-2": ("healthy", ())},
        {"A-1": ("off-track", ("stale", "wip")), "A-2": ("at-risk", ("wip",))},
        {"A-1": ("at-risk", ("wip",)), "A-2": ("at-risk", ("wip",))},
        {"A-1": ("healthy", ()), "A-2": ("healthy", ()), "A-3": ("at-risk", ("owner",))},
        {"A-2": ("at-risk", ("wip",))},  # left the scope
    ]
    with StateStore(tmp_path / "s.sqlite") as store:
        kept = [
            store.record_trend(n + 1, "sync", day(2 * n), {"n": n}, health)
            for n, health in enumerate(runs)
        ]
        changes = store.health_changes()
        assert len(store.trend_runs()) == 5
    # Only changes are kept: run 3 changed A-1 alone; A-2 stayed the same.
    assert kept == [2, 2, 1, 3, 3]
    found = trends.episodes(changes)
    summary = trends.recovery_summary(found)
    # A-1 unhealthy from day 0 to day 6; A-2 from day 2 to day 6, again from day 8.
    assert summary["any"] == {"recovered": 2, "median_days": 4.0, "p85_days": 6.0, "open": 1}
    assert summary["stale"] == {"recovered": 1, "median_days": 4.0, "p85_days": 4.0, "open": 0}
    assert summary["wip"]["recovered"] == 2 and summary["wip"]["open"] == 1
    # A-3 left the scope while flagged: it never recovered and is not open either.
    assert "owner" not in summary
    assert trends.recovery_by_week(found) == [
        {"week": "2026-11-02", "recovered": 2, "median_days": 4.0, "p85_days": 6.0}
    ]
