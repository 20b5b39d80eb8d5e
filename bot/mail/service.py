"""The email channel as a service of `predbot serve`: add_arguments, start, describe, stop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from bot.mail.guard import Guard, RateLimit
from bot.mail.outbound import Outbound
from bot.mail.server import SpoolingHandler, listen
from bot.mail.settings import ConfigError, Settings, add_arguments, settings
from bot.mail.spool import Spool, SpoolBusy
from bot.mail.worker import Worker

if TYPE_CHECKING:
    from bot.answering import Answerer

__all__ = ["MailService", "add_arguments", "start"]

log = logging.getLogger(__name__)


class MailService:
    def __init__(self, config: Settings, server: asyncio.Server, handler: SpoolingHandler, spool: Spool,
                 tasks: list[asyncio.Task]) -> None:
        self.config = config
        self.server = server
        self.handler = handler
        self.spool = spool
        self.tasks = tasks

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    def describe(self) -> str:
        return (f"email on {self.config.listen.host}:{self.port} for {self.config.ours}, "
                f"replies to {self.config.transport.describe()}")

    async def stop(self) -> None:
        """Stop listening and working, in about the time a reply takes to compose, however long the
        answer being scored would take: the Answerer's threads are not waited for, and whatever is
        half done is redone from the spool next start."""
        self.server.close()
        self.handler.hang_up()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError):   # a session closing slowly must not hold up shutdown
            await asyncio.wait_for(self.server.wait_closed(), 5)
        self.spool.unlock()


async def start(answerer: Answerer, args: argparse.Namespace) -> MailService:
    """Listen and work, answering through `answerer` (the process's one scoring pool and time budget);
    a setting that cannot work stops `predbot serve` with a one-line reason."""
    try:
        config = settings(args)
        spool = Spool(config.spool)
        spool.lock()
    except (ConfigError, SpoolBusy, OSError) as error:      # OSError: unreadable certificate, spool not writable
        raise SystemExit(f"predbot: email: {error}") from error
    try:
        spool.prune(config.keep_seconds)
        outbound = Outbound(spool, config.transport, config.retry)
        guard = Guard(config.ours, config.allowed, RateLimit(*config.rate))
        worker = Worker(answerer, spool, guard, config.max_commands, outbound.wake.set)
        handler = SpoolingHandler(spool, config.ours, worker.wake.set)
        server = await listen(handler, config.listen)
    except OSError as error:
        spool.unlock()
        raise SystemExit(f"predbot: email: cannot listen on {config.listen.host}:{config.listen.port}: "
                         f"{error.strerror or error}") from error
    except BaseException:
        spool.unlock()
        raise
    tasks = [asyncio.create_task(stage.run(), name=f"mail {name}")
             for name, stage in (("worker", worker), ("outbound", outbound))]
    for task in tasks:
        task.add_done_callback(report_crash)
    return MailService(config, server, handler, spool, tasks)


def report_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped; mail waits in the spool until a restart", task.get_name(),
                  exc_info=task.exception())
