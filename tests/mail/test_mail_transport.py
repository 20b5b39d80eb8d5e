"""Delivery to a real relay (a capturing aiosmtpd sink): retries, dead letters, STARTTLS and AUTH, the outbox."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from bot.mail.outbound import Outbound, Retry
from bot.mail.spool import Envelope, Spool
from doubles.mail import Sink
from bot.mail.transport import Outbox, PermanentFailure, Relay, TemporaryFailure

REPLY = b"From: predbot@localhost\r\nTo: ann@example.com\r\nSubject: Re: x\r\n\r\nhello\r\n"


def queue(spool: Spool, *names: str) -> None:
    for name in names:
        spool.queue_reply(name, Envelope("", ("ann@example.com",)), REPLY)


def test_replies_go_over_one_connection_with_a_null_envelope_sender(sink, tmp_path):
    spool = Spool(tmp_path)
    queue(spool, "a", "b")
    outbound = Outbound(spool, Relay("127.0.0.1", sink.port), Retry())
    outbound.send(outbound.due()[0])
    received = sink.wait_for(2)
    assert [r.mail_from for r in received] == ["<>", "<>"]
    assert received[0].rcpt_tos == ("ann@example.com",) and received[0].raw == REPLY
    assert spool.outgoing() == [] and sorted(p.name for p in (tmp_path / "sent").iterdir()) == ["a.msg", "b.msg"]


def test_temporary_failures_back_off_then_deliver(tmp_path):
    sink = Sink(fail_first=2)
    try:
        spool = Spool(tmp_path)
        queue(spool, "a")
        outbound = Outbound(spool, Relay("127.0.0.1", sink.port), Retry(attempts=5, first_delay=600))
        outbound.send(outbound.due()[0])
        ready, wait = outbound.due()
        assert ready == [] and 599 < wait <= 600          # the next try waits for the backoff
        outbound.retry = Retry(attempts=5, first_delay=0)
        outbound.failed = {name: (n, 0.0) for name, (n, _) in outbound.failed.items()}
        outbound.send(outbound.due()[0])
        outbound.send(outbound.due()[0])
        assert len(sink.wait_for(1)) == 1 and spool.outgoing() == []
    finally:
        sink.close()


def test_a_permanent_refusal_goes_to_dead_letters_at_once(tmp_path, caplog):
    sink = Sink(refuse="550 5.7.1 Not from you")
    try:
        spool = Spool(tmp_path)
        queue(spool, "a")
        outbound = Outbound(spool, Relay("127.0.0.1", sink.port), Retry(attempts=5, first_delay=0))
        outbound.send(outbound.due()[0])
        assert [p.name for p in (tmp_path / "dead").iterdir()] == ["a.msg"]
        assert "not delivered after 1 attempt(s), kept in dead/" in caplog.text
    finally:
        sink.close()


def test_an_unreachable_relay_is_retried_up_to_the_bound(tmp_path, unused_port):
    spool = Spool(tmp_path)
    queue(spool, "a")
    relay = Relay("127.0.0.1", unused_port, timeout=5)
    with pytest.raises(TemporaryFailure):
        relay.session().__enter__()
    outbound = Outbound(spool, relay, Retry(attempts=3, first_delay=0))
    for _ in range(3):
        outbound.send(outbound.due()[0])
    assert spool.outgoing() == [] and [p.name for p in (tmp_path / "dead").iterdir()] == ["a.msg"]


def test_starttls_and_auth_with_the_relay(server_tls, certificate):
    sink = Sink(tls=server_tls, login=("bot", "s3cret"))
    try:
        envelope = Envelope("", ("ann@example.com",))
        wrong = Relay("127.0.0.1", sink.port, starttls=True, login=("bot", "nope"), cafile=str(certificate[0]))
        with pytest.raises(PermanentFailure), wrong.session():
            pass
        right = Relay("127.0.0.1", sink.port, starttls=True, login=("bot", "s3cret"), cafile=str(certificate[0]))
        with right.session() as deliver:
            deliver("a", envelope, REPLY)
        assert sink.wait_for(1)[0].login == "bot"
        assert right.describe() == f"relay 127.0.0.1:{sink.port} (STARTTLS, AUTH)"
    finally:
        sink.close()


def test_the_outbox_holds_one_eml_per_reply_however_often_it_is_written(tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    for _ in range(2):
        with outbox.session() as deliver:
            deliver("a", Envelope("", ("ann@example.com",)), REPLY)
    [eml] = (tmp_path / "outbox").iterdir()
    assert eml.name == "a.eml"
    assert BytesParser(policy=policy.default).parsebytes(eml.read_bytes())["Subject"] == "Re: x"


def test_once_stopping_no_further_reply_of_a_batch_is_sent(sink, tmp_path):
    spool = Spool(tmp_path)
    queue(spool, "a", "b")
    outbound = Outbound(spool, Relay("127.0.0.1", sink.port), Retry())
    outbound.stopping.set()
    outbound.send(outbound.due()[0])
    assert [p.name for p in spool.outgoing()] == ["a.msg", "b.msg"] and sink.received == []
