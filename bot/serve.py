"""`predbot serve`: every configured channel in one asyncio loop.

Email always runs (replies go to an outbox directory when no relay is set);
Slack runs when its tokens are in the environment; the terminal chat joins
when stdin is a terminal. Ctrl-C or SIGTERM stops them all cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from typing import TYPE_CHECKING

from bot.mail import service as mail
from bot.slack import service as slack

if TYPE_CHECKING:
    from bot.core import Bot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-chat", action="store_true", help="no terminal chat even on a terminal")
    mail.add_arguments(parser.add_argument_group("email"))
    slack.add_arguments(parser.add_argument_group("slack"))


async def serve(bot: Bot, args: argparse.Namespace) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    services = []
    try:
        for channel in (mail, slack):
            service = await channel.start(bot, args)
            if service is not None:
                services.append(service)
                print(f"predbot: serving {service.describe()}", file=sys.stderr, flush=True)
        if sys.stdin.isatty() and not args.no_chat:
            threading.Thread(target=chat_then_stop, args=(bot, loop, stopping), daemon=True).start()
        await stopping.wait()
    finally:
        for service in reversed(services):
            await service.stop()
    return 0


def chat_then_stop(bot: Bot, loop: asyncio.AbstractEventLoop, stopping: asyncio.Event) -> None:
    """The terminal chat, in a daemon thread so a blocked input() never holds up shutdown."""
    from bot.terminal import chat

    chat(bot)
    loop.call_soon_threadsafe(stopping.set)
