"""The terminal channel: an interactive chat, and CSV scoring with a progress bar."""

from __future__ import annotations

import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from bot.core import Bot
from bot.reply import Sender
from bot.render.text import render
from scoring.batch import BatchError, score_csv
from scoring.problems import Problem
from scoring.registry import Registry

HISTORY = Path(os.environ.get("PREDBOT_HISTORY", Path.home() / ".predbot_history"))
GREETING = """predbot: ask me for predictions. Try:
  {example}
  models · schema · explain · help       (Ctrl-D or `quit` to leave)"""


def chat(bot: Bot, as_json: bool = False) -> int:
    """A read-answer loop with line editing and history (readline) when on a terminal."""
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history()
    sender = Sender(id=os.environ.get("USER", "terminal"), channel="terminal")
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
        answer = bot.handle(text, sender)
        print(json.dumps(answer.to_dict()) if as_json else render(answer), flush=True)
    if interactive:
        _save_history()
    return 0


def greeting_example(bot: Bot) -> str:
    default = bot.registry.get(None)
    if isinstance(default, Problem):
        return "models"
    return "predict: age=45, income=60000" if default.name == "churn" else bot.schema(None).body.example


def _enable_history() -> None:
    import readline

    try:
        readline.read_history_file(HISTORY)
    except OSError:
        pass
    readline.set_history_length(1000)


def _save_history() -> None:
    import readline

    try:
        readline.write_history_file(HISTORY)
    except OSError:
        pass


def score_file(registry: Registry, source: Path, output: Path | None, name: str | None,
               top_k: int | None) -> int:
    model = registry.get(name)
    if isinstance(model, Problem):
        print(f"predbot: {model.message}", file=sys.stderr)
        return 1
    try:
        handle = source.open("rb")
    except OSError as error:
        print(f"predbot: cannot read {source}: {error.strerror}", file=sys.stderr)
        return 1
    with ExitStack() as stack:
        stack.enter_context(handle)
        progress, bar = None, None
        if sys.stderr.isatty():
            from tqdm import tqdm

            bar = stack.enter_context(tqdm(total=source.stat().st_size, desc=source.name, unit="B",
                                           unit_scale=True))

            def progress(rows: int) -> None:  # the bar counts bytes read, so it knows the total up front
                bar.update(handle.tell() - bar.n)
        destination = stack.enter_context(output.open("w", newline="", encoding="utf-8")) if output else sys.stdout
        try:
            summary = score_csv(model, handle, destination, top_k, progress=progress)
        except BatchError as error:
            print(f"predbot: {error}", file=sys.stderr)
            return 1
        if bar is not None:
            bar.update(bar.total - bar.n)
    reasons = ", ".join(f"{count} {label.replace('_', ' ')}" for label, count in summary.reasons.items())
    print(f"predbot: {summary.rows:,} rows, {summary.predicted:,} predicted, {summary.rejected:,} not predicted"
          + (f" ({reasons})" if reasons else "") + f" with {model.name} v{model.version}", file=sys.stderr)
    if summary.ignored_columns:
        print(f"predbot: passed through columns that are not fields: {', '.join(summary.ignored_columns)}",
              file=sys.stderr)
    return 0
