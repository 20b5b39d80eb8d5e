"""Raw mail bytes -> the parts of a message the bot uses, whatever shape the MIME is in.

Mail arrives with lying charset labels, missing boundaries, unparseable
headers and no Message-ID; every field here falls back to something usable
rather than raising, so one bad message never stalls the queue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

from bot.mail.body import html_to_text
from bot.reply import Attachment

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
CSV_TYPES = {"text/csv", "application/csv", "text/comma-separated-values", "text/x-csv"}


@dataclass(frozen=True)
class Mail:
    mail_from: str                      # envelope sender; "" for the null sender <>
    sender: str                         # From: address
    name: str                           # From: display name
    reply_to: str                       # Reply-To: address, or ""
    subject: str
    message_id: str                     # as written, for the idempotency key
    references: tuple[str, ...]         # <ids> this mail replies to, oldest first
    headers: dict[str, str]             # lower-case name -> first value, for the loop guard
    content_types: tuple[str, ...]      # of every MIME part, outermost first
    text: str                           # the body as text (plain preferred, else HTML converted)
    attachments: tuple[Attachment, ...] # CSV files

    @property
    def answer_to(self) -> str:
        return self.reply_to or self.sender

    @property
    def thread_id(self) -> str | None:
        """The Message-ID in the <id> form threading headers need, if it has one."""
        found = MESSAGE_ID.search(self.message_id)
        return found.group() if found else None


def parse(raw: bytes, mail_from: str = "") -> Mail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = find_body(message)
    text = "" if body is None else part_text(body)
    if body is not None and body.get_content_subtype() == "html":
        text = html_to_text(text)
    name, sender = address(message, "From")
    return Mail(
        mail_from=mail_from.strip().strip("<>"),
        sender=sender,
        name=name,
        reply_to=address(message, "Reply-To")[1],
        subject=header(message, "Subject"),
        message_id=header(message, "Message-ID"),
        references=tuple(MESSAGE_ID.findall(header(message, "References"))),
        headers={name.lower(): header(message, name) for name in dict.fromkeys(message.keys())},
        content_types=tuple(part.get_content_type() for part in message.walk()),
        text=text,
        attachments=tuple(csv_files(message, body)),
    )


def find_body(message: EmailMessage) -> EmailMessage | None:
    try:
        return message.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001 - a MIME tree the library trips over has no usable body
        return None


def part_text(part: EmailMessage) -> str:
    """A text part as str, trusting its charset label only as far as it decodes."""
    try:
        return clean(part.get_content())
    except Exception:  # noqa: BLE001 - unknown charset names, broken encodings
        return decode(part.get_payload(decode=True) or b"")


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def clean(text: str) -> str:
    """Bytes the parser could not decode arrive as surrogates; make them printable."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def header(message: EmailMessage, name: str) -> str:
    """A header's value as one line of text; the raw value when it does not parse."""
    try:
        value = message.get(name)
        text = "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - email's header parser raises on some malformed values
        text = next((v for k, v in message.raw_items() if k.lower() == name.lower()), "")
    return " ".join(clean(text).split())


def address(message: EmailMessage, name: str) -> tuple[str, str]:
    """(display name, address) of an address header, or ("", "")."""
    display, addr = parseaddr(header(message, name))
    return display, addr if "@" in addr else ""


def csv_files(message: EmailMessage, body: EmailMessage | None) -> list[Attachment]:
    files = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        try:
            filename = part.get_filename() or ""
        except Exception:  # noqa: BLE001 - a malformed Content-Disposition still carries the data
            filename = ""
        if part.get_content_type() in CSV_TYPES or filename.lower().endswith(".csv"):
            content = part.get_payload(decode=True) or b""
            files.append(Attachment(clean(filename) or "attachment.csv", content, "text/csv"))
    return files
