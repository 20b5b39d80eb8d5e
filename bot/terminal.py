"""The terminal channel: an interactive chat, and `predbot score` with a progress bar."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bot.config import ConfigError
from bot.core import Bot, batch_reply, commands, look_up
from bot.files import replaced
from bot.render.text import render
from bot.reply import Reply, ScoredFile, Sender
from scoring.batch import BatchError, BatchSummary, CsvOutput, CsvTable, Output, Plan, Table, plan
from scoring.model import Model
from scoring.parallel import score_rows
from scoring.parquet import ParquetOutput, ParquetTable, is_parquet, output_schema
from scoring.problems import Problem
from scoring.registry import Registry
from scoring.workers import ModelRef

if TYPE_CHECKING:
    from tqdm import tqdm

GREETING = """predbot: ask me for predictions. Try:
  {example}
  models · schema · explain · history · help       (Ctrl-D or `quit` to leave)"""


def chat(bot: Bot, as_json: bool = False, *, history: Path, user: str) -> int:
    """A read-answer loop with line editing and history kept in `history` (readline) when on a terminal;
    `user` is who the messages come from."""
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history(history)
    sender = Sender.terminal(user, session=uuid.uuid4().hex)      # this run is the conversation follow-ups build on
    if not as_json:
        print(GREETING.format(example=greeting_example(bot)))
    while True:
        try:
            text = input("> " if interactive else "")
        except EOFError:
            break
        except KeyboardInterrupt:
            print()
            continue
        if text.strip().lower() in {"quit", "exit", "bye"}:
            break
        if not text.strip():
            continue
        asked, left_over = commands(text)      # a paste may hold several
        for answer in chain((bot.handle(command, sender) for command in asked), [left_over] if left_over else []):
            print(json.dumps(answer.to_dict()) if as_json else render(answer), flush=True)
    if interactive:
        _save_history(history)
    return 0


def greeting_example(bot: Bot) -> str:
    default = bot.registry.get(None)
    if isinstance(default, Problem):
        return "models"
    return "predict: age=45, income=60000" if default.name == "churn" else bot.schema(None).body.example


def _enable_history(history: Path) -> None:
    import readline

    try:
        readline.read_history_file(history)
    except OSError:
        pass
    readline.set_history_length(1000)


def _save_history(history: Path) -> None:
    import readline

    try:
        readline.write_history_file(history)
    except OSError:
        pass


@dataclass(frozen=True)
class Scoring:
    """How `predbot score` scores: --top-k, --map, --decimal, --jobs, --no-drivers, --engine and --scheduler."""

    top_k: int | None = None
    renames: dict[str, str] = field(default_factory=dict)
    decimal: str | None = None
    jobs: int = 1
    drivers: bool = True
    engine: str = "local"
    scheduler: str | None = None


def score_file(registry: Registry, source: Path, output: Path | None, name: str | None,
               how: Scoring = Scoring()) -> int:
    """`predbot score`: results to `output` (else stdout), and to stderr the answer a CSV sent in chat gets.

    The chat's size limits are for attachments; a file scored here may be any size. A scheduler that cannot
    be reached is a ConfigError (one line, exit 2).
    """
    model = look_up(registry, name)
    try:
        if isinstance(model, Reply):
            answer = model
        else:
            ref = ModelRef.of(model, registry.directory, registry.require_pins)
            scored = (score_on_dask(model, ref, source, output, how) if how.engine == "dask"
                      else score_path(model, ref, source, output, how))
            answer = batch_reply(model, [scored])
    except KeyboardInterrupt:
        kept = f"; {output} is as it was" if output else ""
        print(f"{source}: stopped (Ctrl-C){kept}.", file=sys.stderr)
        return 130
    print(render(answer), file=sys.stderr)
    return 0 if answer.ok else 1


def score_path(model: Model, ref: ModelRef, source: Path, output: Path | None, how: Scoring = Scoring()) -> ScoredFile:
    """`source` (CSV, or Parquet by its suffix) scored into `output` (else stdout; Parquet by its suffix), with a
    progress bar on a terminal; in `how.jobs` worker processes that load the model `ref` names.

    The results go to a new file beside `output`, renamed over it only once
    the whole file has scored: a run that fails, or is interrupted, leaves
    an existing `output` as it was.
    """
    try:
        handle = source.open("rb")
    except OSError as error:
        return ScoredFile(str(source), error=f"It cannot be read: {error.strerror}.")
    parquet_out = output is not None and is_parquet(output)
    with ExitStack() as stack:
        stack.enter_context(handle)
        bar = row_bar(stack, source, count_rows(source)) if sys.stderr.isatty() else None
        progress = None if bar is None else (lambda rows: bar.update(rows - bar.n))

        def scored_into(destination: Path | IO[str]) -> ScoredFile:
            try:
                table: Table = ParquetTable(handle) if is_parquet(source) else CsvTable(handle, how.decimal)
                planned, summary = plan(model, table, how.renames, how.top_k, how.drivers)
                with opened_output(destination, parquet_out, table, model, planned) as out:
                    score_rows(model, ref, planned, table.rows(), out, summary, how.jobs, progress)
            except BatchError as error:
                return ScoredFile(str(source), error=str(error))
            return scored_file(str(source), summary, str(output) if output else None)

        if output is None:
            scored = scored_into(sys.stdout)
        else:
            try:
                scored = replacing(output, scored_into)
            except OSError as error:    # not for stdout: a closed pipe there is cli.main's to handle
                scored = ScoredFile(str(source), error=f"It could not be scored into {output}: {error.strerror}.")
        if bar is not None and not scored.error:
            bar.total = bar.n       # the count it started from was an estimate
            bar.refresh()
    return scored


def score_on_dask(model: Model, ref: ModelRef, pattern: Path, output: Path | None, how: Scoring) -> ScoredFile:
    """The files `pattern` names scored on Dask (scoring.dask_engine) into `output`: one CSV file, or a directory
    of Parquet parts for a name ending in .parquet; swapped in for an existing `output` only once complete."""
    from scoring.dask_engine import Unreachable, score_dask

    if output is None or output.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError("--engine dask writes its results to -o FILE.csv, or -o DIR.parquet for a directory of "
                          "Parquet parts")
    parquet_out = is_parquet(output)
    with ExitStack() as stack:
        bar = row_bar(stack, pattern, None) if sys.stderr.isatty() else None
        progress = None if bar is None else (lambda rows: bar.update(rows - bar.n))

        def scored_into(destination: Path) -> ScoredFile:
            try:
                summary = score_dask(model, ref, str(pattern), destination, parquet_out=parquet_out,
                                     renames=how.renames, top_k=how.top_k, drivers=how.drivers, decimal=how.decimal,
                                     scheduler=how.scheduler, workers=how.jobs, progress=progress)
            except BatchError as error:
                return ScoredFile(str(pattern), error=str(error))
            except Unreachable as error:
                raise ConfigError(str(error)) from None
            return scored_file(str(pattern), summary, str(output))

        try:
            return (replacing_directory if parquet_out else replacing)(output, scored_into)
        except OSError as error:
            return ScoredFile(str(pattern), error=f"It could not be scored into {output}: {error.strerror}.")


def scored_file(name: str, summary: BatchSummary, results: str | None) -> ScoredFile:
    return ScoredFile(name, summary.rows, summary.predicted, dict(summary.reasons), summary.ignored_columns,
                      dict(summary.suggestions), result=results)


@contextmanager
def opened_output(destination: Path | IO[str], parquet: bool, table: Table, model: Model,
                  planned: Plan) -> Iterator[Output]:
    """Where the scored rows go: a Parquet file, else CSV text (a path is opened here, a stream written as it is)."""
    if parquet:
        inputs = table.schema if isinstance(table, ParquetTable) else table.header
        with ParquetOutput(str(destination), output_schema(inputs, model, planned), len(table.header)) as out:
            yield out
        return
    columns = [*table.header, *planned.result_columns(model)]
    if isinstance(destination, Path):
        with destination.open("w", newline="", encoding="utf-8") as text:
            yield CsvOutput(text, columns)
    else:
        yield CsvOutput(destination, columns)


def row_bar(stack: ExitStack, source: Path, total: int | None) -> tqdm:
    """A progress bar over the rows of `source`, of `total` rows (None: not known)."""
    from tqdm import tqdm

    return stack.enter_context(tqdm(total=total, desc=source.name, unit=" rows", unit_scale=True))


def count_rows(path: Path) -> int | None:
    """The rows of a Parquet file, from its footer; an estimate for a CSV file (count_lines)."""
    if not is_parquet(path):
        return count_lines(path)
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except (OSError, ValueError):       # not Parquet after all: scoring says so
        return None


def count_lines(path: Path) -> int | None:
    """Line breaks in a regular file, as its rows (the header's stands in for a last line without one); None for
    a pipe or device.

    The total is known only by reading the file, so a regular file's lines
    are counted first: one pass at disk speed (about a second a gigabyte),
    where scoring takes minutes a megabyte. It is an estimate (a quoted value
    may span lines; blank lines count), set right when the file ends. A pipe
    cannot be read twice, so its bar counts rows without a total.
    """
    if not path.is_file():
        return None
    with path.open("rb") as file:
        return sum(block.count(b"\n") for block in iter(lambda: file.read(1 << 20), b""))


def replacing(output: Path, write: Callable[[Path], ScoredFile]) -> ScoredFile:
    """What `write` makes of a new file beside `output`, renamed over `output` only if it scored (bot.files).
    A pipe or device (`-o /dev/null`) is written directly: there is nothing to keep."""
    target = output.resolve()
    if target.exists() and not target.is_file():
        return write(target)
    with replaced(target) as new:
        scored = write(new.path)
        new.keep = scored.error is None
    return scored


def replacing_directory(output: Path, write: Callable[[Path], ScoredFile]) -> ScoredFile:
    """What `write` makes of a new directory beside `output`, put in place of `output` (a directory or a file)
    only if it scored; otherwise, Ctrl-C included, removed, and `output` left as it was."""
    target = output.resolve()
    new, old = (target.with_name(f".{target.name}.{secrets.token_hex(4)}.{end}") for end in ("tmp", "old"))
    try:
        scored = write(new)
        if scored.error is None:
            if target.exists():
                os.replace(target, old)
            os.replace(new, target)
    finally:
        for leftover in (new, old):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    return scored
