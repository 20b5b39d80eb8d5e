"""The store's side of batch jobs: every statement that reads or changes the batch_jobs and batch_runs tables.

What replicas decide together is decided here, each by one conditional
UPDATE whose rowcount says who won (as bot.store.shared does), never by a
read followed by a write:

- a job is claimed by the process whose UPDATE still finds the version it
  read and no live lease on it: that process alone runs the tick, and the
  same statement moves `next_run` on to the tick after;
- a process running a job renews its lease while it scores; one whose
  process died lets its lease lapse, and the job is due again for anyone,
  who runs the same run again from the start (`attempts` counts them);
- a run ends by an UPDATE that only the lease's holder can make, so a process
  whose run was taken over writes nothing.

Times are seconds since the epoch from the Jobs' clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, case, func, or_, select, update

from bot.jobs.job import Job, Run, Source, Status
from bot.jobs.schedule import Schedule
from bot.store.engine import writing
from bot.store.tables import batch_jobs, batch_runs

LIVE = ("running",)


def insert(engine: Engine, values: dict[str, Any]) -> None:
    with writing(engine) as connection:
        connection.execute(batch_jobs.insert().values(version=0, skipped=0, **values))


def job(engine: Engine, job_id: str) -> Job | None:
    with engine.connect() as connection:
        found = connection.execute(select(batch_jobs).where(batch_jobs.c.job_id == job_id)).one_or_none()
        return None if found is None else jobs_of(connection, [found])[0]


def jobs(engine: Engine, owner: str | None = None) -> list[Job]:
    """Every job (of `owner`), oldest first."""
    query = select(batch_jobs).order_by(batch_jobs.c.created, batch_jobs.c.job_id)
    if owner is not None:
        query = query.where(batch_jobs.c.owner == owner)
    with engine.connect() as connection:
        return jobs_of(connection, connection.execute(query).all())


def jobs_of(connection: Connection, rows: Iterable[Row]) -> list[Job]:
    rows = list(rows)
    runs: dict[str, list[Run]] = {row.job_id: [] for row in rows}
    if runs:
        found = connection.execute(select(batch_runs).where(batch_runs.c.job_id.in_(list(runs)))
                                   .order_by(batch_runs.c.job_id, batch_runs.c.number))
        for run in found:
            runs[run.job_id].append(Run(run.number, run.status, run.started, run.finished, run.attempts,
                                        run.rows_done, run.rows_total, run.not_predicted, run.reasons or {},
                                        run.error, run.output))
    return [Job(row.job_id, row.owner, row.model, Source(row.source_kind), row.source, row.source_name, row.format,
                row.top_k, schedule_of(row), row.only_when_changed, Status(row.status), row.next_run, row.created,
                row.skipped, tuple(runs[row.job_id])) for row in rows]


def schedule_of(row: Row) -> Schedule | None:
    if row.rrule is None:
        return None
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(row.timezone)
    return Schedule(row.rrule, row.timezone, datetime.fromtimestamp(row.starts, zone),
                    None if row.ends is None else datetime.fromtimestamp(row.ends, zone))


def due(engine: Engine, now: float) -> list[Row]:
    """The jobs to run now, as read (a claim takes the version read): due and not being run, or being run by a
    process whose lease lapsed. Soonest first."""
    lapsed = batch_jobs.c.lease_until < now
    waiting = and_(batch_jobs.c.lease_until.is_(None), batch_jobs.c.next_run <= now)
    with engine.connect() as connection:
        return connection.execute(select(batch_jobs).where(batch_jobs.c.status != Status.CANCELLED.value,
                                                           or_(waiting, lapsed))
                                  .order_by(batch_jobs.c.next_run, batch_jobs.c.job_id)).all()


def claim(engine: Engine, seen: Row, owner: str, now: float, lease: float, next_run: float | None) -> int | None:
    """Take the job read as `seen` for `owner`, leased for `lease` seconds, moving its next run to `next_run`;
    the number of the run to make (a run whose lease lapsed is made again), or None when another process took
    it first or it changed since it was read."""
    with writing(engine) as connection:
        taken = connection.execute(
            update(batch_jobs).where(batch_jobs.c.job_id == seen.job_id, batch_jobs.c.version == seen.version,
                                     or_(batch_jobs.c.lease_until.is_(None), batch_jobs.c.lease_until < now))
            .values(version=batch_jobs.c.version + 1, lease_owner=owner, lease_until=now + lease,
                    status=Status.RUNNING.value, next_run=next_run)).rowcount
        if taken != 1:
            return None
        lapsed = connection.scalar(select(batch_runs.c.number).where(batch_runs.c.job_id == seen.job_id,
                                                                     batch_runs.c.status.in_(LIVE)))
        fresh = {"status": "running", "started": now, "finished": None, "rows_done": 0, "rows_total": None}
        if lapsed is not None:
            connection.execute(update(batch_runs).where(batch_runs.c.job_id == seen.job_id,
                                                        batch_runs.c.number == lapsed)
                               .values(attempts=batch_runs.c.attempts + 1, **fresh))
            return lapsed
        number = (connection.scalar(select(func.max(batch_runs.c.number))
                                    .where(batch_runs.c.job_id == seen.job_id)) or 0) + 1
        connection.execute(batch_runs.insert().values(job_id=seen.job_id, number=number, attempts=1, **fresh))
        return number


def skip(engine: Engine, seen: Row, now: float, next_run: float | None) -> bool:
    """Pass over the tick of the job read as `seen` (its input is as its last run that scored it read it), moving
    on to `next_run`; False when another process took the tick first. With no run left, the job is done."""
    with writing(engine) as connection:
        return connection.execute(
            update(batch_jobs).where(batch_jobs.c.job_id == seen.job_id, batch_jobs.c.version == seen.version,
                                     batch_jobs.c.lease_until.is_(None))
            .values(version=batch_jobs.c.version + 1, next_run=next_run, skipped=batch_jobs.c.skipped + 1,
                    status=waiting(now, next_run))).rowcount == 1


def waiting(now: float, next_run: float | None) -> str:
    """The status of a job that nothing runs, whose next run is `next_run`."""
    if next_run is None:
        return Status.DONE.value
    return (Status.QUEUED if next_run <= now else Status.SCHEDULED).value


def renew(engine: Engine, job_id: str, number: int, owner: str, now: float, lease: float,
          run: dict[str, Any]) -> bool:
    """Extend `owner`'s lease on the job and note how the run is going (`run`: rows_done, rows_total); False when
    the lease is no longer `owner`'s (taken over) or the job was cancelled: the run should stop."""
    with writing(engine) as connection:
        held = connection.execute(
            update(batch_jobs).where(batch_jobs.c.job_id == job_id, batch_jobs.c.lease_owner == owner,
                                     batch_jobs.c.status != Status.CANCELLED.value)
            .values(lease_until=now + lease)).rowcount == 1
        if held and run:
            connection.execute(update(batch_runs).where(batch_runs.c.job_id == job_id, batch_runs.c.number == number)
                               .values(**run))
        return held


