"""How long `predbot --help` takes, beside a bare `python -c pass`, so predbot's own startup shows as a difference.

    python -m bench.cli_bench [--runs 21]

Runs `python -c pass`, `python -m bot.cli --help` and the console script
`predbot --help` (the one installed beside this interpreter), interleaved, so
that whatever else the machine does falls on all three alike, and prints the
median wall time of each with its difference from and ratio to `python -c
pass`. The goal: `predbot --help` under 0.3 s, which it meets by importing only
argparse and predbot's plain-data settings (no scikit-learn, no Slack, no SMTP).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_SECONDS = 0.3
ROOT = Path(__file__).resolve().parents[1]
BARE = "python -c pass"
COMMANDS = {
    BARE: [sys.executable, "-c", "pass"],
    "python -m bot.cli --help": [sys.executable, "-m", "bot.cli", "--help"],
    "predbot --help": [str(Path(sys.executable).with_name("predbot")), "--help"],
}


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (default 21)")
    args = parser.parse_args(argv)

    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            samples[name].append(wall_seconds(command))
    bare = statistics.median(samples[BARE])
    print(f"{'command':<26}  {'median ms':>9}  {'- python ms':>11}  {'/ python':>8}  goal (< {GOAL_SECONDS:g} s)")
    for name, seconds in samples.items():
        median = statistics.median(seconds)
        verdict = "" if name == BARE else ("met" if median < GOAL_SECONDS else "MISSED")
        print(f"{name:<26}  {median * 1000:>9.1f}  {(median - bare) * 1000:>11.1f}  {median / bare:>7.1f}x  {verdict}")
    print(f"({args.runs} runs each, interleaved)")


if __name__ == "__main__":
    main()
