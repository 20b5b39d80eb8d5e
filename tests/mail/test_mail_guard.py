"""The loop guard (RFC 3834), the allow-list and the rate limit (counted in the store) decide whom not to answer."""

from __future__ import annotations

import logging

import pytest
import shapes

from bot.mail.addresses import AddressSet
from bot.mail.guard import Guard, robot_reason
from bot.mail.parse import parse
from bot.store.shared import Shared

OURS = AddressSet.parse(["predbot@localhost", "@bots.example.com"])
NO_LIMIT = (0, 1.0)


def mail(mail_from="ann@example.com", **kw):
    return parse(shapes.plain(**kw), mail_from)


@pytest.mark.parametrize("mail_from, kw", [
    ("<>", {}),
    ("", {}),
    ("MAILER-DAEMON@mx.example.com", {}),
    ("ann@example.com", {"sender": "MAILER-DAEMON@mx.example.com"}),
    ("ann@example.com", {"sender": "owner-stats@lists.example.com"}),
    ("ann@example.com", {"sender": "stats-request@lists.example.com"}),
    ("ann@example.com", {"extra": {"Auto-Submitted": "auto-replied"}}),
    ("ann@example.com", {"extra": {"Auto-Submitted": "auto-generated; owner-email=x@y"}}),
    ("ann@example.com", {"extra": {"Auto-Submitted": "no\r\nAuto-Submitted: auto-replied"}}),   # every one counts
    ("ann@example.com", {"extra": {"Precedence": "first-class\r\nPrecedence: bulk"}}),
    ("ann@example.com", {"extra": {"Precedence": "bulk"}}),
    ("ann@example.com", {"extra": {"Precedence": "JUNK"}}),
    ("ann@example.com", {"extra": {"Precedence": "list"}}),
    ("ann@example.com", {"extra": {"List-Id": "<stats.lists.example.com>"}}),
    ("ann@example.com", {"extra": {"X-Auto-Response-Suppress": "OOF"}}),
    ("ann@example.com", {"extra": {"Content-Type": "multipart/report; report-type=delivery-status; "
                                                   "boundary=b"}}),
    ("predbot@localhost", {"sender": "predbot@localhost"}),
    ("ann@example.com", {"sender": "someone <predbot@localhost>"}),
    ("ann@example.com", {"sender": "ann@example.com <predbot@localhost>"}),   # the address is in the brackets
    ("ann@example.com", {"sender": "=?utf-8?q?a=0d=0aBcc:_victim@evil.com?= <ann@example.com>"}),
    ("ann@example.com", {"extra": {"Reply-To": "PredBot@LOCALHOST"}}),
    ("x@bots.example.com", {"sender": "x@bots.example.com"}),
])
def test_robots_lists_reports_and_ourselves_get_no_reply(mail_from, kw):
    assert robot_reason(mail(mail_from, **kw), OURS)


def test_people_get_a_reply_and_auto_submitted_no_is_a_person():
    assert robot_reason(mail(), OURS) is None
    assert robot_reason(mail(extra={"Auto-Submitted": "no"}), OURS) is None


def test_the_allow_list_takes_addresses_and_domains_and_logs_the_rest(shared, caplog):
    guard = Guard(OURS, AddressSet.parse(["ann@example.com,@corp.example.com"]), NO_LIMIT, shared)
    assert guard.why_not(mail()) is None
    assert guard.why_not(mail(sender="bo@corp.example.com")) is None
    with caplog.at_level(logging.WARNING):
        assert guard.why_not(mail(sender="eve@evil.example.com")) == "not on the allow-list"
    assert "eve@evil.example.com" in caplog.text
    # an allowed From cannot direct the reply elsewhere with Reply-To
    assert guard.why_not(mail(extra={"Reply-To": "victim@elsewhere.example.com"}))


def test_rate_limit_is_a_sliding_window_per_address_and_says_so(store, caplog):
    now = [1_800_000_000.0]
    guard = Guard(OURS, AddressSet(), (2, 60), Shared(store.engine, clock=lambda: now[0]))
    senders = ["ann@example.com", "Ann@Example.com", "ann@example.com", "bo@example.com"]
    with caplog.at_level(logging.WARNING):
        reasons = [guard.why_not(mail(sender=sender)) for sender in senders]
    assert reasons == [None, None, "rate limit of 2 replies per 60s reached", None]
    [record] = caplog.records
    assert record.getMessage().endswith("from ann@example.com: rate limit of 2 replies per 60s reached")
    now[0] += 60.5
    assert guard.why_not(mail()) is None


def test_the_rate_limit_counts_across_guards_on_one_store(store):
    """Two hosts' guards on one store: the replies one host sent count at the other."""
    first, second = (Guard(OURS, AddressSet(), (1, 3600), Shared(store.engine)) for _ in range(2))
    assert first.why_not(mail()) is None
    assert second.why_not(mail()) == "rate limit of 1 replies per 3600s reached"
    assert second.why_not(mail(sender="bo@example.com")) is None


def test_no_limit_asks_no_store(unreachable, caplog):
    guard = Guard(OURS, AddressSet(), NO_LIMIT, unreachable)
    with caplog.at_level(logging.WARNING):
        assert [guard.why_not(mail()) for _ in range(3)] == [None, None, None]
    assert caplog.records == []


def test_a_store_that_cannot_be_reached_lets_every_mail_through_with_a_warning_each(unreachable, caplog):
    guard = Guard(OURS, AddressSet(), (1, 3600), unreachable)
    with caplog.at_level(logging.WARNING):
        assert [guard.why_not(mail(message_id=f"<m{n}@client.test>")) for n in range(2)] == [None, None]
    assert [(r.levelno, r.getMessage().split(": the store")[0]) for r in caplog.records] == [
        (logging.WARNING, f"answering mail <m{n}@client.test> from ann@example.com without the rate limit")
        for n in range(2)]
    assert "OperationalError" in caplog.records[0].getMessage()


def test_address_sets_parse_lists_and_reject_non_addresses():
    found = AddressSet.parse(["predbot@localhost, @example.com", "<Help@Corp.test>"])
    assert "PREDBOT@localhost" in found and "any@example.com" in found and "help@corp.test" in found
    assert "predbot@elsewhere" not in found and "" not in found
    assert str(found) == "help@corp.test, predbot@localhost, @example.com"
    with pytest.raises(ValueError):
        AddressSet.parse(["predbot"])


def test_a_header_that_does_not_parse_cleanly_gets_no_reply_and_a_warning(shared, caplog):
    guard = Guard(OURS, AddressSet(), NO_LIMIT, shared)
    with caplog.at_level(logging.INFO):
        reason = guard.why_not(mail(extra={"Reply-To": "=?utf-8?q?a=0d=0a?= <team@example.com>"}))
    assert reason == "a header that does not parse cleanly, Reply-To: an encoded word in the name hides a " \
                     "control character"
    [record] = caplog.records
    assert record.levelno == logging.WARNING and reason in record.getMessage()
