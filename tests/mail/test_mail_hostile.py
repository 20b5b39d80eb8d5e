"""Hostile mail through the real SMTP server: each gets its outcome in seconds, and the queue keeps flowing.

Each case is sent to the running service, then a normal mail after it. Mail
is answered in arrival order, so once the normal mail's reply is in, the
hostile one's turn has passed. A case expects either a reply that says
something clear, or no reply and a log line that says why. Before the
hardening, the long-line and HTML cases each held the channel for minutes,
and the nested, unparseable and odd-filename ones ended in failed/ unanswered.
"""

from __future__ import annotations

import base64
import io
import logging
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import shapes
from client import reply_text, send

from doubles.loop import wait_until
from doubles.mail import Received

K = 1024
HOSTILE, NEXT = "<hostile@client.test>", "<next@client.test>"


def mail_with(headers: bytes = b"", body: bytes = shapes.PREDICT.encode() + b"\r\n",
              sender: bytes = b"From: Ann Lee <ann@example.com>\r\n") -> Callable[[str], bytes]:
    """A mail with these header lines first (a first Subject wins over the usual one after it), and `body`."""
    return lambda message_id: (headers + sender + f"To: predbot@localhost\r\nSubject: x\r\n"
                               f"Message-ID: {message_id}\r\n\r\n".encode() + body)


def folded(name: str, words: list[str]) -> bytes:
    """A header of many words, folded onto lines SMTP takes (at most 998 characters each)."""
    lines = [" ".join(words[n:n + 20]) for n in range(0, len(words), 20)]
    return f"{name}: " .encode() + "\r\n ".join(lines).encode() + b"\r\n"


def encoded(data: bytes) -> bytes:
    """Base64 in CRLF lines, as a mail program sends a body that is one long line, or binary."""
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def html(page: bytes) -> Callable[[str], bytes]:
    """An HTML-only mail."""
    return lambda message_id: shapes.raw('text/html; charset="utf-8"', encoded(page), "base64",
                                         message_id=message_id)


def nested(levels: int) -> tuple[bytes, bytes]:
    """The Content-Type header and body of a multipart with one multipart in it, `levels` deep."""
    parts = b"".join(f"--b{n}\r\nContent-Type: multipart/mixed; boundary=b{n + 1}\r\n\r\n".encode()
                     for n in range(1, levels))
    return (b"Content-Type: multipart/mixed; boundary=b1\r\n",
            parts + f"--b{levels}\r\n\r\n{shapes.PREDICT}\r\n".encode())


def garbage(message_id: str) -> bytes:
    """64 KB of random bytes with no `=`, so no line of it can pass for a command."""
    noise = bytes(b for b in random.Random(8).randbytes(80 * K) if b != ord("="))[:64 * K]
    return shapes.raw("text/plain", encoded(noise), "base64", message_id=message_id)


def zipped() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped_file:
        zipped_file.writestr("people.csv", "age,income\n45,60000\n")
    return archive.getvalue()


def not_injected(reply: Received) -> bool:
    """The reply goes to the sender alone, and every header of it is one line."""
    return (reply.rcpt_tos == ("ann@example.com",) and reply.message["Bcc"] is None
            and all("\r" not in v and "\n" not in v for v in reply.message.values()))


def clean_file_name(reply: Received) -> bool:
    [result] = reply.message.iter_attachments()
    return not set(result.get_filename()) & {"\r", "\n", "\0"} and result.get_filename().endswith("-predictions.csv")


