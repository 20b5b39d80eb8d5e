"""One message that shows how far a long file has got, edited in place.

The core reports progress from its worker thread; edits are made on the event
loop, at most one in flight and at most one per `interval` seconds, because
Slack rate-limits `chat.update`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from bot.render import slack as render
from bot.slack.deliver import Conversation

log = logging.getLogger(__name__)


class Progress:
    def __init__(self, where: Conversation, filenames: Sequence[str], interval: float) -> None:
        self.where, self.filenames, self.interval = where, list(filenames), interval
        self.loop = asyncio.get_running_loop()
        self.ts: str | None = None
        self.last = time.monotonic()
        self.edit: asyncio.Task | None = None

    async def start(self) -> None:
        self.ts = await self.where.post(render.progress(self.filenames))

    def report(self, rows: int) -> None:
        """Called by the core from its worker thread after each chunk."""
        self.loop.call_soon_threadsafe(self._report, rows)

    def _report(self, rows: int) -> None:
        busy = self.edit is not None and not self.edit.done()
        if self.ts is None or busy or time.monotonic() - self.last < self.interval:
            return
        self.last = time.monotonic()
        self.edit = self.loop.create_task(self.where.update(self.ts, render.progress(self.filenames, rows)))

    async def finish(self, message: render.Message) -> None:
        """Replace the progress message with the answer, after any edit still in flight."""
        if self.edit is not None:
            [failed] = await asyncio.gather(self.edit, return_exceptions=True)
            if failed is not None:
                log.warning("could not show progress in %s: %s", self.where.channel, failed)
        await self.where.update(self.ts, message)
