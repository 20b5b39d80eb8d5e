"""Whom not to answer (RFC 3834): other robots, mailing lists, bounces, ourselves, floods.

A mail the guard stops gets no reply and a log line, never a bounce: a bounce
to a forged sender is backscatter. The flood limit per sender is counted in
the store, so every host sharing it counts the same replies.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot.mail.addresses import AddressSet, normalize
from bot.mail.parse import Mail
from bot.store.writer import describe

if TYPE_CHECKING:
    from bot.store.shared import Shared

log = logging.getLogger(__name__)

ROBOT_LOCAL_PARTS = ("mailer-daemon", "postmaster")
REPORT_TYPES = {"multipart/report", "message/delivery-status", "message/disposition-notification"}


def robot_reason(mail: Mail, ours: AddressSet) -> str | None:
    """Why this mail must not get an automatic reply, or None.

    Every value of a repeated header counts: a second `Auto-Submitted:
    auto-replied` after a first `no` still marks a robot.
    """
    local = normalize(mail.answer_to).partition("@")[0]
    submitted = [v for v in mail.headers.get("auto-submitted", ()) if v.split(";")[0].strip().lower() != "no"]
    precedence = [v for v in mail.headers.get("precedence", ()) if v.strip().lower() in {"bulk", "junk", "list"}]
    checks = (
        (not normalize(mail.mail_from), "null envelope sender (a bounce or an auto-reply)"),
        (bool(mail.unclean), f"a header that does not parse cleanly, {mail.unclean}"),
        (not mail.answer_to, "no From or Reply-To address to answer"),
        (local in ROBOT_LOCAL_PARTS or normalize(mail.mail_from).partition("@")[0] in ROBOT_LOCAL_PARTS,
         "sent by a mail system"),
        (local.startswith("owner-") or local.endswith("-request"), "a list's robot address"),
        (bool(submitted), f"Auto-Submitted: {', '.join(submitted)[:200]}"),
        (bool(precedence), f"Precedence: {', '.join(precedence)[:200]}"),
        ("list-id" in mail.headers, "List-Id: mailing-list traffic"),
        ("x-auto-response-suppress" in mail.headers, "X-Auto-Response-Suppress"),
        (bool(REPORT_TYPES.intersection(mail.content_types)), "a delivery or read report"),
        (any(a in ours for a in (mail.answer_to, mail.sender, mail.mail_from)), "sent by this bot"),
    )
    return next((why for hit, why in checks if hit), None)


class Guard:
    def __init__(self, ours: AddressSet, allowed: AddressSet, rate: tuple[int, float], shared: Shared) -> None:
        """`rate`: at most so many replies to one address per so many seconds, across the hosts sharing `shared`
        (a count of 0: no limit)."""
        self.ours = ours
        self.allowed = allowed
        self.count, self.period = rate
        self.shared = shared

    def why_not(self, mail: Mail) -> str | None:
        """The reason not to answer this mail, or None to answer it. Refusals are logged here:
        robots at INFO (they are routine), people refused by policy at WARNING."""
        if reason := robot_reason(mail, self.ours):
            level = logging.WARNING if mail.unclean else logging.INFO     # a forged header is news; robots are not
            log.log(level, "not answering mail %s from %s: %s", mail.message_id[:200],
                    mail.sender or mail.mail_from, reason)
            return reason
        if self.allowed and not (mail.sender in self.allowed and mail.answer_to in self.allowed):
            reason = "not on the allow-list"
        elif not self.admitted(mail):
            reason = f"rate limit of {self.count} replies per {self.period:g}s reached"
        if reason:
            log.warning("not answering mail %s from %s: %s", mail.message_id[:200], mail.answer_to, reason)
        return reason

    def admitted(self, mail: Mail) -> bool:
        """Whether the rate limit lets one more reply go to the mail's sender (and counts it). A store that
        cannot be reached admits it: a missed limit costs less than a lost answer."""
        if self.count <= 0:
            return True
        try:
            return self.shared.admit(f"mail:{normalize(mail.answer_to)}", self.count, self.period) == 0
        except SQLAlchemyError as error:
            log.warning("answering mail %s from %s without the rate limit: the store cannot be reached (%s)",
                        mail.message_id[:200], mail.answer_to, describe(error))
            return True
