"""Many requests at Slack's HTTP endpoint at once, for the adversarial tests and `make stress`.

`forgeries` are requests Slack never sends: forged ones (wrong, missing or
garbled signatures; timestamps that are not numbers, or stale; bodies
altered after signing) and malformed ones under a valid signature. Each
names the status the endpoint must answer. Their response_urls point where
the caller says (a second listener, which must hear nothing) and their
events at FORGED_CHANNEL, so any outbound call they cause shows up.
`post_all` sends requests at a given concurrency and times each ack, and
`tally` says how the commands were answered.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import aiohttp

from bot.answering import busy
from bot.render.slack import render
from bot.reply import Reply
from doubles.slack import TEAM, Call, signed

FORM, JSON = "application/x-www-form-urlencoded", "application/json"
FORGED_CHANNEL = "CFORGED"
STALE = 600                 # seconds: twice Slack's window

Request = Callable[[], tuple[bytes, Mapping[str, str]]]     # built as it is sent, so its timestamp is fresh


@dataclass(frozen=True)
class Forgery:
    name: str
    status: int              # what the endpoint must answer
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Ack:
    status: int
    began: float             # time.perf_counter() when the request went out
    seconds: float


def signed_form(secret: str, payload: Mapping[str, str]) -> Request:
    """A form Slack would send (a slash command), signed when it is sent."""
    body = urlencode(payload).encode()
    return lambda: (body, {"Content-Type": FORM, **signed(secret, body)})


def forgeries(secret: str, response_url: Callable[[], str], rng: random.Random | None = None) -> list[Forgery]:
    """Every kind of request that must be refused, each built now (so the valid signatures are fresh)."""
    rng = rng or random.Random(0)

    def command(text: str = "models") -> bytes:
        return urlencode({"command": "/predict", "text": text, "user_id": "U1", "channel_id": FORGED_CHANNEL,
                          "team_id": TEAM, "response_url": response_url()}).encode()

    def click() -> bytes:
        return urlencode({"payload": json.dumps({
            "type": "block_actions", "user": {"id": "U1"}, "channel": {"id": FORGED_CHANNEL},
            "response_url": response_url(), "actions": [{"action_id": "share", "value": "models"}]})}).encode()

    def mention() -> bytes:
        return json.dumps({"type": "event_callback", "team_id": TEAM, "event_id": f"EvF{rng.getrandbits(32)}",
                           "event": {"type": "app_mention", "text": "<@UBOT> models", "user": "U1",
                                     "channel": FORGED_CHANNEL, "ts": f"1.{rng.getrandbits(20)}"}}).encode()

    def forged(name: str, body: bytes, content_type: str = FORM, secret: str = secret,
               timestamp: int | str | None = None, drop: str = "", **replace: str) -> Forgery:
        headers = {"Content-Type": content_type, **signed(secret, body, timestamp), **replace}
        return Forgery(name, 401, body, {k: v for k, v in headers.items() if k != drop})

    def malformed(name: str, body: bytes, content_type: str | None = JSON, status: int = 400) -> Forgery:
        typed = {"Content-Type": content_type} if content_type is not None else {}
        return Forgery(name, status, body, {**typed, **signed(secret, body)})

    now = int(time.time())
    original = command()
    altered = bytearray(original)
    altered[rng.randrange(len(altered))] ^= 1 << rng.randrange(7)      # one bit, staying ASCII
    return [
        forged("wrong secret", command(), secret="not-the-secret"),
        forged("no signature", command(), drop="X-Slack-Signature"),
        forged("garbage signature", command(), **{"X-Slack-Signature": "v0=zzz"}),
        forged("empty signature", command(), **{"X-Slack-Signature": ""}),
        forged("another request's signature", command(), **signed(secret, command(), now)),
        forged("altered body", bytes(altered), timestamp=now,
               **{"X-Slack-Signature": signed(secret, original, now)["X-Slack-Signature"]}),
        forged("timestamp abc", command(), timestamp="abc"),
        forged("timestamp 1e9", command(), timestamp="1e9"),
        forged("timestamp empty", command(), timestamp=""),
        forged("timestamp missing", command(), drop="X-Slack-Request-Timestamp"),
        forged("timestamp negative", command(), timestamp=f"-{now}"),
        forged("timestamp with a plus", command(), timestamp=f"+{now}"),
        forged("timestamp of 40 digits", command(), timestamp="9" * 40),
        forged("stale timestamp", command(), timestamp=now - STALE),
        forged("future timestamp", command(), timestamp=now + STALE),
        forged("mention with timestamp abc", mention(), JSON, timestamp="abc"),
        forged("mention with a wrong secret", mention(), JSON, secret="not-the-secret"),
        forged("button click with timestamp abc", click(), timestamp="abc"),
        malformed("bad JSON", b'{"type": "event_callback", '),
        malformed("JSON list", b"[1]"),
        malformed("JSON null", b"null"),
        malformed("JSON string", b'"event_callback"'),
        malformed("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
        malformed("JSON that Bolt cannot read", b'{"type": "event_callback", "authorizations": 5}'),
        malformed("form that starts like JSON", b"{command=/predict", FORM),
        malformed("invalid UTF-8 form", b"command=/predict&text=\xff\xfe", FORM),
        malformed("invalid UTF-8 JSON", b'{"type": "\xff"}'),
        malformed("broken payload field", b"payload=%7Bnot+json", FORM),
        malformed("payload field that is a list", b"payload=%5B1%5D", FORM),
        malformed("empty body", b"", FORM),
        malformed("wrong content type", command(), "text/plain", 415),
        malformed("no content type", command(), None, 415),
    ]


async def post_all(url: str, requests: Sequence[Request], concurrency: int) -> list[Ack]:
    """Send every request, `concurrency` at a time; the acks in the order of `requests`."""
    acks: list[Ack | None] = [None] * len(requests)
    queue = iter(enumerate(requests))

    async def sender(session: aiohttp.ClientSession) -> None:
        for n, request in queue:
            body, headers = request()
            began = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            acks[n] = Ack(response.status, began, time.perf_counter() - began)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(sender(session) for _ in range(concurrency)))
    return acks


def tally(calls: Sequence[Call], response_urls: Sequence[str]) -> tuple[Counter[str], list[Call]]:
    """How the commands with these response_urls were answered, and each one's first answer.

    Counts "answer", "busy" (the Answerer's refusal when too many wait) and
    "apology" for every call, plus "unanswered" and "repeated" commands.
    """
    shown = {render(busy())["text"]: "busy", render(Reply.apology())["text"]: "apology"}
    by_path: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        if call.method == "response":
            by_path[call.path].append(call)
    counts: Counter[str] = Counter()
    first = []
    for url in response_urls:
        answers = by_path.get(urlsplit(url).path, [])
        counts.update(shown.get(call.body.get("text"), "answer") for call in answers)
        counts["unanswered"] += not answers
        counts["repeated"] += len(answers) > 1
        first += answers[:1]
    return counts, first
