"""`python -m bot.mail`: the email channel on its own (what the crash test and the bench run).

`predbot serve` runs the same service beside the other channels.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from bot import answering, config
from bot.answering import Budget
from bot.mail.service import add_arguments, start

if TYPE_CHECKING:
    from bot.answering import Answerer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.mail", description="Answer prediction requests by email.")
    parser.add_argument("--models", metavar="DIR", help="models directory (default: $PREDBOT_MODELS, else the demo)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    answering.add_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("mail.log").setLevel(logging.DEBUG if args.verbose else logging.WARNING)  # aiosmtpd's chatter
    from bot.answering import Answerer
    from bot.core import Bot
    from scoring.registry import Registry

    registry = Registry(config.models_dir(args.models))
    registry.refresh()
    answerer = Answerer(Bot(registry), Budget.from_args(args))
    try:
        return asyncio.run(serve(answerer, args))
    finally:
        answerer.close()


async def serve(answerer: Answerer, args: argparse.Namespace) -> int:
    service = await start(answerer, args)
    print(f"predbot: serving {service.describe()}", flush=True)
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        await service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
