"""When a job runs: an RFC 5545 recurrence rule read in a time zone, between a start and an end.

The rule is dateutil's (`FREQ=DAILY;BYHOUR=6`): its occurrences are wall-clock
times in the job's IANA time zone, so 06:00 stays 06:00 across a change to or
from summer time. A rule whose start is not given starts at midnight of the
day it was added, so that the minutes and seconds a rule does not name are
zero (FREQ=HOURLY runs on the hour), not those of the moment it was added.
A rule may not run more often than once a minute, nor start more than a
year ago: dateutil counts its occurrences from the start on every look.

Anything wrong is a ScheduleError saying what and how to write it instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice, pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrule, rrulestr

from scoring.problems import did_you_mean, shorten

MIN_INTERVAL = 60.0             # seconds between two runs, at least
LOOKED_AHEAD = 10               # occurrences checked against MIN_INTERVAL
MAX_RULE_CHARS = 500
OLDEST_START = timedelta(days=366)
EXAMPLE = "FREQ=DAILY;BYHOUR=6 (every day at 06:00) or FREQ=WEEKLY;BYDAY=MO;BYHOUR=7;BYMINUTE=30"


class ScheduleError(ValueError):
    """A schedule that cannot be kept; the message says why and how to write it."""


@dataclass(frozen=True)
class Schedule:
    rule: str                   # as given, without any "RRULE:"
    timezone: str
    start: datetime             # aware, in the time zone
    end: datetime | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def recurrence(self) -> rrule:
        return rrulestr(self.rule, dtstart=self.start)

    def after(self, moment: float, inclusive: bool = False) -> float | None:
        """The first occurrence after `moment` (seconds since the epoch; at it too when `inclusive`), or None."""
        found = self.recurrence().after(datetime.fromtimestamp(moment, self.zone), inc=inclusive)
        if found is None or (self.end is not None and found > self.end):
            return None
        return found.timestamp()


def schedule(rule: str, timezone: str = "UTC", start: datetime | str | None = None,
             end: datetime | str | None = None, now: float = 0.0) -> Schedule:
    """The schedule these describe, checked to have an occurrence after `now`; else a ScheduleError.

    `start` and `end` are datetimes or ISO 8601 text; one without a UTC offset is a time in `timezone`.
    """
    zone = time_zone(timezone)
    text = rule_text(rule)
    today = datetime.fromtimestamp(now, zone)
    begin = moment(start, zone, "start") or today.replace(hour=0, minute=0, second=0, microsecond=0)
    finish = moment(end, zone, "end")
    if finish is not None and finish <= begin:
        raise ScheduleError(f"The schedule ends ({finish.isoformat()}) before it starts ({begin.isoformat()}).")
    if begin < today - OLDEST_START:
        raise ScheduleError(f"The schedule starts more than a year ago ({begin.isoformat()}); start it this year.")
    found = Schedule(text, zone.key, begin, finish)
    recurrence = parsed(found)
    check_interval(recurrence, text)
    if found.after(now, inclusive=True) is None:
        raise ScheduleError(f"The schedule {shorten(text)} has no run after now"
                            f"{f' and before its end ({finish.isoformat()})' if finish else ''}: every time it "
                            "names is past. Change its COUNT, UNTIL or end.")
    return found


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = did_you_mean(name, sorted(available_timezones()))
        hint = f"Did you mean {close}? " if close else ""
        raise ScheduleError(f"There is no time zone {shorten(name)!r}. {hint}Name one from the IANA database, like "
                            "Europe/Paris, America/New_York or UTC.") from None


def rule_text(rule: str) -> str:
    """The rule without its optional "RRULE:"; one rule only (no DTSTART, EXRULE or second line)."""
    text = rule.strip()
    if len(text) > MAX_RULE_CHARS:
        raise ScheduleError(f"The schedule's rule is {len(text):,} characters long; a rule has at most "
                            f"{MAX_RULE_CHARS}. Write it as in RFC 5545, like {EXAMPLE}.")
    text = text.removeprefix("RRULE:").removeprefix("rrule:")
    if not text:
        raise ScheduleError(f"The schedule has no rule. Write one as in RFC 5545, like {EXAMPLE}.")
    if "\n" in text or "\r" in text or ":" in text:
        raise ScheduleError(f"The schedule's rule {shorten(text)!r} is more than one RRULE. Give one rule only, "
                            f"like {EXAMPLE}, and the start and end as fields of their own.")
    return text


def parsed(found: Schedule) -> rrule:
    try:
        return found.recurrence()
    except TypeError:          # dateutil's way of saying FREQ is missing
        reason = "it has no FREQ"
    except ValueError as error:
        reason = str(error)
        if "UNTIL" in reason:
            reason = "its UNTIL must be a UTC time ending in Z, like UNTIL=20271231T000000Z"
    raise ScheduleError(f"The schedule's rule {shorten(found.rule)!r} cannot be read: {reason}. Write it as in "
                        f"RFC 5545, like {EXAMPLE}.")


def check_interval(recurrence: rrule, text: str) -> None:
    times = [occurrence.timestamp() for occurrence in islice(recurrence, LOOKED_AHEAD)]
    if any(later - earlier < MIN_INTERVAL for earlier, later in pairwise(times)):
        raise ScheduleError(f"The schedule {shorten(text)!r} runs more than once a minute; a batch may run at most "
                            "once a minute, like FREQ=MINUTELY;INTERVAL=5.")


def moment(value: datetime | str | None, zone: ZoneInfo, what: str) -> datetime | None:
    """A datetime or ISO 8601 text as an aware time in `zone` (a time without an offset is one in `zone`)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ScheduleError(f"The schedule's {what} {shorten(value)!r} is not a date and time; write it like "
                                "2027-01-31T06:00 (in the schedule's time zone) or 2027-01-31T06:00+01:00.") from None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
