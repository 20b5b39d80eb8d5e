"""The `predbot` command: chat, ask, score, models, schema, serve."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from bot import config
from bot.reply import Reply


def build_parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="predbot", description="Ask a scikit-learn model for predictions.")
    top.add_argument("--models", metavar="DIR", help="models directory (default: $PREDBOT_MODELS, "
                     "else the built-in demo models)")
    top.add_argument("--default-model", metavar="NAME", help="the model `predict:` uses when none is named")
    top.add_argument("--require-pins", action="store_true", help="load only model files whose card pins "
                     "them (`sha256:` in NAME.yaml); the log gives the digest to add")
    top.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--json", action="store_true", help="print each reply as JSON")
    ask = commands.add_parser("ask", help="ask one question; exit 0 if answered, 1 if not")
    ask.add_argument("text", help='e.g. "predict: age=45, income=60000"')
    ask.add_argument("--json", action="store_true", help="print the reply as JSON")
    commands.add_parser("models", help="list the models")
    schema = commands.add_parser("schema", help="a model's fields")
    schema.add_argument("name", nargs="?", help="model name (default: the default model)")
    score = commands.add_parser("score", help="score a CSV file")
    score.add_argument("input", type=Path, help="CSV file with a header row naming the fields")
    score.add_argument("-o", "--output", type=Path, help="where to write the results (default: stdout)")
    score.add_argument("--model", help="model name (default: the default model)")
    score.add_argument("--top-k", type=int, default=None, help="drivers per row (default: the model card's)")
    serve = commands.add_parser("serve", help="run every configured channel (email; Slack with tokens; "
                                "the chat on a terminal)")
    from bot import serve as serving

    serving.add_arguments(serve)
    return top


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("mail.log").setLevel(logging.DEBUG if args.verbose else logging.WARNING)  # aiosmtpd
    from bot.core import Bot
    from scoring.registry import Registry

    registry = Registry(config.models_dir(args.models), default=args.default_model,
                        require_pins=args.require_pins)
    registry.refresh()      # the one load at start; `serve` reloads from a watcher, never on a request
    bot = Bot(registry)
    match args.command:
        case "chat":
            from bot.terminal import chat

            return chat(bot, as_json=args.json)
        case "ask":
            return show(bot.handle(args.text), args.json)
        case "models":
            return show(bot.models(), False)
        case "schema":
            return show(bot.schema(args.name), False)
        case "score":
            from bot.terminal import score_file

            return score_file(bot.registry, args.input, args.output, args.model, args.top_k)
        case "serve":
            from bot.serve import serve

            return asyncio.run(serve(bot, args))
    return 2


def show(reply: Reply, as_json: bool) -> int:
    from bot.render.text import render

    print(json.dumps(reply.to_dict(), indent=2) if as_json else render(reply))
    return 0 if reply.ok else 1


if __name__ == "__main__":
    sys.exit(main())
