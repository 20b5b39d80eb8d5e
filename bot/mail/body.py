"""A mail body as the lines the writer typed: HTML to text, quotes and signatures dropped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "hr"}
HIDDEN = {"script", "style", "head", "title", "blockquote"}   # blockquote: the quoted mail in a reply
QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted")
QUOTE_IDS = ("divrplyfwdmsg", "appendonsend")                  # Outlook's reply header and quote

ATTRIBUTION = re.compile(r"^(on\b.*|.*\bwrote)\s*:\s*$", re.IGNORECASE)
QUOTE_START = re.compile(r"^(-{2,}\s*original message\s*-{2,}|_{10,}|from:\s.*@.*)$", re.IGNORECASE)
SIGNATURE = re.compile(r"^(--|-- |sent from my .*|get outlook for .*)$", re.IGNORECASE)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden: list[str] = []    # open tags whose content is not shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.parts.append("\n")
        if tag == "br" or tag == "hr":
            return
        marks = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        if self.hidden or tag in HIDDEN or any(m in marks for m in QUOTE_CLASSES + QUOTE_IDS):
            self.hidden.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.hidden:
            while self.hidden and self.hidden.pop() != tag:
                pass
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of an HTML body, one line per block, without the quoted mail."""
    parser = _Text()
    parser.feed(html)
    parser.close()
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
        if ATTRIBUTION.match(stripped) and quoted_after(lines, number):
            break
        if not stripped.startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def quoted_after(lines: list[str], number: int) -> bool:
    """An attribution line ('On Monday, Ann wrote:') counts only when quoted text or nothing follows."""
    rest = [line.strip() for line in lines[number + 1:] if line.strip()]
    return not rest or rest[0].startswith(">")
