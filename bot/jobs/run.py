"""One run of a job: its input scored into its result file, exactly as `predbot score` scores a file.

The same pieces `predbot score` uses (scoring.batch's plan, chunks and
drain; scoring.parquet; bot.terminal's output), in this process, one chunk
at a time. `progress` hears the rows written after each chunk, and may raise
Stopped to end the run there. The results go to a new file beside the target,
renamed onto it only when the whole file scored and `keep()` still agrees (the
run is still this process's), so a half-written result never shows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.files import replaced
from bot.reply import ScoredFile
from bot.terminal import opened_output, scored_file
from scoring.batch import CHUNK_ROWS, CsvTable, Table, drain, plan, scored_chunks
from scoring.csvfile import BatchError
from scoring.model import Model
from scoring.parquet import ParquetTable, is_parquet

Progress = Callable[[int, int | None], None]        # rows written so far, rows in all (None: not known)


class Stopped(Exception):
    """Raised by `progress` to stop a run between chunks: it was cancelled, taken over, or its process stops."""


def score(model: Model, source: Path, target: Path, name: str, top_k: int | None, progress: Progress,
          keep: Callable[[], bool], chunk_rows: int = CHUNK_ROWS) -> ScoredFile:
    """`source` (Parquet by its suffix, else CSV) scored into `target` (Parquet by its suffix); `name` is what the
    file is called in messages. What cannot be scored is the ScoredFile's error, in words."""
    try:
        handle = source.open("rb")
    except OSError as error:
        return ScoredFile(name, error=f"It cannot be read: {error.strerror}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    with handle, replaced(target) as new:
        try:
            table: Table = ParquetTable(handle) if is_parquet(source) else CsvTable(handle)
            planned, summary = plan(model, table, top_k=top_k)
            progress(0, table.num_rows if isinstance(table, ParquetTable) else None)
            with opened_output(new.path, is_parquet(target), table, model, planned) as out:
                chunks = scored_chunks(model, planned, table.rows(), chunk_rows)
                drain(chunks, out, summary, lambda rows: progress(rows, None))
        except BatchError as error:
            new.keep = False
            return ScoredFile(name, error=str(error))
        scored = scored_file(name, summary, target.name)
        new.keep = keep()
    return scored
