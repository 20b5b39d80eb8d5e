"""Every core for one file: its chunks scored in worker processes, written in the order they were read.

`predbot score --jobs N` reads the file here and hands each chunk to one of
N worker processes, which load the model once each (scoring.workers) and run
the same `score_chunk` one process runs; results are written as they come
back, in order. At most IN_FLIGHT chunks per worker are out at a time, so
memory stays bounded whatever the file's length, and the rows written so far
are the progress. A file of one chunk is scored here: starting workers would
take longer than scoring it.

On Linux the workers are forked, so they start with everything imported (a
fresh interpreter takes 2 s to import scikit-learn, pandas and SHAP). The
only other threads the parent has by then are BLAS pools, which reset
themselves across a fork, and tqdm's monitor, which a worker never touches;
so Python's warning about forking a threaded process does not apply here.

Ctrl-C is noted while the workers run and raised between chunks: raised
wherever the main thread happens to be, it could land in one of the fork's
own handlers (logging's), which swallow it, and the file would score on.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from itertools import chain

from scoring.batch import CHUNK_ROWS, BatchSummary, Output, Plan, Scored, chunks, drain, score_chunk, scored_chunks
from scoring.csvfile import BatchError
from scoring.model import Model
from scoring.workers import ModelRef, worker_model

IN_FLIGHT = 2       # chunks out per worker: one being scored, one waiting, so no worker idles between chunks

_worker: tuple[ModelRef, Plan] | None = None     # in a worker: what its chunks are scored with


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1


def score_rows(model: Model, ref: ModelRef, plan: Plan, rows: Iterable[list[object]], out: Output,
               summary: BatchSummary, jobs: int = 1, progress: Callable[[int], None] | None = None,
               chunk_rows: int = CHUNK_ROWS) -> BatchSummary:
    """Every row scored into `out` in order, counted into `summary`: here with one job, else in `jobs` worker
    processes that load the model `ref` names (the one `model` is)."""
    scored = (scored_chunks(model, plan, rows, chunk_rows) if jobs <= 1
              else scored_in_workers(model, ref, plan, rows, jobs, chunk_rows))
    with closing(scored):
        return drain(scored, out, summary, progress)


def scored_in_workers(model: Model, ref: ModelRef, plan: Plan, rows: Iterable[list[object]], jobs: int,
                      chunk_rows: int = CHUNK_ROWS) -> Iterator[Scored]:
    """Each chunk of `rows` scored in one of `jobs` worker processes, in the order read.

    Closing it (or Ctrl-C) cancels the chunks not yet started and waits only for those being scored.
    """
    chunked = chunks(rows, chunk_rows)
    first = next(chunked, None)
    second = next(chunked, None) if first is not None else None
    if second is None:
        if first is not None:
            yield score_chunk(model, plan, first)
        return
    pool = ProcessPoolExecutor(jobs, mp_context=_context(), initializer=_start, initargs=(ref, plan))
    pending: deque[Future[Scored]] = deque()
    with ctrl_c_noted() as pressed:
        try:
            for chunk in chain([first, second], chunked):
                pending.append(_submit(pool, chunk))
                if len(pending) >= IN_FLIGHT * jobs:
                    yield _next(pending, pressed)
            while pending:
                yield _next(pending, pressed)
        except BrokenProcessPool:
            raise BatchError("A worker process stopped unexpectedly, most likely out of memory. "
                             "Score the file with fewer --jobs.") from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _next(pending: deque[Future[Scored]], pressed: threading.Event) -> Scored:
    scored = pending.popleft().result()
    if pressed.is_set():
        raise KeyboardInterrupt
    return scored


@contextmanager
def ctrl_c_noted() -> Iterator[threading.Event]:
    """An Event that Ctrl-C sets, instead of raising KeyboardInterrupt, while this lasts (in the main thread;
    elsewhere Ctrl-C is not this code's to handle)."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda *_: pressed.set())
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _context() -> multiprocessing.context.BaseContext | None:
    return multiprocessing.get_context("fork") if sys.platform == "linux" else None


def _submit(pool: ProcessPoolExecutor, chunk: list[list[object]]) -> Future[Scored]:
    """The chunk sent to a worker; the first submission forks the workers (see the module's docstring)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is multi-threaded, use of fork\(\)", category=DeprecationWarning)
        return pool.submit(_score, chunk)


def _start(ref: ModelRef, plan: Plan) -> None:
    """A worker's start: Ctrl-C is the parent's to handle, one BLAS thread (the workers are the parallelism), and
    the model loaded now rather than on the first chunk."""
    from threadpoolctl import threadpool_limits

    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threadpool_limits(1)
    _worker = ref, plan
    try:
        worker_model(ref)
    except BatchError:
        pass        # raised again by the first chunk, where the parent hears it


def _score(chunk: list[list[object]]) -> Scored:
    ref, plan = _worker     # set by _start, which runs before a worker's first chunk
    return score_chunk(worker_model(ref), plan, chunk)
