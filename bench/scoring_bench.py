"""Batch CSV scoring with drivers vs bare predict_proba + TreeExplainer on the same rows.

Ours: `scoring.batch.score_csv` (read, coerce every cell, transform once,
predict, SHAP drivers, write every column). Baseline: pandas reads the same
file, then `predict_proba` and a TreeExplainer on the transformed rows, in
the same chunks. Peak memory is read from `predbot score` run as a child
process on two file sizes, to show it does not grow with the file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import pandas as pd
import shap

from bench.common import demo_registry, scratch
from scoring import pipeline
from scoring.batch import CHUNK_ROWS, score_csv
from scoring.demo import churn_data


def write_csv(path, rows: int) -> None:
    frame, _ = churn_data(rows, seed=7)
    frame.to_csv(path, index=False)


def ours(model, path) -> tuple[float, int]:
    """Seconds, and how many rows were predicted (all of them, or the comparison is void)."""
    start = time.perf_counter()
    with open(path, "rb") as source, open(os.devnull, "w") as sink:
        summary = score_csv(model, source, sink)
    return time.perf_counter() - start, summary.predicted


def baseline(model, path) -> float:
    background = pipeline.transform(model.preprocessor, model.background)
    explainer = shap.TreeExplainer(model.final, data=background[:100], model_output="probability",
                                   feature_perturbation="interventional")
    start = time.perf_counter()
    for chunk in pd.read_csv(path, chunksize=CHUNK_ROWS):
        chunk = chunk.astype({"autopay": "float64"})
        transformed = pipeline.transform(model.preprocessor, chunk)
        model.final.predict_proba(transformed)
        explainer.shap_values(transformed, check_additivity=False)
    return time.perf_counter() - start


PEAK = ("import resource, sys; from bot.cli import main; main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")


def peak_memory_mb(path, out) -> float:
    """Peak resident memory of a fresh `predbot score` process."""
    done = subprocess.run([sys.executable, "-c", PEAK, "score", str(path), "-o", str(out)],
                          check=True, capture_output=True, text=True)
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--rows", type=int, default=100_000)
    rows = options.parse_args(argv).rows
    model = demo_registry().get("churn")
    folder = scratch()
    big, small = folder / "big.csv", folder / "small.csv"
    write_csv(big, rows)
    write_csv(small, rows // 10)
    (ours_s, predicted), base_s = ours(model, big), baseline(model, big)
    print(f"{rows:,} rows of churn ({model.estimator_name}, {model.explainer.method} explainer, top-3 drivers)")
    print(f"  predbot score_csv              {rows / ours_s:10,.0f} rows/s  ({ours_s:.1f} s, "
          f"{predicted:,} rows predicted)")
    print(f"  bare predict_proba + SHAP      {rows / base_s:10,.0f} rows/s  ({base_s:.1f} s)")
    print(f"  ratio (ours / bare time)       {ours_s / base_s:10.2f}x")
    small_mb = peak_memory_mb(small, folder / "out-small.csv")
    big_mb = peak_memory_mb(big, folder / "out-big.csv")
    print(f"  peak memory, predbot score:    {small_mb:.0f} MB at {rows // 10:,} rows, "
          f"{big_mb:.0f} MB at {rows:,} rows")


if __name__ == "__main__":
    main()
