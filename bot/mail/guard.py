"""Whom not to answer (RFC 3834): other robots, mailing lists, bounces, ourselves, floods.

A mail the guard stops gets no reply and a log line, never a bounce: a bounce
to a forged sender is backscatter.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable

from bot.mail.addresses import AddressSet, normalize
from bot.mail.parse import Mail

log = logging.getLogger(__name__)

ROBOT_LOCAL_PARTS = ("mailer-daemon", "postmaster")
REPORT_TYPES = {"multipart/report", "message/delivery-status", "message/disposition-notification"}


def robot_reason(mail: Mail, ours: AddressSet) -> str | None:
    """Why this mail must not get an automatic reply, or None."""
    local = normalize(mail.answer_to).partition("@")[0]
    headers = mail.headers
    checks = (
        (not normalize(mail.mail_from), "null envelope sender (a bounce or an auto-reply)"),
        (not mail.answer_to, "no From or Reply-To address to answer"),
        (local in ROBOT_LOCAL_PARTS or normalize(mail.mail_from).partition("@")[0] in ROBOT_LOCAL_PARTS,
         "sent by a mail system"),
        (local.startswith("owner-") or local.endswith("-request"), "a list's robot address"),
        (headers.get("auto-submitted", "no").split(";")[0].strip().lower() != "no",
         f"Auto-Submitted: {headers.get('auto-submitted')}"),
        (headers.get("precedence", "").strip().lower() in {"bulk", "junk", "list"},
         f"Precedence: {headers.get('precedence')}"),
        ("list-id" in headers, "List-Id: mailing-list traffic"),
        ("x-auto-response-suppress" in headers, "X-Auto-Response-Suppress"),
        (bool(REPORT_TYPES.intersection(mail.content_types)), "a delivery or read report"),
        (any(a in ours for a in (mail.answer_to, mail.sender, mail.mail_from)), "sent by this bot"),
    )
    return next((why for hit, why in checks if hit), None)


class RateLimit:
    """At most `count` replies to one address per `period` seconds (a sliding window)."""

    def __init__(self, count: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self.period = period
        self.clock = clock
        self.sent: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, address: str) -> bool:
        if self.count <= 0:
            return True
        now = self.clock()
        times = self.sent[normalize(address)]
        while times and times[0] <= now - self.period:
            times.popleft()
        if len(times) >= self.count:
            return False
        times.append(now)
        return True


class Guard:
    def __init__(self, ours: AddressSet, allowed: AddressSet, rate: RateLimit) -> None:
        self.ours = ours
        self.allowed = allowed
        self.rate = rate

    def why_not(self, mail: Mail) -> str | None:
        """The reason not to answer this mail, or None to answer it. Refusals are logged here:
        robots at INFO (they are routine), people refused by policy at WARNING."""
        if reason := robot_reason(mail, self.ours):
            log.info("not answering mail %s from %s: %s", mail.message_id, mail.sender or mail.mail_from, reason)
            return reason
        if self.allowed and not (mail.sender in self.allowed and mail.answer_to in self.allowed):
            reason = "not on the allow-list"
        elif not self.rate.allow(mail.answer_to):
            reason = f"rate limit of {self.rate.count} replies per {self.rate.period:g}s reached"
        if reason:
            log.warning("not answering mail %s from %s: %s", mail.message_id, mail.answer_to, reason)
        return reason
