"""When a batch job runs: RRULE occurrences in a time zone, across summer time, between a start and an end; and
what is said when a schedule cannot be kept."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.schedule import ScheduleError, schedule

PARIS = ZoneInfo("Europe/Paris")


def at(*parts: int, zone: ZoneInfo = PARIS) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()


def local(moment: float, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.fromtimestamp(moment, zone)


def test_a_daily_rule_runs_at_the_same_wall_clock_hour_across_the_change_to_summer_time():
    now = at(2027, 3, 26, 12)               # summer time starts in Paris on 28 March 2027
    daily = schedule("FREQ=DAILY;BYHOUR=6", "Europe/Paris", now=now)
    runs, moment = [], now
    for _ in range(4):
        moment = daily.after(moment)
        runs.append(local(moment))
    assert [(run.day, run.hour, run.minute) for run in runs] == [(27, 6, 0), (28, 6, 0), (29, 6, 0), (30, 6, 0)]
    assert [run.utcoffset().total_seconds() / 3600 for run in runs] == [1, 2, 2, 2]
    assert runs[2].timestamp() - runs[1].timestamp() == 24 * 3600
    assert runs[1].timestamp() - runs[0].timestamp() == 23 * 3600     # the night of the change is an hour short


def test_without_a_start_an_hourly_rule_runs_on_the_hour_not_at_the_minute_it_was_added():
    now = at(2027, 5, 4, 9, 41, 17, zone=UTC)
    hourly = schedule("RRULE:FREQ=HOURLY", "UTC", now=now)
    assert hourly.after(now) == at(2027, 5, 4, 10, zone=UTC)
    assert hourly.after(now, inclusive=True) == at(2027, 5, 4, 10, zone=UTC)


def test_start_and_end_are_read_in_the_schedules_time_zone_and_bound_its_runs():
    now = at(2027, 1, 1)
    weekly = schedule("FREQ=DAILY;BYHOUR=7", "Europe/Paris", start="2027-01-10T00:00", end="2027-01-12T23:00",
                      now=now)
    assert local(weekly.after(now)) == datetime(2027, 1, 10, 7, tzinfo=PARIS)
    assert weekly.after(at(2027, 1, 12, 8)) is None         # the 13th is past the end


def test_an_offset_written_in_the_start_wins_over_the_time_zone():
    now = at(2027, 1, 1)
    found = schedule("FREQ=DAILY", "Europe/Paris", start="2027-02-01T00:00+00:00", now=now)
    assert found.start == datetime(2027, 2, 1, 1, tzinfo=PARIS)


@pytest.mark.parametrize("rule, said", [
    ("FREQ=DALY", "cannot be read: invalid 'FREQ': DALY"),
    ("BYHOUR=6", "cannot be read: it has no FREQ"),
    ("FREQ=DAILY;BYHOUR=25", "cannot be read: hour must be in 0..23"),
    ("FREQ=DAILY;COLOR=red", "cannot be read: unknown parameter 'COLOR'"),
    ("FREQ=DAILY;UNTIL=20280101", "its UNTIL must be a UTC time ending in Z"),
    ("", "has no rule"),
    ("DTSTART:20270101T000000\nRRULE:FREQ=DAILY", "is more than one RRULE"),
    ("FREQ=SECONDLY", "runs more than once a minute"),
    ("FREQ=MINUTELY;BYSECOND=0,30", "runs more than once a minute"),
    ("FREQ=DAILY;" + "BYHOUR=1;" * 80, "at most 500"),
])
def test_a_rule_that_cannot_be_kept_is_refused_saying_what_is_wrong_and_how_to_write_one(rule, said):
    with pytest.raises(ScheduleError) as refused:
        schedule(rule, "UTC", now=at(2027, 1, 1))
    assert said in str(refused.value)
    if "FREQ" in said or "read" in said or "no rule" in said:
        assert "FREQ=DAILY;BYHOUR=6" in str(refused.value)       # an example to follow


@pytest.mark.parametrize("zone, said", [
    ("Europe/Pariss", "Did you mean Europe/Paris?"),
    ("Mars/Olympus", "There is no time zone 'Mars/Olympus'"),
    ("../../etc/passwd", "There is no time zone"),
])
def test_an_unknown_time_zone_is_refused_with_the_closest_real_one(zone, said):
    with pytest.raises(ScheduleError) as refused:
        schedule("FREQ=DAILY", zone, now=at(2027, 1, 1))
    assert said in str(refused.value)
    assert "IANA" in str(refused.value)


def test_an_end_before_the_start_is_refused():
    with pytest.raises(ScheduleError, match=r"ends \(2027-01-01T00:00:00\+01:00\) before it starts"):
        schedule("FREQ=DAILY", "Europe/Paris", start="2027-02-01", end="2027-01-01", now=at(2026, 12, 1))


def test_a_schedule_whose_every_run_is_past_is_refused():
    with pytest.raises(ScheduleError, match="has no run after now"):
        schedule("FREQ=DAILY;COUNT=3", "UTC", start="2027-01-01", now=at(2027, 2, 1, zone=UTC))
    with pytest.raises(ScheduleError, match="and before its end"):
        schedule("FREQ=DAILY", "UTC", start="2027-01-01", end="2027-01-05", now=at(2027, 2, 1, zone=UTC))


def test_a_start_that_is_not_a_date_or_more_than_a_year_ago_is_refused():
    with pytest.raises(ScheduleError, match="'tomorrow' is not a date and time"):
        schedule("FREQ=DAILY", "UTC", start="tomorrow", now=at(2027, 1, 1))
    with pytest.raises(ScheduleError, match="more than a year ago"):
        schedule("FREQ=DAILY", "UTC", start="2020-01-01", now=at(2027, 1, 1))
