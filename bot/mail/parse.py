"""Raw mail bytes -> the parts of a message the bot uses, whatever shape the MIME is in.

Mail arrives with lying charset labels, missing boundaries, unparseable
headers and no Message-ID; every field here falls back to something usable
rather than raising, so one bad message never stalls the queue. What a
hostile mail could make expensive is bounded before it costs: the parser
stops at MAX_PARTS parts (a megabyte of empty parts took 17 s, and deep
nesting raised RecursionError), nesting is checked before anything walks it,
header reads are capped (headers.py), and only the first MAX_TEXT_CHARS of
the body are read for commands.
"""

from __future__ import annotations

import codecs
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesFeedParser, BytesParser

from bot.mail.body import html_to_text
from bot.mail.headers import MAX_HEADER_CHARS, POLICY, Unclean, mailbox, readable, text
from bot.reply import Attachment

MAX_PARTS = 100              # MIME parts in one mail
MAX_DEPTH = 10               # multiparts within multiparts (a forwarded mail in a reply is about 5)
MAX_TEXT_CHARS = 100_000     # of the body, read for commands: ten commands of 8,192 characters fit
MAX_HTML_CHARS = 1_000_000   # of an HTML body, turned into text
MAX_REFERENCES = 20          # ids kept from References: the thread's first (it names the thread) and the latest
MAX_FILENAME_CHARS = 100

LINE_BREAK = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")     # what str.splitlines splits on
MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,996}>")     # printable ASCII, on one 998-character line
CSV_TYPES = {"text/csv", "application/csv", "text/comma-separated-values", "text/x-csv"}
SLOW_CODECS = {"punycode", "idna"}                 # pure Python and quadratic: a label must not pick them


@dataclass(frozen=True)
class Mail:
    mail_from: str                      # envelope sender; "" for the null sender <>
    sender: str                         # From: address
    name: str                           # From: display name
    reply_to: str                       # Reply-To: address, or ""
    subject: str
    message_id: str                     # as written, for the idempotency key
    references: tuple[str, ...]         # <ids> this mail replies to, oldest first
    headers: dict[str, tuple[str, ...]] # lower-case name -> every value, for the loop guard
    content_types: tuple[str, ...]      # of every MIME part, outermost first
    text: str                           # the body as text (plain preferred, else HTML converted)
    attachments: tuple[Attachment, ...] # CSV files
    unclean: str = ""                   # why From or Reply-To cannot be trusted: then no one is answered
    problem: str = ""                   # why the body was not read, for the reply

    @property
    def answer_to(self) -> str:
        return self.reply_to or self.sender

    @property
    def thread_id(self) -> str | None:
        """The Message-ID in the <id> form threading headers need, if it has one."""
        found = MESSAGE_ID.search(self.message_id)
        return found.group() if found else None


class TooManyParts(Exception):
    """Raised inside the parser once it has made MAX_PARTS parts, so it makes no more."""


def parse(raw: bytes, mail_from: str = "", headers_only: bool = False) -> Mail:
    """The mail; `headers_only` reads just enough to reply (for a mail whose answering failed)."""
    message, problem = (BytesParser(policy=POLICY).parsebytes(raw, headersonly=True), "") if headers_only \
        else tree(raw)
    values = defaultdict(list)
    for key, value in message.raw_items():
        values[key.lower()].append(value)
    (name, sender), (_, reply_to), unclean = addresses(values)
    body = None if headers_only or problem else body_part(message)
    return Mail(
        mail_from=mail_from.strip().strip("<>"),
        sender=sender,
        name=name,
        reply_to=reply_to,
        subject=text(first(values, "subject")),
        message_id=" ".join(readable(first(values, "message-id")).split()),
        references=kept(MESSAGE_ID.findall(first(values, "references"))),
        headers={key: tuple(" ".join(readable(v[:MAX_HEADER_CHARS]).split()) for v in vs)
                 for key, vs in values.items()},
        content_types=tuple(part.get_content_type() for part in message.walk()),
        text=readable_body(body),
        attachments=() if headers_only or problem else tuple(csv_files(message, body)),
        unclean=unclean,
        problem=problem,
    )


def tree(raw: bytes) -> tuple[Message, str]:
    """The MIME tree, and why its body is not to be read ("" when it is)."""
    made = 0

    def part(policy: object) -> Message:
        nonlocal made
        made += 1
        if made > MAX_PARTS + 1:        # + 1: the parser makes one to try the factory out
            raise TooManyParts
        return Message(policy=policy)

    parser = BytesFeedParser(part, policy=POLICY)
    try:
        parser.feed(raw)
        message = parser.close()
    except TooManyParts:
        return (BytesParser(policy=POLICY).parsebytes(raw, headersonly=True),
                f"Your mail has more than {MAX_PARTS} MIME parts, so I did not read it. "
                "Send your commands in a plain mail, with at most a few files attached.")
    if depth(message) > MAX_DEPTH:
        return message, (f"Your mail has parts nested more than {MAX_DEPTH} deep, so I did not read it. "
                         "Send your commands in a plain mail, with the files attached to it directly.")
    return message, ""


