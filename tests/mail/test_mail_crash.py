"""The mail server as a process: kill -9 while mail flows, SIGTERM while a long answer is scored,
and a mail that kills it twice (machinery in crashing.py, shared with the stress run)."""

from __future__ import annotations

import crashing
import shapes
from client import reply_text, send
from crashing import attempts, count

from doubles.loop import wait_until
from bot.mail.worker import SET_ASIDE

MAILS = 60


def slow_csv(rows: int = 40_000) -> bytes:
    """A mail with a CSV that takes the demo model tens of seconds to score."""
    csv = "age,income\n" + "".join(f"{20 + n % 60},{30_000 + n}\n" for n in range(rows))
    return shapes.with_csv("predict churn", csv.encode(), message_id="<slow@client.test>")


def test_kill_9_while_mail_flows_loses_nothing_and_answers_once(demo_dir, sink, tmp_path, unused_port):
    spool = tmp_path / "spool"
    server = crashing.server(demo_dir, tmp_path, unused_port, sink)
    moments = [lambda clients: len(clients.accepted) >= MAILS // 3,              # once while mail comes in,
               # once while replies are made and sent: a moment of the answering stage, not of delivery,
               # so the kill falls anywhere in a delivery, including between the relay's 250 and our record
               lambda clients: count(spool / "outgoing") + count(spool / "sent") >= MAILS // 3]
    outcome = crashing.run(server, sink, spool, MAILS, moments)
    server.stop()
    outcome.check(kills=len(moments))
    assert count(spool / "dead") == count(spool / "failed") == 0
    print(f"\ncrash test: {MAILS} mails, killed at [{'; '.join(outcome.moments)}]; {outcome.clients.resends} resends "
          f"by clients; one answer per mail; {outcome.duplicated} delivery in doubt at a kill repeated byte for byte")


def test_sigterm_while_a_big_file_is_scored_stops_within_10_s_and_the_mail_is_redone(
        demo_dir, sink, tmp_path, unused_port):
    spool = tmp_path / "spool"
    server = crashing.server(demo_dir, tmp_path, unused_port, sink)
    server.start()
    try:
        send(unused_port, slow_csv())
        [name] = wait_until(lambda: attempts(spool))            # counted: the answer is being scored
        send(unused_port, shapes.plain(message_id="<meanwhile@client.test>"))     # 250 within smtplib's 10 s
        assert server.stop() < 10
        assert sorted(p.name for p in (spool / "incoming").iterdir())[0] == name and count(spool / "incoming") == 2
        assert attempts(spool) == {}, "a graceful stop does not count as a failed attempt"
        server.start("--file-seconds", "1")                     # redone, and this time out of time at once
        text = reply_text(sink.reply_to("<slow@client.test>"))
        assert SET_ASIDE not in text and "went wrong" not in text
        assert "confident)" in reply_text(sink.reply_to("<meanwhile@client.test>"))
        wait_until(lambda: count(spool / "incoming") == 0)      # a reply can go out before its mail is done
        assert count(spool / "failed") == 0
        assert server.stop() < 10                               # the abandoned scoring still runs: no matter
    finally:
        if server.running():
            server.kill()


def test_a_mail_that_kills_the_server_twice_is_set_aside_with_a_reply(demo_dir, sink, tmp_path, unused_port):
    spool = tmp_path / "spool"
    server = crashing.server(demo_dir, tmp_path, unused_port, sink)
    server.start()
    try:
        send(unused_port, slow_csv())
        [name] = wait_until(lambda: attempts(spool))
        for tries in (1, 2):                                    # kill -9 during the first and second attempt
            wait_until(lambda tries=tries: attempts(spool) == {name: tries})
            server.kill()
            server.start()
        text = reply_text(sink.reply_to("<slow@client.test>"))
        assert SET_ASIDE in text
        # the reply can go out before the mail is moved and its count cleared
        wait_until(lambda: count(spool / "failed") and attempts(spool) == {})
        assert [p.name for p in (spool / "failed").iterdir()] == [name] and count(spool / "incoming") == 0
        send(unused_port, shapes.plain(message_id="<after@client.test>"))
        assert "confident)" in reply_text(sink.reply_to("<after@client.test>"))
        server.stop()
    finally:
        if server.running():
            server.kill()
