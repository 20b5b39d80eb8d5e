"""/v1/batches: files scored now or on a schedule (bot.jobs), each job its creator's.

A thin adapter over `Jobs`: a job is added from JSON naming a file under the
server's input directory, or from a multipart form whose `file` is the
input. The upload is streamed to disk as it arrives and refused (413) as soon
as it passes `Settings.max_upload_bytes`, without reading the rest. What
touches the disk or the store runs in a worker thread; the scoring itself
runs in `Jobs.serve`'s, never on the event loop. Another key's job is not
found (404), in the same words as one that is not there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from bot.http import keys
from bot.http.bodies import is_json, strict_json, within
from bot.http.context import Context, context_of
from bot.http.problems import Problem, invalid_request
from bot.http.schemas import problems
from bot.jobs import Job, JobError, Jobs, Run

router = APIRouter(prefix="/v1/batches", tags=["batches"])
Caller = Annotated[keys.Caller, Depends(keys.caller)]
Shared = Annotated[Context, Depends(context_of)]

MAX_FIELD_BYTES = 4096          # a form field other than the file
MAX_FIELDS = 20
FORM_OVERHEAD = 64 * 1024       # boundaries and fields beside the file, on top of the upload limit
SPOOL = ".uploads"              # under the output directory: an upload lands here, then moves beside its job
FIELDS = {"unknown_model": "model", "path_outside": "path", "no_input_directory": "path", "no_such_file": "path",
          "not_a_table": "file", "unreadable": "path", "bad_schedule": "schedule", "bad_format": "format",
          "bad_top_k": "top_k", "no_input": "path"}
STATUS = {"not_found": 404, "no_output": 404, "cancelled": 409, "busy": 409}
MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleRequest(Strict):
    rrule: str = Field(max_length=500, examples=["FREQ=DAILY;BYHOUR=6"],
                       description="When it runs: an RFC 5545 recurrence rule, at most once a minute.")
    timezone: str = Field("UTC", max_length=100, description="The IANA time zone the rule's times are in.")
    start: datetime | None = Field(None, description="From when (default: midnight of today); without an offset, "
                                                     "a time in `timezone`.")
    end: datetime | None = Field(None, description="Until when (default: as long as the rule runs).")


class BatchRequest(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"model": "churn", "path": "daily/customers.csv", "format": "parquet",
         "schedule": {"rrule": "FREQ=DAILY;BYHOUR=6", "timezone": "Europe/Paris"}, "only_when_changed": True}]})

    model: str | None = Field(None, max_length=200, description="The model (default: the server's default one).")
    path: str | None = Field(None, max_length=1000, description="The input, relative to the server's batch input "
                                                                "directory; a multipart request sends `file` instead.")
    format: Literal["csv", "parquet"] = Field("csv", description="How the results are written.")
    schedule: ScheduleRequest | None = Field(None, description="Without one, the job runs once, now.")
    only_when_changed: bool = Field(False, description="Skip a scheduled run whose input is as the last run read it.")
    top_k: int | None = Field(None, ge=1, le=20, description="Drivers per row (default: the model card's).")


class ScheduleView(BaseModel):
    rrule: str
    timezone: str
    start: datetime
    end: datetime | None


class RunView(BaseModel):
    number: int = Field(description="Counted from 1.")
    status: str = Field(description="running, done, failed or cancelled.")
    started: datetime
    finished: datetime | None
    attempts: int = Field(description="More than 1 when a run was taken over after the process running it stopped.")
    rows_done: int
    rows_total: int | None = Field(description="Known for Parquet from the start, for CSV once the run is done.")
    rows_not_predicted: int | None
    not_predicted_reasons: dict[str, int] = Field(description="Why rows were not predicted: kind -> rows.")
    error: str | None = Field(description="Why the file was not scored.")
    output: str | None = Field(description="The result file's name, once written.")
    output_url: str | None = Field(description="Where to download it.")


class BatchView(BaseModel):
    id: str
    model: str
    input: str = Field(description="The input, as its creator named it.")
    format: str
    top_k: int | None
    schedule: ScheduleView | None
    only_when_changed: bool
    status: str = Field(description="scheduled, queued, running, done, failed or cancelled.")
    next_run: datetime | None
    created: datetime
    skipped_runs: int = Field(description="Scheduled runs skipped because the input had not changed.")
    runs: list[RunView]


class BatchList(BaseModel):
    batches: list[BatchView]


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its `$defs` put where they are referred to: the body is read by the route itself, so
    FastAPI does not list its models among the document's components."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        return [resolve(item) for item in node] if isinstance(node, list) else node

    return resolve(schema)


@router.post("", status_code=201, response_model=BatchView, responses=problems(400, 401, 403, 404, 413, 415, 429),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": inlined(BatchRequest.model_json_schema())},
                 "multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"], "properties": {
                         "file": {"type": "string", "format": "binary", "description": "A CSV or Parquet file."},
                         "model": {"type": "string"}, "format": {"type": "string", "enum": ["csv", "parquet"]},
                         "rrule": {"type": "string"}, "timezone": {"type": "string"},
                         "start": {"type": "string", "format": "date-time"},
                         "end": {"type": "string", "format": "date-time"},
                         "only_when_changed": {"type": "boolean"}, "top_k": {"type": "integer"}}}}}}})
async def create(request: Request, caller: Caller, context: Shared) -> dict[str, Any]:
    """Score a file now, or on a schedule: JSON naming a file under the server's input directory, or a
    multipart form with the file itself (`file`) and the same fields (the schedule's as rrule, timezone, start,
    end)."""
    jobs = served(context)
    upload, filename = None, ""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media == "multipart/form-data":
        spool = jobs.output_dir / SPOOL
        fields, upload, filename = await read_form(request, context.settings.max_upload_bytes, spool)
        given = form_request(fields)
    elif is_json(media):
        given = strict_json(await within(request, context.settings.max_body_bytes))
    else:
        raise Problem(415, "Send the job as JSON (`Content-Type: application/json`), or as multipart/form-data with "
                           "the file as `file`.", "unsupported_media_type")
    try:
        asked = BatchRequest.model_validate(given)
        model = asked.model or context.answerer.bot.registry.default_name or ""
        caller.check(model)
        if upload is not None and asked.path is not None:
            raise Problem(400, "Send the file or name a `path`, not both.", "two_inputs",
                          [{"field": "path", "message": "A request with a file names no path."}])
        when = asked.schedule
        job = await asyncio.to_thread(
            jobs.add, owner(caller), asked.model, path=asked.path, upload=upload, filename=filename,
            format=asked.format, top_k=asked.top_k, rrule=when and when.rrule,
            timezone=when.timezone if when else "UTC", start=when and when.start, end=when and when.end,
            only_when_changed=asked.only_when_changed)
    except ValidationError as error:
        raise invalid_request([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None
    except JobError as error:
        raise problem(error) from None
    finally:
        if upload is not None:
            upload.unlink(missing_ok=True)      # moved beside its job when added
    return view(job, request)


@router.get("", response_model=BatchList, responses=problems(401, 403, 429))
async def listing(request: Request, caller: Caller, context: Shared) -> dict[str, Any]:
    """This key's batch jobs, oldest first."""
    found = await asyncio.to_thread(served(context).list, owner(caller))
    return {"batches": [view(job, request) for job in found]}


