"""Commands back to text: the canonical way to write each one."""

from __future__ import annotations

from parser import values
from parser.commands import (Command, Explain, Feedback, Help, History, Models, Pair, Predict, Row, Schema, Show,
                             Value, WhatIf)
from parser.grammar import terminal

KEY, WORD = terminal("KEY"), terminal("WORD")


def to_text(command: Command) -> str:
    match command:
        case Predict(model, ()):
            return "predict" + (f" {model}" if model else "")
        case Predict(model, rows):
            return f"predict{head(model, rows[0])} " + "; ".join(row_text(row) for row in rows)
        case WhatIf(model, None, changes):
            return f"whatif{head(model, changes)} {row_text(changes)}"
        case WhatIf(model, base, changes):
            return f"whatif{head(model, base)} {row_text(base)} -> {row_text(changes)}"
        case Explain(model):
            return "explain" + (f" {model}" if model else "")
        case Schema(model):
            return "schema" + (f" {model}" if model else "")
        case Models():
            return "models"
        case Help(topic):
            return "help" + (f" {topic}" if topic else "")
        case History(count, model):
            return " ".join(["history", *([str(count)] if count is not None else []), *([model] if model else [])])
        case Show(prediction_id):
            return f"show {prediction_id}"
        case Feedback(prediction_id, row, actual):
            return " ".join([f"feedback {prediction_id}", *([f"row={row}"] if row != 1 else []),
                             *([f"actual={actual.raw}"] if actual else [])])
    raise TypeError(f"not a command: {command!r}")


def head(model: str | None, first: Row) -> str:
    """`: `, ` churn:`, or ` churn` before a single value, which `churn:` would make a key."""
    if model is None:
        return ":"
    return f" {model}" if len(first.items) == 1 and not isinstance(first.items[0], Pair) else f" {model}:"


def row_text(row: Row) -> str:
    return ", ".join(f"{key_text(i.key)}={i.value.raw}" if isinstance(i, Pair) else i.raw for i in row.items)


def key_text(name: str) -> str:
    return name if bare_key(name) else values.quote(name)


def bare_key(name: str) -> bool:
    """Does `name` read back as itself without quotes? The grammar's KEY says: one to five words of letters,
    digits, `_` and `-` (so `od280/od315`, `sepal.length` and a key of six words need quotes)."""
    found = KEY.match(name + "=")
    return found is not None and found.end() == len(name)


def literal(text: str) -> str:
    """Text as a value that reads back as itself: bare when it is a word (`churns`), else quoted (`"two year"`,
    and `"yes"`, `"1"`, which bare would read as yes/no and a number)."""
    return text if WORD.fullmatch(text) and values.read(text) == text else values.quote(text)


def feedback_text(prediction_id: str, row: int = 1, actual: str | float | None = None) -> str:
    """The command that says what row `row` (from 1) of a prediction really was (a class, or a number); without
    `actual`, the one that asks how to say it."""
    if actual is None:
        return to_text(Feedback(prediction_id, row))
    if isinstance(actual, str):
        return to_text(Feedback(prediction_id, row, Value("string", literal(actual), actual)))
    return to_text(Feedback(prediction_id, row, Value("number", values.written(actual), actual)))
