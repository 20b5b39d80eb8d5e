"""Is an HTTP request from Slack, and readable? Decided over its raw bytes and headers, before anything parses it.

Slack signs `v0:{timestamp}:{body}` with the app's signing secret. slack_sdk's
verifier turns the timestamp header into an int, and the body into text,
before it compares anything; a timestamp such as `abc` raised inside Bolt,
whose error handler then answered where the unverified body said. So every
header is checked as text here, the signature over the bytes as received,
and the body is read only once it is known to be Slack's. Any HTTP adapter
(aiohttp today) calls `Verifier.check` and hands Bolt only what passed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

WINDOW = 300                 # seconds either side of now, as Slack's own verifier allows
MAX_TIMESTAMP_DIGITS = 12    # Unix seconds have 10 digits until the year 2286
FORM, JSON = "application/x-www-form-urlencoded", "application/json"


@dataclass(frozen=True)
class Rejection:
    """Why a request is not answered: a status for the sender, a reason for the log (never the body or secret)."""

    status: int
    reason: str


class Verifier:
    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        if not signing_secret:
            raise ValueError("a signing secret is needed to verify Slack's requests")
        self.secret, self.clock = signing_secret.encode(), clock

    def check(self, body: bytes, headers: Mapping[str, str]) -> Rejection | None:
        """None when Slack signed this body in the last five minutes and Bolt can read it."""
        named = {key.lower(): value for key, value in headers.items()}
        return (self.unsigned(body, named.get("x-slack-request-timestamp", ""),
                              named.get("x-slack-signature", ""))
                or unreadable(body, named.get("content-type", "")))

    def unsigned(self, body: bytes, timestamp: str, signature: str) -> Rejection | None:
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
            return Rejection(401, "its timestamp is missing or not a number of seconds")
        if abs(self.clock() - int(timestamp)) > WINDOW:
            return Rejection(401, "its timestamp is more than five minutes from now")
        expected = hmac.new(self.secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not (signature.isascii() and hmac.compare_digest(f"v0={expected}", signature)):
            return Rejection(401, "its signature does not match")
        return None


def unreadable(body: bytes, content_type: str) -> Rejection | None:
    """Anything Bolt would fail to read, or read as something other than one JSON object or form.

    Follows Bolt's own reading: JSON when the content type says so or the body
    starts with `{`, else form fields, whose `payload` (when the body mentions
    one) is the JSON of a button click.
    """
    media = content_type.split(";")[0].strip().lower()
    if media not in (FORM, JSON):
        return Rejection(415, f"Slack sends forms or JSON, not {media or 'no content type'}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection(400, "its body is not UTF-8")
    if not text:
        return Rejection(400, "its body is empty")
    if media == JSON or text.startswith("{"):
        return not_an_object(text, "its body")
    payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload") if "payload" in text else None
    return None if payload is None else not_an_object(payload, "its payload field")


def not_an_object(text: str, what: str) -> Rejection | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):     # RecursionError: arrays nested a few thousand deep
        return Rejection(400, f"{what} is not JSON")
    return None if isinstance(value, dict) else Rejection(400, f"{what} is JSON but not an object")
