"""A batch job and its runs, as plain data; and JobError, the refusal that says what was wrong.

A job scores one input file with one model, once or on a schedule, writing
each run's results to a file of its own. Its status:

    scheduled   waiting for its schedule's next time
    queued      to run as soon as a process looks (added without a schedule, or `run now`)
    running     a process holds its lease and is scoring it
    done        its last run finished and nothing more is due
    failed      its last run could not score the file, and nothing more is due
    cancelled   it will not run again (a run in progress stops after the chunk it is on)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.jobs.schedule import Schedule


class Status(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Source(StrEnum):
    """Where a job's input is: a path under the input directory (the API's), a file uploaded with the job (kept
    under the output directory), or a local file the operator named at the terminal."""

    INPUT = "input"
    UPLOAD = "upload"
    LOCAL = "local"


class JobError(ValueError):
    """A job that cannot be added, found or run as asked; `message` is for people, `code` names the kind."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


@dataclass(frozen=True)
class Run:
    number: int                             # from 1
    status: str                             # running, done, failed or cancelled
    started: float                          # seconds since the epoch
    finished: float | None = None
    attempts: int = 1                       # more than 1: taken over after the process running it stopped
    rows_done: int = 0
    rows_total: int | None = None           # known for Parquet before the run, for CSV after it
    not_predicted: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None                # why the file was not scored
    output: str | None = None               # the result file's name, once written


@dataclass(frozen=True)
class Job:
    id: str
    owner: str
    model: str
    source_kind: Source
    source: str                             # relative to its directory, or absolute for a local file
    source_name: str                        # what its owner called it: never the server's directories
    format: str                             # csv or parquet
    top_k: int | None
    schedule: Schedule | None
    only_when_changed: bool
    status: Status
    next_run: float | None
    created: float
    skipped: int = 0
    runs: tuple[Run, ...] = ()

    def run(self, number: int) -> Run | None:
        return next((run for run in self.runs if run.number == number), None)
