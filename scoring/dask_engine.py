"""`predbot score --engine dask`: files beyond one machine, scored on a Dask cluster with the same per-chunk function.

Dask reads the CSV or Parquet files a pattern names as one DataFrame (a CSV
file in blocks of BLOCK_BYTES). A worker scores each partition a chunk at a
time with `score_chunk`, the unit the local engine runs, and writes it as one
part with the local engine's own writers: a Parquet part of the output
directory, or a CSV part that is joined to the others, in order, into one
file. So the results are those of `predbot score` on one machine, row for
row, and each partition's summary comes back with it, in the same pass. Each
worker loads the model once, on its first partition (scoring.workers), and
refuses to score if its files are not the version loaded here.

How the files read is settled here, from the first file: its header, its
separator and decimal mark. Bytes that are not UTF-8 read as latin-1, as
they do on one machine. Quoted values that run over a line break can fall
on a block's edge, which Dask cannot read; such a file needs the local
engine, or Parquet.

Without a scheduler's address it starts a LocalCluster of `workers`
single-threaded worker processes. With one, the input files, the output's
folder and the models directory must be at the same paths on every worker as
here (a shared file system).
"""

from __future__ import annotations

import csv
import glob
import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dask
import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
from distributed import Client, LocalCluster, as_completed

from scoring.batch import (CHUNK_ROWS, BatchSummary, CsvOutput, CsvTable, Output, Plan, Table, neutralise, plan,
                           score_chunk)
from scoring.csvfile import LATIN_1, BatchError, Layout
from scoring.model import Model
from scoring.parquet import ParquetOutput, ParquetTable, is_parquet, output_schema, rows_of
from scoring.workers import ModelRef, worker_model

BLOCK_BYTES = "16MB"    # a CSV partition: some 130,000 rows of the demo churn, two minutes of one core with drivers


class Unreachable(Exception):
    """The scheduler cannot be reached; the message names its address and says why."""


def score_dask(model: Model, ref: ModelRef, pattern: str, destination: Path, *, parquet_out: bool,
               renames: dict[str, str] | None = None, top_k: int | None = None, drivers: bool = True,
               decimal: str | None = None, scheduler: str | None = None, workers: int = 1,
               progress: Callable[[int], None] | None = None) -> BatchSummary:
    """Every row of the files `pattern` names scored into `destination`: a directory of Parquet parts with
    `parquet_out`, else one CSV file. `progress` hears the rows scored as partitions finish."""
    files = sorted(glob.glob(pattern))
    if not files:
        raise BatchError(f"No file matches {pattern}.")
    parquet_in = is_parquet(files[0])
    with open(files[0], "rb") as first:
        table: Table = ParquetTable(first) if parquet_in else CsvTable(first, decimal)
    planned, summary = plan(model, table, renames, top_k, drivers)
    schema = output_schema(table.schema if isinstance(table, ParquetTable) else table.header, model, planned)
    parts = destination if parquet_out else destination.with_name(f"{destination.name}.parts")
    parts.mkdir()
    try:
        with _client(scheduler, workers) as client:
            frame = _read(files, None if isinstance(table, ParquetTable) else table.layout)
            if len(frame.columns) != len(table.header):
                raise BatchError(f"{files[0]} has {len(table.header)} columns, but Dask reads "
                                 f"{len(frame.columns)}; check that every file has the same header.")
            tasks = [dask.delayed(_score_part)(part, number, ref, planned, str(parts),
                                               schema if parquet_out else None, len(table.header), parquet_in)
                     for number, part in enumerate(frame.to_delayed())]
            for part in _computed(client, tasks, progress):
                summary.add(part)
        if not parquet_out:
            _join(parts, [*table.header, *planned.result_columns(model)], destination)
    finally:
        if not parquet_out:
            shutil.rmtree(parts, ignore_errors=True)
    if not summary.rows:
        raise BatchError("The files have a header but no rows to score.")
    return summary


@contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the scheduler at `scheduler`, else of a LocalCluster of `workers` processes; the default
    scheduler for Dask while the block runs.

    Distributed logs every worker's coming and going at INFO, which is not news on a terminal: warnings and
    errors still show. A LocalCluster has no dashboard, and its scheduler's health page takes a free port,
    so that two runs at once do not clash over 8787.
    """
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler is None:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler)
    except (OSError, ValueError, TypeError) as error:
        raise Unreachable(f"the Dask scheduler at {scheduler} cannot be reached: {error}") from None
    with client:
        yield client


def _read(files: list[str], layout: Layout | None) -> dd.DataFrame:
    """The files as one Dask DataFrame: Parquet with its types, CSV as text in the first file's layout.

    CSV cells stay Python strings (no conversion to Arrow strings), so that bytes that are not UTF-8 can
    travel as surrogates to `_latin_1`.
    """
    if layout is None:
        return dd.read_parquet(files, dtype_backend="pyarrow")
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.read_csv(files, sep=layout.delimiter, dtype=object, keep_default_na=False, skipinitialspace=True,
                           encoding="utf-8-sig", encoding_errors="surrogateescape", blocksize=BLOCK_BYTES)


def _computed(client: Client, tasks: list, progress: Callable[[int], None] | None) -> list[BatchSummary]:
    """Each task's summary, in order; what goes wrong on a worker is one BatchError here."""
    futures = client.compute(tasks)
    try:
        rows = 0
        for future in as_completed(futures):
            rows += future.result().rows
            if progress:
                progress(rows)
        return client.gather(futures)
    except BatchError:
        raise
    except Exception as error:  # noqa: BLE001 - a reader's or a worker's failure, said in one line
        raise BatchError(f"The files could not be scored on Dask: {type(error).__name__}: {error}") from None
    finally:
        client.cancel(futures)


def _score_part(frame: pd.DataFrame, number: int, ref: ModelRef, planned: Plan, directory: str,
                schema: pa.Schema | None, inputs: int, parquet_in: bool) -> BatchSummary:
    """One partition scored into its own part, on a worker: Parquet with `schema` (of which the first `inputs`
    columns are the input's), else CSV without a header."""
    model = worker_model(ref)
    path = Path(directory) / f"part.{number:06d}.{'csv' if schema is None else 'parquet'}"
    if schema is None:
        with path.open("w", newline="", encoding="utf-8") as out:
            return _scored_into(CsvOutput(out), model, planned, frame, parquet_in)
    with ParquetOutput(str(path), schema, inputs) as out:
        return _scored_into(out, model, planned, frame, parquet_in)


def _scored_into(out: Output, model: Model, planned: Plan, frame: pd.DataFrame, parquet_in: bool) -> BatchSummary:
    summary = BatchSummary()
    for start in range(0, len(frame), CHUNK_ROWS):
        scored = score_chunk(model, planned, _cells(frame.iloc[start:start + CHUNK_ROWS], parquet_in))
        out.write(scored.output)
        summary.add(scored)
    return summary


def _cells(frame: pd.DataFrame, parquet_in: bool) -> list[list[object]]:
    """A partition's rows as the local engine reads them: Parquet values as Python values, CSV cells as text."""
    if parquet_in:
        return rows_of(pa.Table.from_pandas(frame, preserve_index=False))
    return [[_latin_1(cell) for cell in row] for row in frame.to_numpy(dtype=object, na_value="").tolist()]


def _latin_1(cell: str) -> str:
    """A cell with bytes that were not UTF-8 (read as surrogates) as the local reader reads them: as latin-1."""
    if cell.isascii() or not any("\udc80" <= char <= "\udcff" for char in cell):
        return cell
    return cell.encode("utf-8", "surrogateescape").decode("utf-8", LATIN_1)


def _join(parts: Path, columns: list[str], destination: Path) -> None:
    """The CSV parts, in order, under one header, into `destination`."""
    with destination.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerow([neutralise(c) for c in columns])
        for part in sorted(parts.glob("part.*.csv")):
            with part.open(newline="", encoding="utf-8") as text:
                shutil.copyfileobj(text, out)
