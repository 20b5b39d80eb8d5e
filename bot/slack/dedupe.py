"""Answer each Slack message once, however many times and to whichever replica it is delivered.

Slack redelivers an event it thinks we missed (same `event_id`, with an
`X-Slack-Retry-Num` header), and one message can arrive as two events: a DM
that mentions the bot is both `message.im` and `app_mention`, with one
(channel, ts) between them. And a signed request can be replayed by whoever
saw it: its signature stays valid for five minutes, so a signature seen
before is a replay (Slack's own retries are signed anew).

What was seen is recorded in the store (`Pending.claim`: one atomic
statement per key, and the payload held as owed, in one transaction), so the
replicas behind a load balancer answer each delivery once between them,
whichever of them each retry reaches. A store that cannot be
reached does not cost an answer: the delivery is answered, and the log says
that it went unchecked. HTTP mode decides before Bolt sees the request
(`SlackApp.accept`); Socket Mode, in Bolt middleware (`SlackApp.screen`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest


log = logging.getLogger(__name__)

KEEP_SECONDS = 3600.0       # Slack retries for minutes and a signature is valid for five: an hour covers both
DELIVERY = "predbot_delivery"     # in a payload's Bolt context: the key its pending answer is held under
OWED = "predbot_owed"             # in a payload's Bolt context: decided and held already


def delivery_keys(body: Mapping[str, Any]) -> list[str]:
    """What identifies one delivery of an Events API payload; nothing for commands and actions."""
    keys = [f"event:{body['event_id']}"] if body.get("event_id") else []
    event = body.get("event")
    if (isinstance(event, dict) and event.get("type") in ("message", "app_mention")
            and event.get("channel") and event.get("ts")):
        keys.append(f"message:{event['channel']}:{event['ts']}")
    return keys


def signature_key(request: AsyncBoltRequest) -> list[str]:
    """A request's signature, as a key (hashed: the store need not hold it); none in Socket Mode."""
    signature = (request.headers.get("x-slack-signature") or [""])[0]
    return [f"signature:{hashlib.sha256(signature.encode()).hexdigest()[:40]}"] if signature else []


def keys_of(request: AsyncBoltRequest) -> list[str]:
    """What identifies this delivery, the key naming it best first; none for a Socket Mode command."""
    return delivery_keys(request.body) + signature_key(request)


def dropped(keys: list[str], request: AsyncBoltRequest) -> None:
    retry = (request.headers.get("x-slack-retry-num") or ["0"])[0]
    log.info("already answered %s; dropping the repeat (Slack retry %s)",
             keys[0] if keys[0].startswith(("event:", "message:")) else "this signed request", retry)