@dataclass(frozen=True)
class Case:
    name: str
    mail: Callable[[str], bytes]                    # Message-ID -> the raw mail
    says: str = ""                                  # the reply says this; "" for no reply,
    logs: str = ""                                  # and then the log says this
    check: Callable[[Received], bool] = lambda reply: True

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("one 100 KB line of a=1", lambda i: shapes.plain("a=1 " * (25 * K), message_id=i),
         says="characters long", check=lambda reply: len(reply.raw) < 40 * K),
    Case("one 100 KB line of spaces", lambda i: shapes.plain("a" + " " * (100 * K) + "x", message_id=i),
         says="I found no command"),
    Case("an attribution line 90 KB wide",          # under the 100,000 characters of a body that are read
         lambda i: shapes.plain("On" + " " * (90 * K) + "x:\n" + shapes.PREDICT, message_id=i), says="confident)"),
    Case("100 KB of unclosed HTML tags", html(b"<p>" + shapes.PREDICT.encode() + b"</p>" + b"<a " * (34 * K)),
         says="confident)"),
    Case("an HTML character reference of 5,000 digits",
         html(b"<p>" + shapes.PREDICT.encode() + b"</p>&#" + b"1" * 5000), says="confident)"),
    Case("a body of binary garbage", garbage, says="I found no command"),
    Case("8-bit bytes in From's name and the Subject",
         mail_with(b"Subject: \xe9t\xe9\r\n", sender=b"From: \xff\xfe <ann@example.com>\r\n"),
         says="confident)", check=lambda reply: reply.message["Subject"] == "Re: \ufffdt\ufffd"),
    Case("8-bit bytes in the From address", mail_with(sender=b"From: <\xff\xfe@example.com>\r\n"),
         logs="bytes that are not UTF-8 in the address"),
    Case("an encoded CRLF in From's name",
         mail_with(sender=b"From: =?utf-8?q?a=0d=0aBcc:_victim@evil.com?= <ann@example.com>\r\n"),
         logs="From: an encoded word in the name hides a control character"),
    Case("an encoded word where the From address should be",
         mail_with(sender=b"From: =?utf-8?q?x=0D=0A_victim@evil.com?=\r\n"), logs="From: not one plain address"),
    Case("an encoded CRLF in Reply-To",
         mail_with(b"Reply-To: =?utf-8?q?a=0d=0aBcc:_x@evil.com?= <team@example.com>\r\n"),
         logs="Reply-To: an encoded word in the name hides a control character"),
    Case("two From headers", mail_with(b"From: eve@evil.example.com\r\n"), logs="From: 2 of them"),
    Case("a From of 7,000 quotes", mail_with(sender=folded("From", ['""'] * 7000)), logs="characters long"),
    Case("a From of 500 open comments", mail_with(sender=folded("From", ["(("] * 250)),
         logs="From: an unclosed comment"),
    Case("an address in the name and the bot's address in <>",
         mail_with(sender=b"From: ann@example.com <predbot@localhost>\r\n"), logs="sent by this bot"),
    Case("Auto-Submitted: no, then auto-replied",
         mail_with(b"Auto-Submitted: no\r\nAuto-Submitted: auto-replied\r\n"), logs="Auto-Submitted: auto-replied"),
    Case("a file name with CR, LF and NUL",
         lambda i: shapes.with_csv(message_id=i).replace(b'filename="people.csv"',
                                                         b"filename*=utf-8''peo%0D%0ABcc:%20x%00ple.csv"),
         says="1 of 2 rows predicted", check=clean_file_name),
    Case("multipart nested 1,000 deep", mail_with(*nested(1000)), says="more than 100 MIME parts"),
    Case("multipart nested 20 deep", mail_with(*nested(20)), says="nested more than 10 deep"),
    Case("10,000 empty MIME parts", mail_with(b"Content-Type: multipart/mixed; boundary=b\r\n",
                                             b"--b\r\n\r\nx\r\n" * 10_000 + b"--b--\r\n"),
         says="more than 100 MIME parts"),
    Case("a zip posing as a CSV attachment", lambda i: shapes.with_csv(csv=zipped(), message_id=i),
         says="people.csv"),
    Case("300 commands in one mail",
         lambda i: shapes.plain("\n".join(f"predict: age={n}" for n in range(300)), message_id=i),
         says="Your mail has 300 commands; I answered the first 10."),
    Case("a Subject hiding a CRLF and a Bcc",
         mail_with(b"Subject: =?utf-8?q?hi=0D=0ABcc:_victim@evil.com?=\r\n"), says="confident)",
         check=lambda reply: not_injected(reply) and reply.message["Subject"] == "Re: hi Bcc: victim@evil.com"),
    Case("References hiding a CRLF and a Bcc",
         mail_with(b"References: <r1@client.test> =?utf-8?q?=0D=0ABcc:_x@evil.com?=\r\n"), says="confident)",
         check=lambda reply: not_injected(reply) and reply.message["References"] == f"<r1@client.test> {HOSTILE}"),
    Case("8-bit bytes in References", mail_with(b"References: <r\xff@client.test> <r2@client.test>\r\n"),
         says="confident)", check=lambda reply: reply.message["References"] == f"<r2@client.test> {HOSTILE}"),
    Case("a Subject of 7,000 encoded words", mail_with(folded("Subject", ["=?utf-8?q?a?="] * 7000)),
         says="confident)", check=lambda reply: len(reply.message["Subject"]) < 2100),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_mail_gets_a_clear_reply_or_none_and_a_log_line_and_the_queue_flows(case, serve, sink, caplog):
    caplog.set_level(logging.INFO, logger="bot.mail")
    service = serve()
    send(service.port, case.mail(HOSTILE))
    send(service.port, shapes.plain(message_id=NEXT))
    assert "confident)" in reply_text(sink.reply_to(NEXT))
    spool = service.args.spool
    if case.says:
        reply = sink.reply_to(HOSTILE)
        assert case.says in reply_text(reply) and "went wrong" not in reply_text(reply)
        assert case.check(reply)
    else:
        wait_until(lambda: not any((spool / "outgoing").iterdir()))
        assert [r.in_reply_to for r in sink.received] == [NEXT]
        assert case.logs in caplog.text
        assert len(list((spool / "settled").iterdir())) == 1
    wait_until(lambda: not any((spool / "incoming").iterdir()))   # a reply can go out before its mail is done
    assert not any((spool / "failed").iterdir())
