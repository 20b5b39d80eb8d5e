"""A mail body as the lines the writer typed: HTML to text, quotes and signatures dropped."""

from __future__ import annotations

import html
import re
from collections import Counter

BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "hr"}
HIDDEN = {"script", "style", "head", "title", "blockquote"}   # blockquote: the quoted mail in a reply
QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted")
QUOTE_IDS = ("divrplyfwdmsg", "appendonsend")                  # Outlook's reply header and quote

QUOTE_START = re.compile(r"^(-{2,}\s*original message\s*-{2,}|_{10,}|from:\s.*@.*)$", re.IGNORECASE)
SIGNATURE = re.compile(r"^(--|-- |sent from my .*|get outlook for .*)$", re.IGNORECASE)
ATTRIBUTED = re.compile(r"^on\b|\bwrote$", re.IGNORECASE)     # 'On Monday, Ann wrote', 'Ann wrote'

# Tags are found with str.find and matched only up to the next '>', so each
# character is looked at a bounded number of times: html.parser rescans the
# rest of the input at every unclosed '<' (40 KB of '<a ' took 183 s).
TAG = re.compile(r"<(/?)([a-zA-Z][^\s/>]*)([^>]*)>")
MARKS = re.compile(r"""\b(?:class|id)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
RAW_TEXT = {"script": re.compile(r"</script\s*>", re.IGNORECASE), "style": re.compile(r"</style\s*>", re.IGNORECASE)}
LONG_CHARREF = re.compile(r"&#(?:[xX][0-9a-fA-F]{7,}|[0-9]{8,})")    # past U+10FFFF; int() refuses 4,300 digits


class _Text:
    """The visible text of HTML, one tag or run of text at a time."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.hidden: list[str] = []         # open tags whose content is not shown
        self.open_hidden: Counter[str] = Counter()   # the same, counted, so an end tag is looked up at once

    def start(self, tag: str, attrs: str) -> None:
        if tag in BLOCKS:
            self.parts.append("\n")
        if tag == "br" or tag == "hr":
            return
        marks = " ".join(m.group(1).strip("\"'") for m in MARKS.finditer(attrs)).lower()
        if self.hidden or tag in HIDDEN or any(m in marks for m in QUOTE_CLASSES + QUOTE_IDS):
            self.hidden.append(tag)
            self.open_hidden[tag] += 1

    def end(self, tag: str) -> None:
        while self.open_hidden[tag]:
            closed = self.hidden.pop()
            self.open_hidden[closed] -= 1
            if closed == tag:
                break
        if tag in BLOCKS:
            self.parts.append("\n")

    def data(self, text: str) -> None:
        if not self.hidden and text:
            self.parts.append(html.unescape(LONG_CHARREF.sub("\ufffd", text)))

    def feed(self, page: str) -> None:
        at, closing = 0, -1                 # closing: the first '>' at or after `at`, once looked for
        while (lt := page.find("<", at)) >= 0:
            self.data(page[at:lt])
            if page.startswith("<!--", lt):
                end = page.find("-->", lt + 4)
                at = len(page) if end < 0 else end + 3
                continue
            if closing < lt:
                closing = page.find(">", lt)
            if closing < 0:                 # no tag can end: the rest is text
                at = lt
                break
            tag = TAG.fullmatch(page, lt, closing + 1)
            if tag is None:
                if page[lt + 1:lt + 2] in ("!", "?"):     # <!DOCTYPE ...>, <?xml ...?>
                    at = closing + 1
                else:
                    self.data("<")
                    at = lt + 1
                continue
            name = tag.group(2).lower()
            at = closing + 1
            if tag.group(1):
                self.end(name)
                continue
            self.start(name, tag.group(3))
            if name in RAW_TEXT:            # their text is code, not markup: skip to the end tag
                end = RAW_TEXT[name].search(page, at)
                at = len(page) if end is None else end.start()
        self.data(page[at:])


def html_to_text(page: str) -> str:
    """The visible text of an HTML body, one line per block, without the quoted mail."""
    parser = _Text()
    parser.feed(page)
    lines = (" ".join(line.replace("\xa0", " ").split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def own_words(text: str) -> str:
    """The writer's own lines: stop at the quoted mail or the signature, skip `>` lines."""
    kept = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        if SIGNATURE.match(line.rstrip("\r")) or QUOTE_START.match(stripped):
            break
        if attribution(stripped) and quoted_after(lines, number):
            break
        if not stripped.startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def attribution(stripped: str) -> bool:
    """'On Monday, Ann wrote:' or 'Ann wrote:'; tested on the line without its colon, so no pattern
    has to find where trailing spaces end (that backtracking was quadratic)."""
    return stripped.endswith(":") and bool(ATTRIBUTED.search(stripped[:-1].rstrip()))


def quoted_after(lines: list[str], number: int) -> bool:
    """An attribution line counts only when quoted text or nothing follows.

    Looks only as far as the next line with text, so many attribution-like
    lines cost one pass, not one pass each.
    """
    after = number + 1
    while after < len(lines) and not lines[after].strip():
        after += 1
    return after == len(lines) or lines[after].lstrip().startswith(">")
