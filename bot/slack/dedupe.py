"""Answer each Slack message once, however many times it is delivered.

Slack redelivers an event it thinks we missed (same `event_id`, with an
`X-Slack-Retry-Num` header), and one message can arrive as two events: a DM
that mentions the bot is both `message.im` and `app_mention`, with one
(channel, ts) between them. And a signed request can be replayed by whoever
saw it: its signature stays valid for five minutes, so a signature seen
before is a replay (Slack's own retries are signed anew).

The memory is this process's; replicas behind a load balancer would each
answer a replay once.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)


class Seen:
    """Keys seen in the last `ttl` seconds, at most `size` of them (oldest forgotten first)."""

    def __init__(self, ttl: float = 3600.0, size: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._keys: OrderedDict[str, float] = OrderedDict()

    def first(self, keys: list[str]) -> bool:
        """True when none of `keys` was seen before; remembers them all either way."""
        now = self.clock()
        while self._keys and (len(self._keys) >= self.size or next(iter(self._keys.values())) < now - self.ttl):
            self._keys.popitem(last=False)
        fresh = not any(key in self._keys for key in keys)
        for key in keys:
            self._keys[key] = now
            self._keys.move_to_end(key)
        return fresh


def delivery_keys(body: Mapping[str, Any]) -> list[str]:
    """What identifies one delivery of an Events API payload; nothing for commands and actions."""
    keys = [f"event:{body['event_id']}"] if body.get("event_id") else []
    event = body.get("event")
    if (isinstance(event, dict) and event.get("type") in ("message", "app_mention")
            and event.get("channel") and event.get("ts")):
        keys.append(f"message:{event['channel']}:{event['ts']}")
    return keys


def drop_repeats(seen: Seen) -> Callable[..., Any]:
    """Bolt middleware: a repeated delivery is acknowledged (so Slack stops retrying) and not answered."""

    async def middleware(body: dict, request: AsyncBoltRequest, next: Callable[[], Any]) -> BoltResponse | None:
        keys = delivery_keys(body)
        signature = (request.headers.get("x-slack-signature") or [""])[0]
        signed = [f"signature:{signature}"] if signature else []
        if (keys or signed) and not seen.first(keys + signed):
            retry = (request.headers.get("x-slack-retry-num") or ["0"])[0]
            log.info("already answered %s; dropping the repeat (Slack retry %s)",
                     keys[0] if keys else "this signed request", retry)       # signatures stay out of the log
            return BoltResponse(status=200, body="")
        return await next()

    return middleware
