"""The mail shapes the tests send: each a function returning the raw bytes a client would."""

from __future__ import annotations

import base64
import quopri
import uuid
from email.message import EmailMessage

PREDICT = "predict: age=45, income=60000"


def new_id() -> str:
    return f"<{uuid.uuid4().hex}@client.test>"


def head(subject: str = "churn question", sender: str = "Ann Lee <ann@example.com>",
         message_id: str | None = None, extra: dict[str, str] | None = None) -> str:
    """Headers; message_id None makes a fresh one, "" leaves the header out."""
    message_id = new_id() if message_id is None else message_id
    lines = [f"From: {sender}", "To: predbot@localhost", f"Subject: {subject}",
             *([f"Message-ID: {message_id}"] if message_id else []), "Date: Mon, 23 Nov 2026 09:00:00 +0000",
             *(f"{k}: {v}" for k, v in (extra or {}).items())]
    return "\r\n".join(lines) + "\r\n"


def plain(body: str = PREDICT, **kw) -> bytes:
    message = EmailMessage()
    message.set_content(body)
    return head(**kw).encode() + message.as_bytes().replace(b"\n", b"\r\n")


def raw(content_type: str, body: bytes, encoding: str = "7bit", **kw) -> bytes:
    """A single-part mail written by hand, so its labels can lie."""
    headers = head(**kw) + f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n" \
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    return headers.encode() + body


def html_only(**kw) -> bytes:
    body = (b"<html><body><p>Hello bot,</p><p>predict: age=45, income=60000</p>"
            b"<div>Thanks &amp; regards</div></body></html>")
    return raw('text/html; charset="utf-8"', body, **kw)


def quoted_printable(**kw) -> bytes:
    body = quopri.encodestring("Grüße!\npredict: age=45, income=60000\n".encode("utf-8"))
    return raw('text/plain; charset="utf-8"', body, "quoted-printable", **kw)


def base64_body(**kw) -> bytes:
    body = base64.encodebytes(b"predict iris: 5.1, 3.5, 1.4, 0.2\n")
    return raw('text/plain; charset="utf-8"', body, "base64", **kw)


def latin1(**kw) -> bytes:
    body = "Bonjour, voilà:\npredict: age=45, income=60000\n".encode("iso-8859-1")
    return raw('text/plain; charset="iso-8859-1"', body, "8bit", subject="=?iso-8859-1?q?d=E9j=E0?=", **kw)


def bogus_charset(**kw) -> bytes:
    body = "Grüße\npredict: age=45, income=60000\n".encode("utf-8")
    return raw('text/plain; charset="x-no-such-charset"', body, "8bit", **kw)


def with_csv(text: str = "predict churn", csv: bytes = b"id,age,income\n1,45,60000\n2,50,lots\n",
             **kw) -> bytes:
    message = EmailMessage()
    message.set_content(text)
    message.add_attachment(csv, maintype="text", subtype="csv", filename="people.csv")
    return head(**kw).encode() + message.as_bytes().replace(b"\n", b"\r\n")


def reply_with_quote(**kw) -> bytes:
    body = ("predict: age=30, income=40000\n\n"
            "On Mon, 23 Nov 2026 at 09:00, predbot <predbot@localhost> wrote:\n"
            "> predict iris: 5.1, 3.5, 1.4, 0.2\n"
            "> setosa (97% confident)\n")
    return plain(body, subject="Re: churn question", **kw)
