"""What every rule shares: the evidence formatters and the phrasebook."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from jira_chase.engine.rules.context import DISPLAY_ZONE, Phrasebook, fmt_date, fmt_days, fmt_time


def test_a_phrasebook_keeps_one_copy_of_equal_words():
    say = Phrasebook()
    first = say(("status", "".join(["In ", "Progress"])))
    again = say(("status", "".join(["In", " Progress"])))
    assert first == again and first is again
    assert say("x" * 3) is say("".join("xxx"))
    assert say(("status", "Done")) is not first


def test_durations_are_said_once_per_unit():
    assert fmt_days(1.04) == "1 day" and fmt_days(2.46) == "2.5 days"
    assert fmt_days(2.46, "business days") == "2.5 days (business days)"
    assert fmt_days(2.5, "business days") is fmt_days(2.4999, "business days")


def test_times_are_said_in_the_team_zone_with_its_name():
    moment = datetime(2026, 3, 29, 0, 59, tzinfo=timezone.utc)
    token = DISPLAY_ZONE.set(ZoneInfo("Europe/Berlin"))
    try:
        assert fmt_time(moment) == "2026-03-29 01:59 CET"
        assert fmt_time(moment.replace(hour=1, minute=0)) == "2026-03-29 03:00 CEST"
    finally:
        DISPLAY_ZONE.reset(token)
    assert fmt_time(datetime(2026, 12, 31, 23, 5, tzinfo=timezone.utc)) == "2026-12-31 23:05 UTC"


def test_dates_are_said_as_the_day_in_the_team_zone():
    late = datetime(2026, 11, 2, 23, 30, tzinfo=timezone.utc)
    assert fmt_date(late) == "2026-11-02"
    token = DISPLAY_ZONE.set(ZoneInfo("Europe/Berlin"))
    try:
        assert fmt_date(late) == "2026-11-03"
    finally:
        DISPLAY_ZONE.reset(token)
