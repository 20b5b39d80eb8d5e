"""Answers owed: a Slack payload acknowledged and not yet answered is held in the store under a lease.

The ack tells Slack the answer is coming, so Slack will not send the payload
again; if the process then dies, only the store still knows of it. Each
payload is held (`claim`) before its ack and released once answered.
While a process works, it renews its leases; when one runs out, the process
holding it has stopped, and another replica (or this one, restarted) takes
it over and answers it: `tend` does both, every third of a lease. A payload
taken over MAX_ATTEMPTS times is given up, with a log line, instead of
bringing down every replica in turn.

A store that cannot be reached costs no answer, only this safety net: the
log says so.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.slack.dedupe import KEEP_SECONDS
from bot.store.shared import Held, Shared

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3

Resume = Callable[[Held], Awaitable[None]]


class Pending:
    def __init__(self, shared: Shared, lease: float, resume: Resume) -> None:
        self.shared, self.lease, self.resume = shared, lease, resume
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.held: set[str] = set()

    async def claim(self, keys: list[str], payload: dict[str, Any]) -> bool:
        """Whether the delivery `keys` name is new (and then held as owed, under its first key), in one trip to
        the store; a store that fails says new: an answer is worth more than the check."""
        try:
            new = await asyncio.to_thread(self.shared.first_held, keys, KEEP_SECONDS, keys[0], payload, self.owner,
                                          self.lease)
        except SQLAlchemyError as error:
            log.warning("answering %s without checking it was not answered before: the store failed (%s)",
                        keys[0], type(error).__name__)
            return True
        if new:
            self.held.add(keys[0])
        return new

    async def release(self, key: str) -> None:
        self.held.discard(key)
        await self.safely("release", self.shared.release, key)

    async def tend(self) -> None:
        """Renew this process's leases and take over the payloads whose lease ran out, until cancelled."""
        while True:
            await asyncio.sleep(self.lease / 3)
            if self.held:
                await self.safely("renew", self.shared.renew, self.owner, self.lease)
            for held in await self.safely("take over", self.shared.take_expired, self.owner, self.lease) or []:
                await self.take_over(held)

    async def take_over(self, held: Held) -> None:
        if held.attempts > MAX_ATTEMPTS:
            log.error("giving up on Slack %s: taken over %d times, and each time its answer was not finished",
                      held.key, MAX_ATTEMPTS)
            await self.release(held.key)
            return
        log.warning("answering Slack %s, acknowledged by a replica that stopped before answering it (attempt %d)",
                    held.key, held.attempts)
        self.held.add(held.key)
        await self.resume(held)

    async def safely(self, what: str, call: Callable[..., Any], *args: Any) -> Any:
        """`call` on a thread; its result, or None (logged) when the store fails."""
        try:
            return await asyncio.to_thread(call, *args)
        except SQLAlchemyError as error:
            log.warning("could not %s pending Slack answers in the store (%s); answers go on", what,
                        type(error).__name__)
            return None
