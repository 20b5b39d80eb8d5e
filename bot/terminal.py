"""The terminal channel: an interactive chat, and CSV scoring with a progress bar."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bot.core import Bot, batch_reply, commands, look_up, score_stream
from bot.files import replaced
from bot.render.text import render
from bot.reply import Reply, ScoredFile, Sender
from scoring.model import Model
from scoring.problems import Problem
from scoring.registry import Registry

if TYPE_CHECKING:
    from tqdm import tqdm

GREETING = """predbot: ask me for predictions. Try:
  {example}
  models · schema · explain · history · help       (Ctrl-D or `quit` to leave)"""


def chat(bot: Bot, as_json: bool = False, *, history: Path, user: str) -> int:
    """A read-answer loop with line editing and history kept in `history` (readline) when on a terminal;
    `user` is who the messages come from."""
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history(history)
    sender = Sender.terminal(user, session=uuid.uuid4().hex)      # this run is the conversation follow-ups build on
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


def score_file(registry: Registry, source: Path, output: Path | None, name: str | None, top_k: int | None,
               renames: dict[str, str] | None = None, decimal: str | None = None) -> int:
    """`predbot score`: results to `output` (else stdout), and to stderr the answer a CSV sent in chat gets.

    The chat's size limits are for attachments; a file scored here may be any size. `renames` (column ->
    field) and `decimal` are --map and --decimal.
    """
    model = look_up(registry, name)
    try:
        answer = model if isinstance(model, Reply) else batch_reply(
            model, [score_path(model, source, output, top_k, renames, decimal)])
    except KeyboardInterrupt:
        kept = f"; {output} is as it was" if output else ""
        print(f"{source}: stopped (Ctrl-C){kept}.", file=sys.stderr)
        return 130
    print(render(answer), file=sys.stderr)
    return 0 if answer.ok else 1


def score_path(model: Model, source: Path, output: Path | None, top_k: int | None,
               renames: dict[str, str] | None = None, decimal: str | None = None) -> ScoredFile:
    """`source` scored into `output` (else stdout), with a progress bar on a terminal.

    The results go to a new file beside `output`, renamed over it only once
    the whole file has scored: a run that fails, or is interrupted, leaves
    an existing `output` as it was.
    """
    try:
        handle = source.open("rb")
    except OSError as error:
        return ScoredFile(str(source), error=f"It cannot be read: {error.strerror}.")
    with ExitStack() as stack:
        stack.enter_context(handle)
        bar = row_bar(stack, source) if sys.stderr.isatty() else None
        progress = None if bar is None else (lambda rows: bar.update(rows - bar.n))

        def scored_into(destination: IO[str]) -> ScoredFile:
            return score_stream(model, str(source), handle, destination, str(output) if output else None, top_k,
                                progress, renames=renames, decimal=decimal)

        if output is None:
            scored = scored_into(sys.stdout)
        else:
            try:
                scored = replacing(output, scored_into)
            except OSError as error:    # not for stdout: a closed pipe there is cli.main's to handle
                scored = ScoredFile(str(source), error=f"It could not be scored into {output}: {error.strerror}.")
        if bar is not None and not scored.error:
            bar.total = bar.n       # the count it started from was an estimate
            bar.refresh()
    return scored


def row_bar(stack: ExitStack, source: Path) -> tqdm:
    """A progress bar over the rows of `source`.

    Its total is known only by reading the file, so a regular file's lines
    are counted first: one pass at disk speed (about a second a gigabyte),
    where scoring takes minutes a megabyte. It is an estimate (a quoted value
    may span lines; blank lines count), set right when the file ends. A pipe
    cannot be read twice, so its bar counts rows without a total.
    """
    from tqdm import tqdm

    return stack.enter_context(tqdm(total=count_lines(source), desc=source.name, unit=" rows", unit_scale=True))


def count_lines(path: Path) -> int | None:
    """Line breaks in a regular file, as its rows (the header's stands in for a last line without one); None for
    a pipe or device."""
    if not path.is_file():
        return None
    with path.open("rb") as file:
        return sum(block.count(b"\n") for block in iter(lambda: file.read(1 << 20), b""))


def replacing(output: Path, write: Callable[[IO[str]], ScoredFile]) -> ScoredFile:
    """What `write` makes of a new file beside `output`, renamed over `output` only if it scored (bot.files).
    A pipe or device (`-o /dev/null`) is written directly: there is nothing to keep."""
    target = output.resolve()
    if target.exists() and not target.is_file():
        with target.open("w", newline="", encoding="utf-8") as destination:
            return write(destination)
    with replaced(target) as new:
        with new.path.open("w", newline="", encoding="utf-8") as destination:
            scored = write(destination)
        new.keep = scored.error is None
    return scored
