"""How long predbot's commands take as whole processes, each beside the bare Python it should be measured against.

    python -m bench.cli_bench [--runs 21] [--answer-runs 7]

Two groups, each run interleaved, so that whatever else the machine does falls
on every command of a group alike; each prints the median wall time of every
command with its difference from and ratio to the group's baseline.

- `predbot --help` beside `python -c pass`. The goal: under 0.3 s, which it
  meets by importing only argparse and predbot's plain-data settings (no
  scikit-learn, no Slack, no SMTP).
- `predbot ask "predict: ..."` beside `python -c "import sklearn, shap,
  pandas"`, the imports an answer with drivers cannot do without. The goal: at
  most 1.2 times as long. What gets it there: loading only the model asked
  about, opening a store already at head without Alembic, reading the command
  parser from lark's cache, and keeping the cyclic garbage collector out of
  the objects starting makes (bot.cli.run). `predbot models` (every model, no
  explainer) is shown for information. The store is in a temporary data
  directory, created by a first run that is not counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import targets

GOAL_SECONDS = 0.3
GOAL_RATIO = 1.2
ROOT = Path(__file__).resolve().parents[1]
PREDBOT = str(Path(sys.executable).with_name("predbot"))
BARE = "python -c pass"
IMPORTS = 'python -c "import sklearn, shap, pandas"'
ASK = 'predbot ask "predict: age=45, income=60000"'
HELP_COMMANDS = {
    BARE: [sys.executable, "-c", "pass"],
    "python -m bot.cli --help": [sys.executable, "-m", "bot.cli", "--help"],
    "predbot --help": [PREDBOT, "--help"],
}
ANSWER_COMMANDS = {
    IMPORTS: [sys.executable, "-c", "import sklearn, shap, pandas"],
    ASK: [PREDBOT, "ask", "predict: age=45, income=60000"],
    "predbot models": [PREDBOT, "models"],
}


def wall_seconds(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def medians(commands: dict[str, list[str]], runs: int, env: dict[str, str] | None = None) -> dict[str, float]:
    """The median wall time of each command over `runs` rounds, the commands taking turns within each round."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(wall_seconds(command, env))
    return {name: statistics.median(seconds) for name, seconds in samples.items()}


def table(timed: dict[str, float], baseline: str, goals: dict[str, str]) -> None:
    base = timed[baseline]
    width = max(map(len, timed))
    print(f"{'command':<{width}}  {'median ms':>9}  {'- base ms':>9}  {'/ base':>6}  goal")
    for name, seconds in timed.items():
        print(f"{name:<{width}}  {seconds * 1000:>9.1f}  {(seconds - base) * 1000:>9.1f}  {seconds / base:>5.2f}x  "
              f"{goals.get(name, '')}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each --help command (default 21)")
    parser.add_argument("--answer-runs", type=int, default=7,
                        help="runs of each command of the answering group (default 7)")
    args = parser.parse_args(argv)

    timed = medians(HELP_COMMANDS, args.runs)
    verdict = "met" if timed["predbot --help"] < GOAL_SECONDS else "MISSED"
    targets.report("`predbot --help` wall time", f"{timed['predbot --help']:.2f} s", f"≤ {GOAL_SECONDS:g} s",
                   timed["predbot --help"] < GOAL_SECONDS)
    table(timed, BARE, {"predbot --help": f"< {GOAL_SECONDS:g} s: {verdict}"})
    print(f"({args.runs} runs each, interleaved)\n")

    with tempfile.TemporaryDirectory(prefix="predbot-bench-") as data:
        env = {**os.environ, "PREDBOT_DATA": data}
        wall_seconds(ANSWER_COMMANDS[ASK], env)        # creates the store, and the demo models if need be
        timed = medians(ANSWER_COMMANDS, args.answer_runs, env)
    ratio = timed[ASK] / timed[IMPORTS]
    targets.report("`predbot ask \"predict: ...\"` / `python -c \"import sklearn, shap, pandas\"`", f"{ratio:.2f}×",
                   f"≤ {GOAL_RATIO:g}×", ratio <= GOAL_RATIO)
    table(timed, IMPORTS, {ASK: f"<= {GOAL_RATIO:g}x: {'met' if ratio <= GOAL_RATIO else 'MISSED'}"})
    print(f"({args.answer_runs} runs each, interleaved, after one uncounted run of ask)")


if __name__ == "__main__":
    main()
