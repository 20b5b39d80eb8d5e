"""The spool keeps mail durably and knows what was answered; one process at a time."""

from __future__ import annotations

import os
import re

import pytest

from bot.mail.spool import Envelope, Spool, SpoolBusy, message_key, unpack


def test_accepted_mail_is_kept_with_its_envelope_in_arrival_order(tmp_path):
    spool = Spool(tmp_path)
    first = spool.accept(Envelope("a@x", ("predbot@localhost",), 1.0, "127.0.0.1"), b"one\r\n")
    second = spool.accept(Envelope("b@x", ("predbot@localhost",)), b"two\r\n")
    assert spool.incoming() == [first, second]
    assert unpack(first) == (Envelope("a@x", ("predbot@localhost",), 1.0, "127.0.0.1"), b"one\r\n")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_key_is_answered_once_a_reply_or_a_decision_is_kept(tmp_path):
    spool = Spool(tmp_path)
    key, other = message_key("<m@x>", b"..."), message_key("", b"raw")
    assert key == message_key(" <m@x> ", b"different bytes") != other
    assert not spool.answered(key)
    path = spool.queue_reply(key, Envelope("", ("ann@x",)), b"reply")
    assert spool.answered(key) and spool.outgoing() == [path]
    spool.move(path, "sent")
    assert spool.answered(key) and spool.outgoing() == []
    spool.settle(other, "auto-reply")
    assert spool.answered(other)


def test_only_one_process_holds_the_spool_and_leftovers_are_cleared(tmp_path):
    first = Spool(tmp_path)
    (tmp_path / "tmp" / "half-written").write_bytes(b"x")
    first.lock()
    assert list((tmp_path / "tmp").iterdir()) == []
    with pytest.raises(SpoolBusy):
        Spool(tmp_path).lock()
    first.unlock()
    Spool(tmp_path).lock()


def test_prune_forgets_old_answers_only(tmp_path):
    spool = Spool(tmp_path)
    spool.settle("old", "x")
    spool.settle("new", "x")
    os.utime(tmp_path / "settled" / "old", (0, 0))
    assert spool.prune(86400) == 1
    assert not spool.answered("old") and spool.answered("new")


def test_attempts_are_counted_on_disk_and_uncounted_only_by_a_graceful_stop(tmp_path):
    spool = Spool(tmp_path)
    mail = spool.accept(Envelope("a@x", ("predbot@localhost",)), b"one\r\n")
    assert [spool.begin(mail), spool.begin(mail)] == [1, 2]
    assert Spool(tmp_path).attempts(mail) == 2                  # a new process (after kill -9) sees them
    spool.interrupted(mail)
    assert spool.attempts(mail) == 1
    spool.interrupted(mail)
    assert spool.attempts(mail) == 0 and list((tmp_path / "attempts").iterdir()) == []
    spool.begin(mail)
    spool.done(mail)
    assert spool.incoming() == [] and list((tmp_path / "attempts").iterdir()) == []


def test_a_set_aside_mail_goes_to_failed_and_stale_counts_are_cleared(tmp_path):
    spool = Spool(tmp_path)
    mail = spool.accept(Envelope("a@x", ("predbot@localhost",)), b"one\r\n")
    spool.begin(mail)
    assert spool.set_aside(mail) == tmp_path / "failed" / mail.name
    assert spool.incoming() == [] and list((tmp_path / "attempts").iterdir()) == []
    (tmp_path / "attempts" / "answered-just-before-a-crash.msg").write_bytes(b"1")
    spool.lock()
    assert list((tmp_path / "attempts").iterdir()) == []


def test_a_spool_is_one_host_to_the_store_from_start_to_start(tmp_path):
    host = Spool(tmp_path / "a").host
    assert re.fullmatch(r"[0-9a-f]{32}", host)
    assert Spool(tmp_path / "a").host == host                   # a restart is the same host
    assert Spool(tmp_path / "b").host != host                   # another spool is another host
    assert list((tmp_path / "a" / "tmp").iterdir()) == []


def test_replies_wait_in_the_order_they_were_queued_whatever_their_keys_and_the_clock(tmp_path):
    spool = Spool(tmp_path)
    queued = [spool.queue_reply(key * 40, Envelope("", ("ann@x",)), b"reply") for key in "f0a9"]
    assert spool.outgoing() == queued           # four within one tick of the file clock, as fast as they came