def finish(engine: Engine, job_id: str, number: int, owner: str, now: float, run: dict[str, Any]) -> bool:
    """End `owner`'s run of the job with `run` (status, rows, error, output...), freeing the job; False (and
    nothing written) when the lease is no longer `owner`'s."""
    outcome = Status.DONE.value if run["status"] == "done" else Status.FAILED.value
    with writing(engine) as connection:
        changes: dict[str, Any] = {"version": batch_jobs.c.version + 1, "lease_owner": None, "lease_until": None,
                                   "status": settled(now, outcome)}
        if run["status"] == "done":
            changes["last_digest"] = run.get("digest")
        held = connection.execute(update(batch_jobs).where(batch_jobs.c.job_id == job_id,
                                                           batch_jobs.c.lease_owner == owner)
                                  .values(**changes)).rowcount == 1
        if held:
            connection.execute(update(batch_runs).where(batch_runs.c.job_id == job_id, batch_runs.c.number == number)
                               .values(finished=now, **run))
        return held


def settled(now: float, otherwise: Any) -> Any:
    """A job's status once nothing runs it: cancelled stays so; else queued or scheduled while a run is due
    (now, or later), else `otherwise` (the last run's outcome)."""
    return case((batch_jobs.c.status == Status.CANCELLED.value, Status.CANCELLED.value),
                (batch_jobs.c.next_run.is_(None), otherwise),
                (batch_jobs.c.next_run <= now, Status.QUEUED.value),
                else_=Status.SCHEDULED.value)


def run_now(engine: Engine, job_id: str, now: float) -> bool:
    """Make the job due now (a job being run runs again after); False when it is cancelled or not there."""
    with writing(engine) as connection:
        return connection.execute(
            update(batch_jobs).where(batch_jobs.c.job_id == job_id, batch_jobs.c.status != Status.CANCELLED.value)
            .values(version=batch_jobs.c.version + 1, next_run=now,
                    status=case((batch_jobs.c.lease_owner.is_(None), Status.QUEUED.value),
                                else_=batch_jobs.c.status))).rowcount == 1


def cancel(engine: Engine, job_id: str) -> None:
    """Nothing more is due; a run in progress stops when it next renews its lease."""
    with writing(engine) as connection:
        connection.execute(update(batch_jobs).where(batch_jobs.c.job_id == job_id)
                           .values(version=batch_jobs.c.version + 1, next_run=None, status=Status.CANCELLED.value))