@router.get("/{job_id}", response_model=BatchView, responses=problems(401, 403, 404, 429))
async def batch(job_id: str, request: Request, caller: Caller, context: Shared) -> dict[str, Any]:
    """A job: its status, its runs (rows done, rows not predicted and why, errors) and their result files."""
    return view(await mine(served(context), job_id, caller), request)


@router.post("/{job_id}/run", status_code=202, response_model=BatchView, responses=problems(401, 403, 404, 409, 429))
async def run_now(job_id: str, request: Request, caller: Caller, context: Shared) -> dict[str, Any]:
    """Run it as soon as a server is free, whatever its schedule (which goes on after)."""
    jobs = served(context)
    caller.check((await mine(jobs, job_id, caller)).model)
    return view(await act(jobs.run_now, job_id, caller), request)


@router.delete("/{job_id}", response_model=BatchView, responses=problems(401, 403, 404, 429))
async def cancel(job_id: str, request: Request, caller: Caller, context: Shared) -> dict[str, Any]:
    """Run it no more; a run in progress stops after the chunk it is on, and keeps no result."""
    return view(await act(served(context).cancel, job_id, caller), request)


@router.get("/{job_id}/runs/{number}/output", response_class=FileResponse,
            responses={200: {"description": "The results, as CSV or Parquet.",
                             "content": {media: {} for media in MEDIA.values()}}, **problems(401, 403, 404, 429)})
async def output(job_id: str, number: int, caller: Caller, context: Shared) -> FileResponse:
    """A run's results: every input column, then predictions, probabilities, drivers and why a row was not
    predicted."""
    jobs = served(context)
    try:
        path, name = await asyncio.to_thread(jobs.output, job_id, number, owner(caller))
    except JobError as error:
        raise problem(error) from None
    return FileResponse(path, filename=name, media_type=MEDIA.get(path.suffix.lstrip("."), "text/csv"))


def served(context: Context) -> Jobs:
    if context.jobs is None:
        raise Problem(503, "This server runs no batch jobs.", "batches_off")
    return context.jobs


def owner(caller: keys.Caller) -> str:
    """Whose a job is: the key's name, kept apart from the terminal's users."""
    return f"api:{caller.name}"


async def mine(jobs: Jobs, job_id: str, caller: keys.Caller) -> Job:
    """The caller's job by that id; else a 404."""
    found = await asyncio.to_thread(jobs.get, job_id, owner(caller))
    if found is None:
        raise problem(JobError("", "not_found"))
    return found


async def act(step: Any, job_id: str, caller: keys.Caller) -> Job:
    """`step(job_id, owner)` in a worker thread, a JobError as a problem."""
    try:
        return await asyncio.to_thread(step, job_id, owner(caller))
    except JobError as error:
        raise problem(error) from None


