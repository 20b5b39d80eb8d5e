"""What a stress run measured, printed as one line and kept for the README's Reliability section.

Every long run calls `report(...)` once; `make stress` prints the lines as it
goes and leaves them all in var/stress.jsonl.
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "var" / "stress.jsonl"


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default) now, in MB."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kb / 1024


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p99_ms(seconds: list[float]) -> float:
    return float(np.percentile(seconds, 99) * 1000) if seconds else 0.0


def report(run: str, **figures: object) -> None:
    """One line per run: `stress <run>: inputs=100000 p99_ms=4.1 ...`, and a JSON record of it."""
    shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    print(f"\nstress {run}: {shown}", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as file:
        file.write(json.dumps({"run": run, "at": time.strftime("%Y-%m-%d %H:%M"), **figures}) + "\n")
