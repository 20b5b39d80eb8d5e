"""Answers off the event loop: a bounded pool of scoring threads and a time budget per answer.

`Bot.handle` is synchronous and CPU-bound; the channels are async. Scoring
used to run in asyncio's default executor, the same few threads that write
accepted mail to the spool, so six slow Slack DMs held back an SMTP `250` for
12 s. Scoring now has threads of its own, and every answer a deadline: a
message still unanswered when its budget is spent (waiting for a thread
counts) is answered with a refusal instead.

The threads are daemons. A thread cannot be stopped from outside, and
`concurrent.futures` joins its workers at interpreter exit, so one runaway
model call would hold `predbot serve` after SIGTERM; a daemon thread does
not, and what it was doing is redone from the spool (mail) or was already
answered with the refusal (Slack).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

from bot import reply
from bot.config import Budget

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)


class Pool:
    """A fixed number of daemon threads taking work from one queue (see the module's docstring)."""

    def __init__(self, threads: int, name: str = "predbot-scoring") -> None:
        self.work: queue.SimpleQueue[tuple[Future, Callable[[], object]] | None] = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True)
                        for n in range(threads)]
        for thread in self.threads:
            thread.start()

    def submit(self, call: Callable[[], object]) -> Future:
        future: Future = Future()
        self.work.put((future, call))
        return future

    async def run[T](self, call: Callable[[], T]) -> T:
        """`call()` on one of the pool's threads, awaited from the event loop."""
        return await asyncio.wrap_future(self.submit(call))

    def close(self) -> None:
        """Stop the threads once the work already queued is done or abandoned."""
        for _ in self.threads:
            self.work.put(None)

    def _run(self) -> None:
        while (item := self.work.get()) is not None:
            future, call = item
            if not future.set_running_or_notify_cancel():     # abandoned while it waited
                continue
            try:
                future.set_result(call())
            except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(error)


class Answerer:
    """`await answerer.answer(text, sender)`: the Bot's reply, within the budget, never blocking the loop."""

    def __init__(self, bot: Bot, budget: Budget | None = None) -> None:
        self.bot, self.budget = bot, budget or Budget()
        self.pool = Pool(self.budget.threads)
        self.pending = 0

    async def answer(self, text: str, sender: reply.Sender | None = None,
                     attachments: Sequence[reply.Attachment] = (),
                     progress: Callable[[int], None] | None = None) -> reply.Reply:
        if self.pending >= self.budget.threads + self.budget.waiting:
            log.warning("refused a message from %s: %d answers already in progress", sender and sender.id,
                        self.pending)
            return busy()
        seconds = self.budget.for_files(attachments)
        log.debug("answering a message from %s with %d file(s)", sender and sender.id, len(attachments))
        deadline = time.monotonic() + seconds
        future = self.pool.submit(lambda: self.bot.handle(text, sender, attachments, progress, deadline))
        self.pending += 1
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), seconds + grace(seconds))
        except TimeoutError:
            future.cancel()
            log.warning("gave up on a message from %s after %.0f s: %r", sender and sender.id, seconds, text[:100])
            return too_slow(seconds)
        finally:
            self.pending -= 1

    def close(self) -> None:
        self.pool.close()


def grace(seconds: float) -> float:
    """How long past its deadline an answer is still awaited: the core checks a file's deadline
    between chunks of rows, and its own refusal (which says how far it got) beats ours."""
    return 2.0 + seconds / 10


def too_slow(seconds: float) -> reply.Reply:
    return reply.Reply.refused(f"That took longer than {seconds:g} seconds to answer, so I stopped. "
                               "Ask about fewer rows at a time, or send them as a CSV file.", "too_slow")


def busy() -> reply.Reply:
    return reply.Reply.refused("predbot is answering a lot of questions right now; please ask again in a minute.",
                               "busy")
