"""The reply mail: addressing, threading, loop-safety headers, plain + HTML parts, result files."""

from __future__ import annotations

from collections.abc import Sequence
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, localtime

from bot import reply
from bot.mail.parse import Mail
from bot.mail.spool import Envelope
from bot.render import email as render

BOT_NAME = "predbot"
SEVEN_BIT = policy.SMTP.clone(cte_type="7bit")    # any relay takes it; SMTPUTF8 only for non-ASCII addresses


def subject(original: str) -> str:
    original = original.strip()
    if original.lower().startswith("re:"):
        return original
    return f"Re: {original}" if original else "Re: your message to predbot"


def compose(mail: Mail, bot_address: str, key: str, answers: Sequence[render.Answer],
            notes: Sequence[str] = ()) -> tuple[Envelope, bytes]:
    """The reply to `mail`, sent from the bot address it was written to.

    The Message-ID comes from the inbound key, so the reply is the same mail
    however often a crash makes us compose or send it; the envelope sender is
    null (RFC 3834) so nothing bounces back to the bot.
    """
    message = EmailMessage(policy=SEVEN_BIT if mail.answer_to.isascii() else policy.SMTPUTF8)
    message["From"] = formataddr((BOT_NAME, bot_address))
    message["To"] = to_header(mail)
    message["Subject"] = subject(mail.subject)
    message["Date"] = format_datetime(localtime())
    message["Message-ID"] = f"<{key}.reply@{bot_address.rpartition('@')[2] or 'localhost'}>"
    if mail.thread_id:
        message["In-Reply-To"] = mail.thread_id
        message["References"] = " ".join([*mail.references, mail.thread_id])
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"     # asks Exchange not to answer us with an out-of-office
    message.set_content(render.plain(answers, notes))
    message.add_alternative(render.html(answers, notes), subtype="html")
    for file in files(answers):
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(file.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=file.filename)
    return Envelope("", (mail.answer_to,)), message.as_bytes()


def to_header(mail: Mail) -> str:
    """To: with the writer's name when we answer the From address; a bare address for Reply-To."""
    name = mail.name if not mail.reply_to else ""
    try:
        return str(Address(display_name=name, addr_spec=mail.answer_to))
    except (ValueError, IndexError):
        return mail.answer_to


def files(answers: Sequence[render.Answer]) -> list[reply.File]:
    return [file for answer in answers for file in answer.reply.files]