def depth(message: Message) -> int:
    """How deep parts nest, found without recursion."""
    deepest, stack = 0, [(message, 0)]
    while stack:
        part, level = stack.pop()
        deepest = max(deepest, level)
        if part.is_multipart():
            stack.extend((child, level + 1) for child in part.get_payload())
    return deepest


def first(values: dict[str, list[str]], key: str) -> str:
    return values[key][0] if values.get(key) else ""


def addresses(values: dict[str, list[str]]) -> tuple[tuple[str, str], tuple[str, str], str]:
    """From and Reply-To as (name, address) each, and why they cannot be trusted ("" when they can)."""
    found = []
    for key, label in (("from", "From"), ("reply-to", "Reply-To")):
        written = values.get(key, [])
        try:
            if len(written) > 1:
                raise Unclean(f"{len(written)} of them")
            found.append(mailbox(written[0]) if written else ("", ""))
        except Unclean as why:
            return ("", ""), ("", ""), f"{label}: {why}"
    return found[0], found[1], ""


def own_parts(message: Message) -> Iterator[Message]:
    """Parts in order, without those of an attached mail (message/rfc822): they are not the writer's words."""
    stack = [message]
    while stack:
        part = stack.pop()
        yield part
        if part.is_multipart() and part.get_content_maintype() != "message":
            stack.extend(reversed(part.get_payload()))


def body_part(message: Message) -> Message | None:
    """What the writer typed: the first text/plain part that is not an attachment, else the first text/html."""
    found: dict[str, Message] = {}
    for part in own_parts(message):
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html") and part.get_content_disposition() != "attachment":
            found.setdefault(kind, part)
    return found.get("text/plain", found.get("text/html"))      # not `or`: a part without headers is falsy


def readable_body(body: Message | None) -> str:
    """The body as text, HTML converted, cut to MAX_TEXT_CHARS in whole lines."""
    if body is None:
        return ""
    content = part_text(body)
    if body.get_content_subtype() == "html":
        content = html_to_text(content[:MAX_HTML_CHARS])
    return whole_lines(content, MAX_TEXT_CHARS)


def whole_lines(content: str, limit: int) -> str:
    """The lines that fit in `limit` characters, joined with \\n; a first line longer than that is kept
    whole, so that the core can say how long it is. Lines end wherever str.splitlines says, as they do
    for the steps after this one, so no kind of line break slips more past the limit."""
    lines = content[:limit + 1].splitlines()
    if len(content) > limit and len(lines) > 1:
        lines.pop()                             # cut by the limit, or ending just past it
    elif len(content) > limit:
        found = LINE_BREAK.search(content)
        lines = [content[:found.start()] if found else content]
    return "\n".join(lines)


def part_text(part: Message) -> str:
    """A text part as str, trusting its charset label only as far as it decodes."""
    data = part.get_payload(decode=True) or b""
    try:
        codec = codecs.lookup(part.get_content_charset() or "utf-8")
    except LookupError:
        return decode(data)
    if codec.name in SLOW_CODECS:
        return decode(data)
    try:
        return data.decode(codec.name, "replace")
    except LookupError:             # not a text encoding (e.g. a label saying "zlib")
        return decode(data)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def file_name(part: Message) -> str:
    """An attachment's name as we repeat it: one line (a CR, LF or NUL in it would break the
    reply's headers), no folders, at most MAX_FILENAME_CHARS."""
    try:
        written = part.get_filename() or ""
    except (LookupError, UnicodeError, ValueError):     # a malformed parameter still carries the data
        written = ""
    name = text(str(written)).replace("\\", "/").rpartition("/")[2].strip()
    return name[-MAX_FILENAME_CHARS:]


def csv_files(message: Message, body: Message | None) -> list[Attachment]:
    files = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        filename = file_name(part)
        if part.get_content_type() in CSV_TYPES or filename.lower().endswith(".csv"):
            files.append(Attachment(filename or "attachment.csv", part.get_payload(decode=True) or b"", "text/csv"))
    return files


def kept(references: list[str]) -> tuple[str, ...]:
    """The thread's first Message-ID, which the store knows the conversation by, and the latest ones (RFC 5322
    lets a reply trim References, but from the middle, keeping the first)."""
    if len(references) <= MAX_REFERENCES:
        return tuple(references)
    return (references[0], *references[-(MAX_REFERENCES - 1):])
