"""What the mail tests do as the people on the other side: send a mail over SMTP, read a reply."""

from __future__ import annotations

import smtplib

from doubles.mail import Received


def send(port: int, raw: bytes, mail_from: str = "ann@example.com", to: str = "predbot@localhost",
         **options) -> None:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=10) as client:
        client.sendmail(mail_from, [to], raw, **options)


def reply_text(received: Received) -> str:
    """The plain part of a reply, with the line ends it was written with."""
    return received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
