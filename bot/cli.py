"""The `predbot` command: chat, ask, score, models, schema, serve.

Building the parser imports nothing heavy (no scikit-learn, no Slack, no
SMTP), so `predbot --help` answers at once; each command imports what it
needs when it runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config, ConfigError, add_serve_arguments, add_terminal_arguments, global_options

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.reply import Reply


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
    command("models", "list the models")
    schema = command("schema", "a model's fields")
    schema.add_argument("name", nargs="?", help="model name (default: the default model)")
    score = command("score", "score a CSV file")
    score.add_argument("input", type=Path, help="CSV file with a header row naming the fields")
    score.add_argument("-o", "--output", type=Path, help="where to write the results (default: stdout)")
    score.add_argument("--model", help="model name (default: the default model)")
    score.add_argument("--top-k", type=int, default=None, help="drivers per row (default: the model card's)")
    score.add_argument("--map", type=column_field, action="append", default=[], metavar="COLUMN=FIELD",
                       help="read the file's COLUMN as the model's FIELD, for a header that does not name it "
                            "(repeatable)")
    score.add_argument("--decimal", choices=(".", ","), default=None,
                       help="the decimal mark of the file's numbers (default: sniffed from its first lines)")
    serve = command("serve", "run every configured channel (email; Slack with tokens; the chat on a terminal)")
    serve.add_argument("--no-chat", action="store_true", help="no terminal chat even on a terminal")
    add_serve_arguments(serve)
    add_terminal_arguments(serve)
    return top


def column_field(text: str) -> tuple[str, str]:
    """`--map 'Sepal L=sepal_length'`: a column of the file and the field it holds (a header may hold `=`)."""
    column, _, field = text.rpartition("=")
    if not column.strip() or not field.strip():
        raise argparse.ArgumentTypeError(f"expected COLUMN=FIELD, like 'Years=age', not {text!r}")
    return column.strip(), field.strip()


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
    bot = load(config)
    match args.command:
        case "chat":
            from bot.terminal import chat

            return chat(bot, as_json=args.json, history=config.history, user=config.user)
        case "ask":
            from bot.reply import Sender

            return show(bot.handle(args.text, Sender(config.user, channel="terminal")), args.json)
        case "models":
            show(bot.models(reasons=True), False)     # a terminal's `predbot models` is the operator's view
            return 0 if bot.registry.models() else 1
        case "schema":
            return show(bot.schema(args.name), False)
        case "score":
            from bot.terminal import score_file

            return score_file(bot.registry, args.input, args.output, args.model, args.top_k, dict(args.map),
                              args.decimal)
        case "serve":
            import asyncio

            from bot.serve import serve

            return asyncio.run(serve(bot, config, chat=not args.no_chat))
    return 2


def load(config: Config) -> Bot:
    """The Bot over the configured models: the one load at start (`serve` reloads from a watcher, never on a
    request)."""
    from bot.core import Bot
    from scoring.registry import Registry

    registry = Registry(config.models_dir(), default=config.default_model, require_pins=config.require_pins)
    registry.refresh()
    return Bot(registry)


def show(reply: Reply, as_json: bool) -> int:
    from bot.render.text import render

    print(json.dumps(reply.to_dict(), indent=2) if as_json else render(reply))
    return 0 if reply.ok else 1


if __name__ == "__main__":
    sys.exit(main())
