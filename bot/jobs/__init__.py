"""Batch jobs: a CSV or Parquet file scored with a model now, or on a schedule, by whichever replica is free.

`Jobs` is what the HTTP API, the `predbot batch` command and `predbot serve`
use. Jobs live in the store (records.py), so they survive restarts and every
replica sees the same ones; each tick of a job is run once across replicas,
by the process whose claim won, which holds a lease while it scores (renewed
by a heartbeat) and writes its progress as chunks finish. A process that
dies lets its lease lapse; any replica then runs that run again.

    schedule.py   RRULE + time zone + start/end -> the next time a job is due
    sources.py    where a job's input is and whether it may be read
    run.py        one run: the input scored into a result file, as `predbot score` does
    records.py    the store's statements, each decision one conditional UPDATE
    job.py        Job, Run, Status and JobError (a refusal in words)

Scoring runs on the caller's thread: `serve` runs `tick` in a worker thread,
so the event loop never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import SQLAlchemyError

from bot.jobs import records, run, sources
from bot.jobs.job import Job, JobError, Run, Source, Status
from bot.jobs.schedule import Schedule, ScheduleError, schedule
from bot.store import Store
from scoring.batch import CHUNK_ROWS
from scoring.problems import Problem
from scoring.registry import Registry

__all__ = ["Job", "JobError", "Jobs", "Run", "Schedule", "Source", "Status", "new_job_id"]

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0        # a run whose process stops renewing is taken over after this
MAX_TOP_K = 20
APOLOGY = "Something went wrong on our side while scoring it; the server's log has the details."


def new_job_id() -> str:
    """80 random bits, in hex: unguessable, and never starting with `-`, which a command line would take for an
    option (`predbot batch run -x...`)."""
    return secrets.token_hex(10)


class Jobs:
    def __init__(self, store: Store, registry: Registry, input_dir: Path | None, output_dir: Path,
                 clock: Callable[[], float] = time.time, owner_id: str | None = None,
                 lease: float = LEASE_SECONDS, chunk_rows: int = CHUNK_ROWS) -> None:
        self.engine, self.registry = store.engine, registry
        self.chunk_rows = chunk_rows             # scored, and progress written, at a time
        self.input_dir, self.output_dir = input_dir, output_dir
        self.clock, self.lease = clock, lease
        self.owner_id = owner_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.stopping = threading.Event()       # set when `serve` stops: a run in progress ends after its chunk
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    # --- what people ask for ------------------------------------------------------------------------------------

    def add(self, owner: str, model: str | None, *, path: str | None = None, local: Path | None = None,
            upload: Path | None = None, filename: str = "", format: str = "csv", top_k: int | None = None,
            rrule: str | None = None, timezone: str = "UTC", start: datetime | str | None = None,
            end: datetime | str | None = None, only_when_changed: bool = False) -> Job:
        """A new job of `owner`'s scoring one input with `model` (None: the default): `path` under the input
        directory, a `local` file anywhere (the terminal's), or an `upload` (a file already on disk, called
        `filename`, moved under the output directory). Without `rrule` it is queued to run at once.
        Anything wrong is a JobError."""
        found = self.registry.get(model)
        if isinstance(found, Problem):
            raise JobError(found.message, "unknown_model")
        if format not in ("csv", "parquet"):
            raise JobError(f"The results can be written as csv or parquet, not {format!r}.", "bad_format")
        if top_k is not None and not 1 <= top_k <= MAX_TOP_K:
            raise JobError(f"top_k is the drivers shown per row: from 1 to {MAX_TOP_K}.", "bad_top_k")
        now = self.clock()
        when = self._schedule(rrule, timezone, start, end, now)
        kind, source, name = self._source(path, local, upload, filename, scheduled=when is not None)
        job_id = new_job_id()
        if kind is Source.UPLOAD:
            source = self._keep_upload(job_id, Path(source), name)
        records.insert(self.engine, {
            "job_id": job_id, "owner": owner, "model": found.name, "source_kind": kind.value, "source": source,
            "source_name": name, "format": format, "top_k": top_k, "rrule": when and when.rule,
            "timezone": when and when.timezone, "starts": when and when.start.timestamp(),
            "ends": when and when.end and when.end.timestamp(), "only_when_changed": only_when_changed,
            "status": (Status.SCHEDULED if when else Status.QUEUED).value,
            "next_run": when.after(now, inclusive=True) if when else now, "created": now})
        self.wake()
        return self._found(job_id)

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        """The job, if there is one by that id (and it is `owner`'s, when given)."""
        found = records.job(self.engine, job_id)
        return found if found is not None and owner in (None, found.owner) else None

    def list(self, owner: str | None = None) -> list[Job]:
        """Every job (of `owner`), oldest first."""
        return records.jobs(self.engine, owner)

    def cancel(self, job_id: str, owner: str | None = None) -> Job:
        """Run it no more; a run in progress stops after the chunk it is on."""
        self._found(job_id, owner)
        records.cancel(self.engine, job_id)
        return self._found(job_id)

    def run_now(self, job_id: str, owner: str | None = None) -> Job:
        """Make it due now (a job being run runs again once done); its schedule, if any, goes on after."""
        self._found(job_id, owner)
        if not records.run_now(self.engine, job_id, self.clock()):
            raise JobError("The job is cancelled, so it runs no more; add it again.", "cancelled")
        self.wake()
        return self._found(job_id)

    def output(self, job_id: str, number: int, owner: str | None = None) -> tuple[Path, str]:
        """The result file of run `number`, and its name."""
        found = self._found(job_id, owner).run(number)
        if found is None or found.output is None:
            raise JobError(f"Run {number} of the job has no results{'' if found is None else ' (yet)'}.", "no_output")
        path = self.output_dir / job_id / found.output
        if not path.is_file():
            raise JobError(f"The results of run {number} are no longer kept.", "no_output")
        return path, found.output

    # --- running what is due ----------------------------------------------------------------------------------

    def due(self, now: float | None = None) -> list[Job]:
        """The jobs due at `now` (default: the clock's), and those whose run lapsed."""
        rows = records.due(self.engine, self.clock() if now is None else now)
        return [job for row in rows if (job := self.get(row.job_id)) is not None]

    def tick(self) -> list[Job]:
        """Claim and run, one after another, every job due now that no other process claims first; each as it
        stands after its run (or its skipped tick)."""
        ran: list[Job] = []
        while not self.stopping.is_set():
            outcome = next((job for row in records.due(self.engine, self.clock()) if (job := self._take(row))), None)
            if outcome is None:
                break
            ran.append(outcome)
        return ran

    def run(self, job_id: str, progress: Callable[[int], None] | None = None, owner: str | None = None) -> Job:
        """Run the job here and now, whatever its schedule (`predbot batch run`); `progress` hears the rows done."""
        self.run_now(job_id, owner)
        row = next((row for row in records.due(self.engine, self.clock()) if row.job_id == job_id), None)
        taken = self._take(row, progress, skip=False) if row is not None else None
        if taken is None:
            raise JobError("Another process is running the job now; see its progress with `predbot batch list`.",
                           "busy")
        return taken

    async def serve(self, interval: float) -> None:
        """Every `interval` seconds (sooner when a job is added or run now), run what is due, in a worker thread.
        Cancelling it stops the run in progress after its chunk, and leaves it to be taken over after its lease."""
        self._wake = (asyncio.get_running_loop(), asyncio.Event())
        try:
            while True:
                await asyncio.to_thread(self._tick_logged)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake[1].wait(), interval)
                self._wake[1].clear()
        finally:
            self.stopping.set()
            self._wake = None

    def wake(self) -> None:
        """Have `serve` look for due jobs now (from any thread)."""
        if self._wake is not None:
            loop, event = self._wake
            with contextlib.suppress(RuntimeError):        # its loop has closed
                loop.call_soon_threadsafe(event.set)

    # --- the parts ----------------------------------------------------------------------------------------------

    def _tick_logged(self) -> None:
        try:
            self.tick()
        except SQLAlchemyError as error:
            log.warning("batch jobs not run this time: the store failed (%s)", type(error).__name__)
        except Exception:       # the loop goes on: the next tick may find the job, or the store, well
            log.exception("batch jobs not run this time")

    def _take(self, row: Row, progress: Callable[[int], None] | None = None, skip: bool = True) -> Job | None:
        """Claim the job read as `row` and run it (or skip its tick); None when another process claimed it."""
        now = self.clock()
        takeover = row.lease_until is not None
        following = row.next_run if takeover else self._following(row, now)
        scheduled = row.status == Status.SCHEDULED.value        # a tick of its schedule, not a `run now`
        if skip and scheduled and row.only_when_changed and row.last_digest is not None:
            if self._digest(self._found(row.job_id)) == row.last_digest:
                return self.get(row.job_id) if records.skip(self.engine, row, now, following) else None
        number = records.claim(self.engine, row, self.owner_id, now, self.lease, following)
        if number is None:
            return None
        if takeover:
            log.info("batch job %s: run %d taken over after its lease lapsed", row.job_id, number)
        self._run(self._found(row.job_id), number, progress)
        return self.get(row.job_id)

    def _digest(self, job: Job) -> str | None:
        try:
            return sources.digest(self._input(job))
        except JobError:        # the run says why
            return None

    def _following(self, row: Row, now: float) -> float | None:
        when = records.schedule_of(row)
        return None if when is None else when.after(now)

    def _run(self, job: Job, number: int, progress: Callable[[int], None] | None) -> None:
        lost = threading.Event()
        done: dict[str, Any] = {}

        def renew(**values: Any) -> None:
            if lost.is_set() or self.stopping.is_set():
                raise run.Stopped
            if not records.renew(self.engine, job.id, number, self.owner_id, self.clock(), self.lease, values):
                lost.set()
                raise run.Stopped

        def noted(rows: int, total: int | None) -> None:
            renew(rows_done=rows, **({} if total is None else {"rows_total": total}))
            if progress:
                progress(rows)

        heartbeat = Heartbeat(lambda: renew(), self.lease / 3)
        try:
            with heartbeat:
                done = self._score(job, number, noted, lambda: not lost.is_set() and not heartbeat.failed)
        except run.Stopped:
            if self.stopping.is_set() and not lost.is_set():
                log.info("batch job %s: run %d left for another process to take over", job.id, number)
                return
            done = {"status": "cancelled", "error": "The job was cancelled while it ran."}
        except Exception:
            log.exception("batch job %s: run %d failed", job.id, number)
            done = {"status": "failed", "error": APOLOGY}
        if not records.finish(self.engine, job.id, number, self.owner_id, self.clock(), done):
            log.info("batch job %s: run %d was taken over; its results here are dropped", job.id, number)

    def _score(self, job: Job, number: int, progress: run.Progress, keep: Callable[[], bool]) -> dict[str, Any]:
        """The run's outcome as the columns of batch_runs."""
        model = self.registry.get(job.model)
        if isinstance(model, Problem):
            return {"status": "failed", "error": model.message}
        try:
            source = self._input(job)
        except JobError as error:
            return {"status": "failed", "error": error.message}
        digest = sources.digest(source)
        target = self.output_dir / job.id / result_name(job, number)
        scored = run.score(model, source, target, job.source_name, job.top_k, progress, keep, self.chunk_rows)
        if scored.error:
            return {"status": "failed", "error": scored.error, "rows_done": scored.rows}
        return {"status": "done", "rows_done": scored.rows, "rows_total": scored.rows,
                "not_predicted": scored.rejected, "reasons": scored.reasons, "digest": digest, "output": target.name}

    def _input(self, job: Job) -> Path:
        """The job's input file now (a path under the input directory is checked again: links may have changed)."""
        match job.source_kind:
            case Source.INPUT:
                return sources.under(self.input_dir, job.source)
            case Source.UPLOAD:
                return self.output_dir / job.source
        return Path(job.source)

    def _schedule(self, rrule: str | None, timezone: str, start: datetime | str | None,
                  end: datetime | str | None, now: float) -> Schedule | None:
        if rrule is None or not rrule.strip():
            if start or end:
                raise JobError("A start or end is for a schedule: give its rule too (rrule), like "
                               "FREQ=DAILY;BYHOUR=6.", "bad_schedule")
            return None
        try:
            return schedule(rrule, timezone or "UTC", start, end, now)
        except ScheduleError as error:
            raise JobError(str(error), "bad_schedule") from None

    def _source(self, path: str | None, local: Path | None, upload: Path | None, filename: str,
                scheduled: bool) -> tuple[Source, str, str]:
        """The input's kind, where it is (as kept) and what its owner calls it; checked as far as it can be now.
        A scheduled job's file may appear later; a job to run now needs it now."""
        if sum(given is not None for given in (path, local, upload)) != 1:
            raise JobError("Name one input: a path under the input directory, or upload the file.", "no_input")
        if upload is not None:
            name = sources.upload_name(filename)
            sources.format_of(name)
            sources.check_contents(upload, name)
            return Source.UPLOAD, str(upload), name
        kind, name = (Source.INPUT, path) if path is not None else (Source.LOCAL, str(local))
        found = sources.under(self.input_dir, path) if path is not None else Path(local).resolve()
        sources.format_of(name)
        if found.exists():
            sources.check_contents(found, name)
        elif not scheduled:
            raise JobError(f"There is no file {name!r} to score; name one that is there now, or give a schedule "
                           "to score it when it is.", "no_such_file")
        return kind, path if path is not None else str(found), name

    def _keep_upload(self, job_id: str, upload: Path, name: str) -> str:
        """Move the uploaded file beside the job's results; where it is, relative to the output directory."""
        kept = Path(job_id) / f"input{Path(name).suffix.lower()}"
        (self.output_dir / job_id).mkdir(parents=True, exist_ok=True)
        os.replace(upload, self.output_dir / kept)
        return str(kept)

    def _found(self, job_id: str, owner: str | None = None) -> Job:
        found = self.get(job_id, owner)
        if found is None:
            raise JobError(f"There is no batch job {job_id[:40]!r}{' of yours' if owner else ''}.", "not_found")
        return found


def result_name(job: Job, number: int) -> str:
    """`customers-churn-3.csv`: what was scored, with which model, which run."""
    stem = sources.upload_name(Path(job.source_name).stem) or "batch"
    return f"{stem}-{job.model}-{number}.{job.format}"


class Heartbeat:
    """Calls `beat` every `every` seconds in a thread of its own while the block runs; `failed` once it raised."""

    def __init__(self, beat: Callable[[], None], every: float) -> None:
        self.beat, self.every = beat, every
        self.failed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="batch-lease", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except run.Stopped:
                self.failed = True
                return
            except SQLAlchemyError as error:
                log.warning("batch lease not renewed: the store failed (%s)", type(error).__name__)
