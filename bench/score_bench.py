"""`predbot score` on every core: --jobs 2 against --jobs 1, --no-drivers against bare predict_proba, peak memory.

    python -m bench.score_bench [--rows 20000] [--big-rows 1000000]

Each figure is measured in this run beside what it is compared with, and
printed with its target (issue 13):

- `predbot score` rows/s (drivers on), --jobs 2 over --jobs 1: at least 1.7x.
  Timed from the start of scoring a file to its results renamed into place,
  so the workers' start and model loads are in it.
- `--no-drivers` rows/s (--jobs: every core, the default) over bare chunked
  `predict_proba` (pandas reads the same file in the same chunks, the
  pipeline transforms and predicts, nothing is written): at least 0.8x.
- Peak resident memory of `predbot score --no-drivers` on a 1,000,000-row CSV,
  as a child process: under 1 GiB. Without drivers, so that it takes a minute
  or two rather than most of an hour; drivers add the explainer's work per
  chunk, not per file. Printed both as the largest single process (getrusage
  ru_maxrss of the child and of its workers, the way the target is stated) and
  as the whole process tree (parent and workers, shared pages counted once),
  sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from bench import targets
from bench.common import demo_registry, scratch
from bot.terminal import Scoring, score_path
from scoring import pipeline
from scoring.batch import CHUNK_ROWS
from scoring.demo import churn_data
from scoring.parallel import default_jobs
from scoring.workers import ModelRef

JOBS_TARGET, NO_DRIVERS_TARGET, PEAK_TARGET_MB = 1.7, 0.8, 1024
# predbot score in a child, which then prints the peak of the largest process of its tree: itself, or a worker
PEAK = ("import resource, sys; from bot.cli import main; status = main(sys.argv[1:]); "
        "print(max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)), "
        "file=sys.stderr); sys.exit(status)")


def write_csv(path: Path, rows: int) -> None:
    """Churn customers, written a slice at a time so that a million rows need no million-row frame."""
    step = 100_000
    for start in range(0, rows, step):
        frame, _ = churn_data(min(step, rows - start), seed=7 + start)
        frame.to_csv(path, index=False, header=start == 0, mode="w" if start == 0 else "a")


def rows_per_second(model, ref: ModelRef, source: Path, out: Path, rows: int, **how: object) -> float:
    start = time.perf_counter()
    scored = score_path(model, ref, source, out, Scoring(**how))
    elapsed = time.perf_counter() - start
    if scored.error or scored.rows != rows:
        raise SystemExit(f"scoring {source} went wrong: {scored.error or scored.rows}")
    return rows / elapsed


def bare_rows_per_second(model, source: Path, rows: int) -> float:
    """pandas reads the file in CHUNK_ROWS chunks; the pipeline transforms and predicts each; nothing is written."""
    start = time.perf_counter()
    for chunk in pd.read_csv(source, chunksize=CHUNK_ROWS):
        chunk = chunk.astype({"autopay": "float64"})
        model.final.predict_proba(pipeline.transform(model.preprocessor, chunk))
    return rows / (time.perf_counter() - start)


def tree_pss_kb(pid: int) -> int:
    """Memory of a process and its descendants now, in kB (0 for one that has gone): their proportional set
    sizes, so that the pages forked workers share with their parent count once, not once a process."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    own = next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)
    return own + sum(tree_pss_kb(int(child)) for child in children)


def peak_memory_mb(source: Path, out: Path) -> tuple[float, float, float]:
    """`predbot score --no-drivers` on `source` as a child process: the largest single process's peak, the
    whole tree's sampled peak (MB), and its seconds."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", PEAK, "score", str(source), "-o", str(out), "--no-drivers"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tree = 0
    while child.poll() is None:
        tree = max(tree, tree_pss_kb(child.pid))
        time.sleep(0.1)
    errors = child.stderr.read()
    if child.returncode != 0:
        raise SystemExit(f"predbot score failed: {errors}")
    largest = int(errors.strip().splitlines()[-1])
    return largest / 1024, tree / 1024, time.perf_counter() - start


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rows", type=int, default=20_000, help="rows for the rows/s figures (default 20,000)")
    options.add_argument("--big-rows", type=int, default=1_000_000, help="rows for peak memory (default 1,000,000)")
    args = options.parse_args(argv)
    registry = demo_registry()
    model = registry.get("churn")
    ref = ModelRef.of(model, registry.directory)
    folder = scratch()
    source, big = folder / "churn.csv", folder / "big.csv"
    write_csv(source, args.rows)
    cores = default_jobs()
    print(f"{args.rows:,} rows of churn ({model.estimator_name}, top-3 drivers), {cores} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")

    one = rows_per_second(model, ref, source, folder / "one.csv", args.rows, jobs=1)
    two = rows_per_second(model, ref, source, folder / "two.csv", args.rows, jobs=2)
    print(f"  predbot score --jobs 1               {one:10,.0f} rows/s")
    print(f"  predbot score --jobs 2               {two:10,.0f} rows/s")
    print(f"  --jobs 2 / --jobs 1                  {two / one:10.2f}x   target >= {JOBS_TARGET}x: "
          f"{verdict(two / one >= JOBS_TARGET)}")
    targets.report("`predbot score` rows/s, `--jobs 2` / `--jobs 1`", f"{two / one:.2f}×", f"≥ {JOBS_TARGET}×",
                   two / one >= JOBS_TARGET)

    no_drivers = rows_per_second(model, ref, source, folder / "bare.csv", args.rows, jobs=cores, drivers=False)
    alone = rows_per_second(model, ref, source, folder / "bare1.csv", args.rows, jobs=1, drivers=False)
    bare = bare_rows_per_second(model, source, args.rows)
    print(f"  predbot score --no-drivers --jobs 1  {alone:10,.0f} rows/s")
    print(f"  predbot score --no-drivers --jobs {cores}  {no_drivers:10,.0f} rows/s")
    print(f"  bare chunked predict_proba           {bare:10,.0f} rows/s")
    print(f"  --no-drivers / bare                  {no_drivers / bare:10.2f}x   target >= {NO_DRIVERS_TARGET}x: "
          f"{verdict(no_drivers / bare >= NO_DRIVERS_TARGET)}")
    targets.report("`--no-drivers` rows/s / bare chunked `predict_proba` rows/s", f"{no_drivers / bare:.2f}×",
                   f"≥ {NO_DRIVERS_TARGET}×", no_drivers / bare >= NO_DRIVERS_TARGET)

    write_csv(big, args.big_rows)
    largest, tree, seconds = peak_memory_mb(big, folder / "big-out.csv")
    print(f"  peak memory, predbot score --no-drivers on {args.big_rows:,} rows ({seconds:.0f} s, --jobs {cores}):")
    print(f"    largest process {largest:,.0f} MB, every process together {tree:,.0f} MB   "
          f"target < {PEAK_TARGET_MB:,} MB: {verdict(max(largest, tree) < PEAK_TARGET_MB)}")
    targets.report(f"{args.big_rows:,}-row CSV, peak RSS (`--no-drivers`)", f"{max(largest, tree):,.0f} MB",
                   f"< {PEAK_TARGET_MB:,} MB", max(largest, tree) < PEAK_TARGET_MB)


if __name__ == "__main__":
    main()
