"""`predbot batch add|list|run|cancel`: batch jobs from the terminal, whose user is the server's operator.

The operator may name any local file, sees every job whoever made it, and
`run` scores a job here, now, with a progress line, whatever its schedule.
A refusal is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.jobs import Job, JobError, Jobs


def batch(jobs: Jobs, args: argparse.Namespace, user: str) -> int:
    try:
        match args.action:
            case "add":
                return added(jobs.add(f"terminal:{user}", args.model, local=args.file, format=args.format,
                                      top_k=args.top_k, rrule=args.rrule, timezone=args.timezone, start=args.start,
                                      end=args.end, only_when_changed=args.only_when_changed))
            case "list":
                return listed(jobs.list())
            case "run":
                return ran(jobs, jobs.run(args.id, progress(args.id)), jobs.output_dir)
            case "cancel":
                jobs.cancel(args.id)
                print(f"{args.id}: cancelled; it runs no more.")
                return 0
    except JobError as error:
        print(f"predbot: {error.message}", file=sys.stderr)
        return 1
    return 2


def added(job: Job) -> int:
    when = (f"first at {moment(job.next_run)}" if job.schedule else "queued to run now")
    print(f"{job.id}: scores {job.source_name} with {job.model}, {when}. `predbot serve` runs it when due; "
          f"`predbot batch run {job.id}` runs it here.")
    return 0


def listed(found: list[Job]) -> int:
    if not found:
        print("No batch jobs. Add one with `predbot batch add MODEL FILE`.")
    for job in found:
        last = job.runs[-1] if job.runs else None
        runs = (f"{len(job.runs)} run{'s' if len(job.runs) != 1 else ''}, the last {last.status}, "
                f"{last.rows_done:,} rows" if last else "no runs yet")
        when = f"; next {moment(job.next_run)}" if job.next_run is not None else ""
        schedule = f" ({job.schedule.rule} in {job.schedule.timezone})" if job.schedule else ""
        print(f"{job.id}  {job.status.value:<9}  {job.model}  {job.source_name}{schedule}  {runs}{when}  "
              f"[{job.owner}]")
    return 0


def ran(jobs: Jobs, job: Job, output: Path) -> int:
    print(file=sys.stderr)          # ends the progress line
    last = job.runs[-1]
    if last.status != "done":
        print(f"predbot: run {last.number} of {job.id} {last.status}: {last.error}", file=sys.stderr)
        return 1
    reasons = ", ".join(f"{count} {label.replace('_', ' ')}" for label, count in last.reasons.items())
    print(f"Run {last.number} of {job.id}: {last.rows_done - (last.not_predicted or 0):,} of {last.rows_done:,} "
          f"rows predicted{f'; not: {reasons}' if reasons else ''}. Results: {output / job.id / last.output}")
    return 0


def progress(job_id: str) -> Callable[[int], None]:
    def show(rows: int) -> None:
        print(f"\r{job_id}: {rows:,} rows scored", end="", file=sys.stderr, flush=True)

    return show


def moment(seconds: float | None) -> str:
    return "never" if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
