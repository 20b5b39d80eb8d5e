"""The terminal channel: an interactive chat, and CSV scoring with a progress bar."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from itertools import chain
from pathlib import Path

from bot.core import Bot, batch_reply, commands, look_up, score_stream
from bot.render.text import render
from bot.reply import Reply, ScoredFile, Sender
from scoring.model import Model
from scoring.problems import Problem
from scoring.registry import Registry

GREETING = """predbot: ask me for predictions. Try:
  {example}
  models · schema · explain · help       (Ctrl-D or `quit` to leave)"""


def chat(bot: Bot, as_json: bool = False, *, history: Path, user: str) -> int:
    """A read-answer loop with line editing and history kept in `history` (readline) when on a terminal;
    `user` is who the messages come from."""
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history(history)
    sender = Sender(id=user, channel="terminal")
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


def score_file(registry: Registry, source: Path, output: Path | None, name: str | None,
               top_k: int | None) -> int:
    """`predbot score`: results to `output` (else stdout), and to stderr the answer a CSV sent in chat gets.

    The chat's size limits are for attachments; a file scored here may be any size.
    """
    model = look_up(registry, name)
    answer = model if isinstance(model, Reply) else batch_reply(model, [score_path(model, source, output, top_k)])
    print(render(answer), file=sys.stderr)
    return 0 if answer.ok else 1


def score_path(model: Model, source: Path, output: Path | None, top_k: int | None) -> ScoredFile:
    try:
        handle = source.open("rb")
    except OSError as error:
        return ScoredFile(str(source), error=f"It cannot be read: {error.strerror}.")
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
        scored = score_stream(model, str(source), handle, destination, str(output) if output else None, top_k,
                              progress)
        if bar is not None and not scored.error:
            bar.update(bar.total - bar.n)
    return scored
