"""The values a message parses into: commands made of rows, pairs and values.

Spans say where something was written, not what it is, so they take no part in
equality (`parse("predict: a=1") == parse("predict:   a=1")`) and are passed by
keyword when building values by hand: `Pair("age", Value("number", "45", 45))`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ValueKind = Literal["number", "bool", "word", "string", "missing"]


@dataclass(frozen=True)
class Span:
    """Character offsets [start, end) into the message; line and column count from 1."""

    start: int
    end: int
    line: int
    column: int


NOWHERE = Span(0, 0, 1, 1)


def _span() -> Span:
    return field(default=NOWHERE, compare=False, kw_only=True)


def _optional_span() -> Span | None:
    return field(default=None, compare=False, kw_only=True)


@dataclass(frozen=True)
class Value:
    """One value as written (`raw`) and as read (`value`, plus `unit` for $ € £ %)."""

    kind: ValueKind
    raw: str
    value: int | float | bool | str | None
    unit: str | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Pair:
    key: str
    key_span: Span = _span()
    value: Value


@dataclass(frozen=True)
class Row:
    """All key=value pairs, or all values in the model's field order."""

    items: tuple[Pair, ...] | tuple[Value, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Predict:
    model: str | None
    rows: tuple[Row, ...]
    model_span: Span | None = _optional_span()


@dataclass(frozen=True)
class WhatIf:
    model: str | None
    base: Row | None            # None: `whatif: income=80000`, built on the conversation's last prediction
    changes: Row
    model_span: Span | None = _optional_span()


@dataclass(frozen=True)
class Explain:
    model: str | None
    model_span: Span | None = _optional_span()


@dataclass(frozen=True)
class Schema:
    model: str | None
    model_span: Span | None = _optional_span()


@dataclass(frozen=True)
class Models:
    pass


@dataclass(frozen=True)
class Help:
    topic: str | None
    topic_span: Span | None = _optional_span()


@dataclass(frozen=True)
class History:
    """`history [N] [MODEL]`: the sender's own last predictions; None where the command leaves it to the bot."""

    count: int | None
    model: str | None
    model_span: Span | None = _optional_span()


@dataclass(frozen=True)
class Show:
    prediction_id: str                       # lower case, as replies write it


@dataclass(frozen=True)
class Feedback:
    """What a prediction's row really was; without `actual`, a question of how to say it."""

    prediction_id: str
    row: int = 1                             # counted from 1, as replies number rows
    actual: Value | None = None


Command = Predict | WhatIf | Explain | Schema | Models | Help | History | Show | Feedback


@dataclass(frozen=True)
class ParseError:
    """Why a message is not a command, in words for the person who wrote it.

    `caret` is the offending line with a `^` under the column; `expected` is a
    noun phrase ("a value after '='"); `hint` says how to fix it; `label` is a
    short name for programs and tests.
    """

    text: str
    line: int
    column: int
    caret: str
    expected: str
    hint: str
    label: str

    @property
    def message(self) -> str:
        return f"{self.caret}\nExpected {self.expected}.\n{self.hint}"


@dataclass(frozen=True)
class CommandDoc:
    name: str
    syntax: str
    summary: str
    example: str
