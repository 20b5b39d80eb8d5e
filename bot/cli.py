"""The `predbot` command: chat, ask, score, models, schema, serve, export, batch.

Building the parser imports nothing heavy (no scikit-learn, no Slack, no
SMTP, no SQLAlchemy), so `predbot --help` answers at once; each command
imports what it needs when it runs. The commands that answer (chat, ask,
serve), export and batch open the store once, and close it when they end.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import (Config, ConfigError, add_batch_arguments, add_serve_arguments, add_terminal_arguments,
                        count, global_options)

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.reply import Reply
    from bot.store import Store

REMEMBERING = ("chat", "ask", "serve", "export", "batch")     # the commands that open the store
EXPORTS = (".csv", ".parquet")


class Version(argparse.Action):
    """`--version`, reading the installed version only when asked: importlib.metadata takes ~50 ms to import."""

    def __init__(self, option_strings: list[str], dest: str, **_: object) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0,
                         help="print predbot's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"predbot {version('predbot')}")
        except PackageNotFoundError:
            print("predbot (not installed: `pip install -e .` gives it a version)")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="predbot", description="Ask a scikit-learn model for predictions.",
                                  parents=[global_options()])
    top.add_argument("--version", action=Version)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    inherited = [global_options(argparse.SUPPRESS)]

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=summary, parents=inherited)

    chat = command("chat", "talk to the bot in the terminal")
    chat.add_argument("--json", action="store_true", help="print each reply as JSON")
    add_terminal_arguments(chat)
    ask = command("ask", "ask one question; exit 0 if answered, 1 if not")
    ask.add_argument("text", help='e.g. "predict: age=45, income=60000"')
    ask.add_argument("--json", action="store_true", help="print the reply as JSON")
    ask.add_argument("--chart", type=Path, metavar="FILE.png",
                     help="also write a PNG chart of the answer's drivers (one-row predict, whatif, explain)")
    command("models", "list the models")
    schema = command("schema", "a model's fields")
    schema.add_argument("name", nargs="?", help="model name (default: the default model)")
    score = command("score", "score a CSV or Parquet file on every core, or files on a Dask cluster")
    score.add_argument("input", type=Path, help="CSV or Parquet (.parquet) file with a header naming the fields; "
                                                "with --engine dask, a pattern of them ('data/*.csv')")
    score.add_argument("-o", "--output", type=Path, help="where to write the results (default: stdout); a name "
                                                         "ending in .parquet writes Parquet")
    score.add_argument("--model", help="model name (default: the default model)")
    score.add_argument("--top-k", type=int, default=None, help="drivers per row (default: the model card's)")
    score.add_argument("--map", type=column_field, action="append", default=[], metavar="COLUMN=FIELD",
                       help="read the file's COLUMN as the model's FIELD, for a header that does not name it "
                            "(repeatable)")
    score.add_argument("--decimal", choices=(".", ","), default=None,
                       help="the decimal mark of the file's numbers (default: sniffed from its first lines)")
    score.add_argument("--jobs", type=count, metavar="N", help="worker processes, or Dask workers of a LocalCluster "
                                                              "(default: one per core)")
    score.add_argument("--no-drivers", dest="drivers", action="store_false",
                       help="predictions and probabilities only, without explaining them: many times faster")
    score.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="local: this machine's cores (default); dask: a Dask cluster")
    score.add_argument("--scheduler", metavar="ADDRESS",
                       help="--engine dask: the scheduler, like tcp://HOST:8786 (default: a LocalCluster here)")
    serve = command("serve", "run every configured channel (email; Slack with tokens; the chat on a terminal)")
    serve.add_argument("--no-chat", action="store_true", help="no terminal chat even on a terminal")
    add_serve_arguments(serve)
    add_terminal_arguments(serve)
    export = command("export", "write the recorded predictions, one line per row, to a CSV or Parquet file")
    export.add_argument("-o", "--output", type=export_path, required=True, metavar="FILE.csv|FILE.parquet",
                        help="where to write them (replaced only once complete)")
    export.add_argument("--since", type=since, metavar="DATE",
                        help="only predictions from DATE on: 2026-12-01, or 2026-12-01T09:30 (UTC unless it says)")
    export.add_argument("--model", metavar="NAME", help="only this model's predictions (default: every model's)")
    batch = command("batch", "score a file now or on a schedule; `predbot serve` runs the jobs that are due")
    for action in batch_actions(batch, inherited):
        add_batch_arguments(action)
    return top


def batch_actions(command: argparse.ArgumentParser,
                  inherited: list[argparse.ArgumentParser]) -> list[argparse.ArgumentParser]:
    """The actions of `predbot batch`; the parsers made, for the settings every one of them takes."""
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", parents=inherited, help="score a local file now, or on a schedule")
    add.add_argument("model", help="the model to score it with")
    add.add_argument("file", type=Path, help="a CSV or Parquet (.parquet) file with a header naming the fields")
    add.add_argument("--format", choices=("csv", "parquet"), default="csv", help="of the results (default csv)")
    add.add_argument("--top-k", type=int, help="drivers per row (default: the model card's)")
    add.add_argument("--rrule", metavar="RULE", help="when it runs, as RFC 5545 says, like 'FREQ=DAILY;BYHOUR=6' "
                                                     "(default: once, now)")
    add.add_argument("--timezone", default="UTC", metavar="ZONE", help="the IANA time zone of the rule's times "
                                                                       "(default UTC)")
    add.add_argument("--start", metavar="WHEN", help="from when, like 2027-01-31T06:00 (default: today)")
    add.add_argument("--end", metavar="WHEN", help="until when (default: as long as the rule runs)")
    add.add_argument("--only-when-changed", action="store_true",
                     help="skip a scheduled run whose file is as the last run read it")
    shown = actions.add_parser("list", parents=inherited, help="every batch job, its status and its runs")
    run = actions.add_parser("run", parents=inherited, help="run a job here and now, with a progress line")
    run.add_argument("id", help="the job's id (`predbot batch list`)")
    cancel = actions.add_parser("cancel", parents=inherited, help="run a job no more")
    cancel.add_argument("id", help="the job's id")
    return [add, shown, run, cancel]


def column_field(text: str) -> tuple[str, str]:
    """`--map 'Sepal L=sepal_length'`: a column of the file and the field it holds (a header may hold `=`)."""
    column, _, field = text.rpartition("=")
    if not column.strip() or not field.strip():
        raise argparse.ArgumentTypeError(f"expected COLUMN=FIELD, like 'Years=age', not {text!r}")
    return column.strip(), field.strip()


def export_path(text: str) -> Path:
    if not text.lower().endswith(EXPORTS):
        raise argparse.ArgumentTypeError(f"expected a file ending in .csv or .parquet, not {text!r}")
    return Path(text)


def since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-12-01 or 2026-12-01T09:30, not {text!r}") \
            from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = run(args, Config.from_args(args))
        sys.stdout.flush()      # here, where a closed pipe can still be caught, rather than at exit
        return status
    except ConfigError as error:
        print(f"predbot: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Whoever read our output has gone (`predbot ask ... | head -1`). As Python's docs advise (signal,
        # "Note on SIGPIPE"): point stdout at devnull, so the flush at exit does not fail again, and exit 1.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run(args: argparse.Namespace, config: Config) -> int:
    logging.basicConfig(level=logging.DEBUG if config.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("mail.log").setLevel(logging.DEBUG if config.verbose else logging.WARNING)  # aiosmtpd
    # Starting makes objects that live as long as the process (modules, the store): the cyclic collector would
    # go through them all again each time the heap grew by a quarter, and once more as the process exits, half a
    # second of `predbot ask`. So it is off while starting; then, but in `serve` (whose models a reload replaces),
    # what is there is frozen: left out of every later collection.
    gc.disable()
    store = None
    try:
        store = connect_store(config) if args.command in REMEMBERING else None
        bot = None if args.command == "export" else load(config, store, lazy=args.command != "serve")
        if args.command != "serve":
            gc.freeze()
        gc.enable()
        return export(store, args) if bot is None else answer(args, config, bot)
    finally:
        gc.enable()
        if store is not None:
            store.close()       # writes what is still queued (`serve` has closed it already, as it stopped)


def answer(args: argparse.Namespace, config: Config, bot: Bot) -> int:
    match args.command:
        case "chat":
            from bot.terminal import chat

            return chat(bot, as_json=args.json, history=config.history, user=config.user)
        case "ask":
            from bot.reply import Sender

            answered = bot.handle(args.text, Sender.terminal(config.user))
            status = show(answered, args.json)
            if args.chart:
                sys.stdout.flush()          # the answer first, then any line about its chart
                save_chart(answered, args.chart)
            return status
        case "models":
            show(bot.models(reasons=True), False)     # a terminal's `predbot models` is the operator's view
            return 0 if bot.registry.models() else 1
        case "schema":
            return show(bot.schema(args.name), False)
        case "score":
            from bot.terminal import Scoring, score_file
            from scoring.parallel import default_jobs

            if args.scheduler and args.engine != "dask":
                raise ConfigError("--scheduler is for --engine dask")
            how = Scoring(args.top_k, dict(args.map), args.decimal, args.jobs or default_jobs(), args.drivers,
                          args.engine, args.scheduler)
            return score_file(bot.registry, args.input, args.output, args.model, how)
        case "batch":
            from bot.jobs import Jobs
            from bot.jobs.command import batch

            jobs = Jobs(bot.store, bot.registry, config.http.batch_input, config.http.batch_output)
            return batch(jobs, args, config.user)
        case "serve":
            import asyncio

            from bot.serve import serve

            return asyncio.run(serve(bot, config, chat=not args.no_chat))
    return 2


def load(config: Config, store: Store | None = None, lazy: bool = False) -> Bot:
    """The Bot over the configured models: every model and its explainer loaded here, once, before `serve` says
    it serves (which then reloads from a watcher, never on a request).

    `lazy`, for the commands whose one user is the operator at the terminal (all but `serve`): only the model
    files are listed here, and a model is loaded when first named (see scoring.registry).
    """
    from bot.core import Bot
    from scoring.registry import Registry

    registry = Registry(config.models_dir(), default=config.default_model, require_pins=config.require_pins,
                        lazy=lazy)
    registry.refresh()
    return Bot(registry, store=store)


def connect_store(config: Config) -> Store:
    """The store, its schema migrated; a URL that cannot work is a ConfigError (one line, exit 2)."""
    from bot.store import open_store

    return open_store(config.store)


def export(store: Store, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store.export import export_file
    from bot.store.writer import describe

    try:
        lines = export_file(store, args.output, args.since, args.model)
    except OSError as error:
        print(f"predbot: {args.output} could not be written: {error.strerror or error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"predbot: the store could not be read: {describe(error)}", file=sys.stderr)
        return 1
    print(f"{lines:,} {'row' if lines == 1 else 'rows'} exported to {args.output}")
    return 0


def save_chart(answered: Reply, path: Path) -> None:
    """`ask --chart`: the answer's chart written to `path`, or one line on stderr saying why there is none. The
    text answer has gone out already, and its exit status stands either way."""
    from bot.render.chart import chart_of, draws

    if not draws(answered):
        print(f"predbot: no chart written: {no_chart_reason(answered)}", file=sys.stderr)
        return
    chart = chart_of(answered)
    if chart is None:
        print("predbot: no chart written: it could not be drawn (the log above says why)", file=sys.stderr)
        return
    try:
        path.write_bytes(chart.png)
    except OSError as error:
        print(f"predbot: {path} could not be written: {error.strerror or error}", file=sys.stderr)


def no_chart_reason(answered: Reply) -> str:
    if not answered.ok:
        return "the question was not answered"
    return "charts are drawn of a one-row prediction with drivers, a whatif or an explain"


def show(reply: Reply, as_json: bool) -> int:
    from bot.render.text import render

    print(json.dumps(reply.to_dict(), indent=2) if as_json else render(reply))
    return 0 if reply.ok else 1


if __name__ == "__main__":
    sys.exit(main())
