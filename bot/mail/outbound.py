"""The delivery stage: queued replies -> transport, with backoff, and dead letters past a bound."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.answering import Pool
from bot.mail.spool import Envelope, Spool, unpack
from bot.mail.transport import ConnectionLost, PermanentFailure, TemporaryFailure, Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retry:
    attempts: int = 8           # then the reply goes to dead/
    first_delay: float = 30.0   # seconds; doubles per attempt
    max_delay: float = 3600.0

    def delay(self, attempt: int) -> float:
        return min(self.first_delay * 2 ** (attempt - 1), self.max_delay)


def readable(path: Path) -> tuple[Envelope, bytes]:
    try:
        return unpack(path)
    except (OSError, ValueError, KeyError) as error:     # written atomically by us: only a bug gets here
        raise PermanentFailure(f"unreadable reply file: {error}") from error


class Outbound:
    def __init__(self, spool: Spool, transport: Transport, retry: Retry, batch: int = 50) -> None:
        self.spool = spool
        self.transport = transport
        self.retry = retry
        self.batch = batch
        self.wake = asyncio.Event()
        self.failed: dict[str, tuple[int, float]] = {}   # name -> (attempts so far, when to try next)
        self.stopping = threading.Event()    # a stop lets the delivery under way finish, and no more

    async def run(self) -> None:
        """Deliver what is due, on a daemon thread: a relay that hangs (up to its 30 s timeout) must not
        hold up the exit after a stop, as one of asyncio's executor threads would. A reply cut off there
        is sent again after the restart, within the duplicate window a kill -9 has anyway."""
        thread = Pool(1, name="predbot-outbound")
        try:
            while True:
                self.wake.clear()
                due, wait = await thread.run(self.due)
                if due:
                    try:
                        await thread.run(lambda due=due: self.send(due))
                    except asyncio.CancelledError:
                        self.stopping.set()      # the delivery under way may finish; no more after it
                        raise
                    continue
                try:
                    await asyncio.wait_for(self.wake.wait(), wait)
                except TimeoutError:
                    pass
        finally:
            thread.close()

    def due(self) -> tuple[list[Path], float | None]:
        """Replies whose turn it is (at most a batch), and else the seconds until the next one's turn."""
        now = time.monotonic()
        ready, waits = [], []
        for path in self.spool.outgoing():
            when = self.failed.get(path.name, (0, now))[1]
            if when <= now:
                ready.append(path)
            else:
                waits.append(when - now)
        return ready[:self.batch], (min(waits) if waits else None)

    def send(self, paths: list[Path]) -> None:
        """Deliver, recording each reply as sent the moment the relay takes it.

        Only a crash between the relay's 250 and that rename can send a reply
        twice (RFC 1047); the copy carries the same Message-ID.
        """
        try:
            with self.transport.session() as deliver:
                for path in paths:
                    if self.stopping.is_set():
                        return
                    try:
                        deliver(path.stem, *readable(path))
                    except (TemporaryFailure, PermanentFailure) as failure:
                        self.failed_once(path, failure)
                        if isinstance(failure, ConnectionLost):
                            return
                    else:
                        self.spool.move(path, "sent")
                        self.failed.pop(path.name, None)
        except TemporaryFailure as failure:          # no session at all: every reply waited in vain
            for path in paths:
                self.failed_once(path, failure)

    def failed_once(self, path: Path, failure: Exception) -> None:
        attempts = self.failed.get(path.name, (0, 0.0))[0] + 1
        if isinstance(failure, PermanentFailure) or attempts >= self.retry.attempts:
            self.spool.move(path, "dead")
            self.failed.pop(path.name, None)
            log.error("reply %s not delivered after %d attempt(s), kept in dead/: %s", path.name, attempts, failure)
        else:
            delay = self.retry.delay(attempts)
            self.failed[path.name] = (attempts, time.monotonic() + delay)
            log.warning("reply %s not delivered (attempt %d), trying again in %.0fs: %s",
                        path.name, attempts, delay, failure)
