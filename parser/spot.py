"""Where a problem is in a message, and the small edits a hint shows to fix it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parser.grammar import terminal
from parser.values import CURLY_QUOTES, THOUSANDS, quote, with_magnitude

WORD = re.compile(r"[\w-]+")
CHUNK = re.compile(r"[^\s,;=]+")
VALUE_AHEAD = re.compile(r"[^\S\n]+[^\s=:,;]")
WHATIF = re.compile(r"\s*what[^\S\n]*(?:-[^\S\n]*)?if", re.IGNORECASE)   # as linear as grammar.lark's WHATIF
PREDICT = re.compile(r"\s*predict\b", re.IGNORECASE)
SUFFIXED = re.compile(r"[\w%]")     # 1,200k or 1,200%, which have a magnitude of their own
PREDICTION_ID = terminal("PREDICTION_ID")
LEADING_WORD = re.compile(r"\s*([^\W\d_]+)")
EXAMPLE_ROW = "age=45, income=60000"
CONTEXT = 50  # characters of a long line shown on each side of the caret


@dataclass(frozen=True)
class Spot:
    text: str
    pos: int
    guess: str = ""  # the verb an unknown one most resembles
    end: int = 0     # where text to put in quotes ends
    meant: str = ""  # the command the person meant, when it is not an edit of the line

    @property
    def line(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    @property
    def column(self) -> int:
        return self.pos - self._line_start + 1

    @property
    def caret(self) -> str:
        """The line with a ^ under the column; tabs show as spaces so the ^ lines up."""
        line = self.text[self._line_start:self._line_end].replace("\t", " ")
        column = self.column - 1
        start = max(0, column - CONTEXT)
        shown = ("…" if start else "") + line[start:column + CONTEXT] + ("…" if column + CONTEXT < len(line) else "")
        return f"{shown}\n{' ' * (column - start + (1 if start else 0))}^"

    @property
    def char(self) -> str:
        return self.text[self.pos:self.pos + 1]

    @property
    def closing_quote(self) -> str:
        return CURLY_QUOTES.get(self.char, self.char)

    @property
    def word(self) -> str:
        match = WORD.match(self.text, self.pos)
        return match.group() if match else self.char

    @property
    def chunk(self) -> str:
        """What was typed here, up to the next space or separator: 1.2m, #comment."""
        match = CHUNK.match(self.text, self.pos)
        return match.group() if match else self.char

    @property
    def separator(self) -> str:
        """The '=' or ':' a missing value should have followed."""
        before = self.text[:self.pos].rstrip()
        return before[-1:] or "="

    @property
    def value_follows(self) -> bool:
        return VALUE_AHEAD.match(self.text, self.pos + len(self.word)) is not None

    @property
    def grouped(self) -> re.Match[str] | None:
        """The number the spot's comma groups the digits of, as in 1,200; None when it is no such comma."""
        if self.char != ",":
            return None
        numbers = THOUSANDS.finditer(self.text, self._line_start, self._line_end)
        return next((match for match in numbers if match.start() < self.pos < match.end()), None)

    @property
    def verb(self) -> str:
        """The message's first word, in lower case: `show` of `Show: 12`."""
        match = LEADING_WORD.match(self.text)
        return match.group(1).lower() if match else ""

    @property
    def prediction_id(self) -> str:
        """The prediction id the message holds, in lower case; "" when it holds none."""
        found = PREDICTION_ID.search(self.text)
        return found.group().lower() if found else ""

    def ungrouped(self) -> list[str]:
        """The spot's line with its grouped number written without commas: plainly, and with a magnitude."""
        match = self.grouped
        plain = match.group().replace(",", "")
        short = None if SUFFIXED.match(self.text, match.end()) else with_magnitude(plain)
        return [self._line(self.text[:match.start()] + number + self.text[match.end():])
                for number in (plain, short) if number]

    def as_whatif(self) -> str:
        verb = PREDICT.match(self.text)
        return self._line("whatif" + self.text[verb.end():] if verb else "whatif: " + self.text.lstrip())

    def insert(self, text: str) -> str:
        after = self.text[self.pos:]
        gap = "" if after[:1] in ("", ",", ";", "\n") else " "
        return self._line(self.text[:self.pos].rstrip(" \t") + text + gap + after)

    def delete(self) -> str:
        return self._line(self.text[:self.pos] + self.text[self.pos + 1:])

    def replace_word(self, new: str) -> str:
        return self._line(self.text[:self.pos] + new + self.text[self.pos + len(self.word):])

    def join_value(self, value: str = "") -> str:
        """`income 60000` -> `income=60000`; with a value, `income` -> `income=?`."""
        end = self.pos + len(self.word)
        rest = self.text[end:].lstrip(" \t")
        return self._line(self.text[:end] + "=" + value + rest)

    def quote_span(self) -> str:
        """The spot's line with the text from here to `end` in quotes: `"od280/od315"=3.9`, `contract="two year"`."""
        return self._line(self.text[:self.pos] + quote(self.text[self.pos:self.end]) + self.text[self.end:])

    def close_quote(self) -> str:
        end = len(self.text[:self._line_end].rstrip())
        return self._line(self.text[:end] + self.closing_quote + self.text[end:])

    def with_rows(self) -> str:
        head = self._line(self.text).rstrip(": \t")
        changes = " -> income=80000" if WHATIF.match(head) else ""
        return f"{head}: {EXAMPLE_ROW}{changes}"

    @property
    def _line_start(self) -> int:
        return self.text.rfind("\n", 0, self.pos) + 1

    @property
    def _line_end(self) -> int:
        end = self.text.find("\n", self.pos)
        return len(self.text) if end < 0 else end

    def _line(self, text: str) -> str:
        """The spot's line of an edited copy of the message: what a hint shows."""
        return text.split("\n")[self.line - 1].strip()
