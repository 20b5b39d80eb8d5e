"""Header values as the bot reads them: capped, unfolded, decoded, and refused when not clean.

The email package's structured header parsers are not linear (a From of
20,000 quotes takes 12 s; nested comments raise RecursionError), and they
decode RFC 2047 encoded words before the address is taken apart, so an
encoded CRLF turned `=?utf-8?q?a=0d=0aBcc:_victim@evil.com?= <ann@example.com>`
into a reply to `_victim@evil.com?=`. So mail is parsed with compat32, whose
reads are plain string operations, every read is capped, and the address we
reply to is taken only from a header that holds exactly one plain mailbox.
"""

from __future__ import annotations

import re
from email import policy
from email.policy import Compat32

MAX_HEADER_CHARS = 2000     # of one header value; RFC 5322 lines stop at 998, folded fields rarely pass 2,000
MAX_NAME_CHARS = 200        # of a display name we write back into To:

CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x80-\x9f\u2028\u2029]")
FOLD = re.compile(r"\r?\n(?=[ \t])")
# RFC 5322 atext plus UTF-8 (RFC 6531); no quoted local parts, no address literals
ADDR_SPEC = re.compile(r"[^\s\"(),:;<>@\[\]\\]+@[\w-]+(?:\.[\w-]+)*")


class Unclean(ValueError):
    """A header the bot will not act on; the message says why, for the log."""


class Bounded(Compat32):
    """compat32, with every value cut to MAX_HEADER_CHARS when read.

    Its parameter parser is quadratic in a value's length (each `;` inside
    quotes rescans from the start), so the cap bounds what one read costs;
    raw_items() still gives the whole value for the checks below.
    """

    def header_fetch_parse(self, name: str, value: str) -> object:
        return super().header_fetch_parse(name, value[:MAX_HEADER_CHARS])


POLICY = Bounded()


def readable(value: str) -> str:
    """A raw value as text: bytes that are not UTF-8 (kept as surrogates by the parser) become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def decoded(value: str) -> str:
    """RFC 2047 encoded words decoded, control characters and all; the value as written if they do not decode."""
    try:
        return str(policy.default.header_factory("subject", value))
    except Exception:  # noqa: BLE001 - the decoder's errors vary by charset; showing the value as written is fine
        return value


def text(value: str) -> str:
    """An unstructured value (Subject) as one line of text: encoded words decoded, control characters gone."""
    value = decoded(FOLD.sub("", readable(value[:MAX_HEADER_CHARS])))
    return " ".join(CONTROLS.sub(" ", value).split())


def mailbox(value: str) -> tuple[str, str]:
    """(display name, address) of a From or Reply-To value holding one mailbox; Unclean otherwise.

    Accepted: `addr@host`, `addr@host (comment)`, `Name <addr@host>`, `"Name" <addr@host>`.
    Bytes that are not UTF-8 may stand in the name, not in the address. Encoded
    words are decoded in the name only, and a name that decodes to a control
    character (a hidden CRLF) makes the whole header unclean.
    """
    if len(value) > MAX_HEADER_CHARS:
        raise Unclean(f"{len(value):,} characters long")
    value = readable(FOLD.sub("", value))
    if CONTROLS.search(value):
        raise Unclean("a control character")
    name, address = split_mailbox(value)
    if "\ufffd" in address:
        raise Unclean("bytes that are not UTF-8 in the address")
    if "=?" in address:
        raise Unclean("an encoded word where the address should be")
    name = decoded(name) if "=?" in name else name
    if CONTROLS.search(name):
        raise Unclean("an encoded word in the name hides a control character")
    return " ".join(name.replace('\\"', '"').split()).strip('"').strip()[:MAX_NAME_CHARS], address


def split_mailbox(value: str) -> tuple[str, str]:
    """The name as written and the address: one `<address>` or one bare address (and a comment), nothing else."""
    if "<" in value or ">" in value:
        name, _, rest = value.partition("<")
        address, closed, tail = rest.partition(">")
        if not closed or "<" in rest or ">" in name or ">" in tail or tail.strip():
            raise Unclean("not one <address>")
    else:
        address, opened, comment = value.strip().partition("(")
        if opened and not comment.rstrip().endswith(")"):
            raise Unclean("an unclosed comment")
        name = comment.rstrip()[:-1] if opened else ""
    address = address.strip()
    if not ADDR_SPEC.fullmatch(address):
        raise Unclean(f"not one plain address: {address[:80]!r}")
    if name.replace('\\"', "").count('"') % 2:
        raise Unclean("an unclosed quote in the name")
    return name, address