def problem(error: JobError) -> Problem:
    status = STATUS.get(error.code, 400)
    if status == 404 and error.code == "not_found":
        return Problem(404, "There is no batch job by that id made with this API key.", "unknown_batch")
    field = FIELDS.get(error.code)
    return Problem(status, error.message, error.code, [{"field": field, "message": error.message}] if field else ())


def view(job: Job, request: Request) -> dict[str, Any]:
    when = job.schedule
    return {"id": job.id, "model": job.model, "input": job.source_name, "format": job.format, "top_k": job.top_k,
            "schedule": None if when is None else {"rrule": when.rule, "timezone": when.timezone,
                                                   "start": when.start, "end": when.end},
            "only_when_changed": job.only_when_changed, "status": job.status.value, "next_run": moment(job.next_run),
            "created": moment(job.created), "skipped_runs": job.skipped,
            "runs": [run_view(job, run, request) for run in job.runs]}


def run_view(job: Job, run: Run, request: Request) -> dict[str, Any]:
    url = str(request.url_for("output", job_id=job.id, number=str(run.number))) if run.output else None
    return {"number": run.number, "status": run.status, "started": moment(run.started),
            "finished": moment(run.finished), "attempts": run.attempts, "rows_done": run.rows_done,
            "rows_total": run.rows_total, "rows_not_predicted": run.not_predicted,
            "not_predicted_reasons": run.reasons, "error": run.error, "output": run.output, "output_url": url}


def moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def form_request(fields: dict[str, str]) -> dict[str, Any]:
    """A form's fields as a BatchRequest's: rrule, timezone, start and end make the schedule."""
    given: dict[str, Any] = {name: value for name, value in fields.items() if value != ""}
    schedule = {name: given.pop(name) for name in ("rrule", "timezone", "start", "end") if name in given}
    if schedule:
        given["schedule"] = schedule
    return given


async def read_form(request: Request, limit: int, spool: Path) -> tuple[dict[str, str], Path | None, str]:
    """A multipart form's text fields, its `file` streamed to a new file under `spool`, and that file's name as
    sent; a 413 as soon as the file passes `limit` bytes (or Content-Length says it will), reading no more."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large(limit)
    boundary = parse_options_header(request.headers.get("content-type", ""))[1].get(b"boundary")
    if not boundary:
        raise Problem(400, "The multipart body has no boundary in its Content-Type.", "malformed_form")
    await asyncio.to_thread(spool.mkdir, parents=True, exist_ok=True)
    form = Form(spool / f"{secrets.token_hex(8)}.part", limit)
    parser = MultipartParser(boundary, form.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            await form.flush()
        parser.finalize()
        await form.flush()
    except MultipartParseError:
        form.discard()
        raise Problem(400, "The body is not a multipart form a server can read.", "malformed_form") from None
    except BaseException:
        form.discard()
        raise
    finally:
        form.close()
    if form.filename is None:
        form.discard()
        raise Problem(400, "The form has no file: send the input as a field named `file`.", "no_file",
                      [{"field": "file", "message": "Missing."}])
    return form.fields, form.path, form.filename


def too_large(limit: int) -> Problem:
    return Problem(413, f"The file is larger than the {limit:,} bytes an upload may be. Put it in the server's "
                        "batch input directory and name its `path`, or split it.", "upload_too_large")


class Form:
    """What MultipartParser's callbacks hear, kept: text fields in memory (bounded), the file's bytes queued to be
    written by `flush` in a worker thread."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self._file: IO[bytes] | None = None
        self._queued: list[bytes] = []
        self._size = 0
        self._header = self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._text: bytearray | None = None

    def callbacks(self) -> dict[str, Any]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data,
                "on_part_end": self._end}

    def _begin(self) -> None:
        self._headers, self._name, self._text = {}, None, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header.lower()] = self._value
        self._header = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file" and b"filename" in options:
            if self.filename is not None:
                raise Problem(400, "The form has more than one file; send one per job.", "two_files")
            self.filename = options[b"filename"].decode("utf-8", "replace")
            self._file = open(self.path, "xb")      # closed by close(), after the last flush
        elif len(self.fields) >= MAX_FIELDS:
            raise Problem(400, f"The form has more than {MAX_FIELDS} fields.", "malformed_form")
        else:
            self._text = bytearray()

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._text is not None:
            self._text += data[start:end]
            if len(self._text) > MAX_FIELD_BYTES:
                raise Problem(413, f"The form field {self._name!r} is longer than {MAX_FIELD_BYTES:,} bytes.",
                              "field_too_large")
            return
        self._size += end - start
        if self._size > self.limit:
            raise too_large(self.limit)
        self._queued.append(data[start:end])

    def _end(self) -> None:
        if self._text is not None and self._name:
            self.fields[self._name] = self._text.decode("utf-8", "replace")
        self._text = None

    async def flush(self) -> None:
        if self._queued and self._file is not None:
            queued, self._queued = b"".join(self._queued), []
            await asyncio.to_thread(self._file.write, queued)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
