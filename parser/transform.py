"""The parse tree to Command values: one method per rule of grammar.lark."""

from __future__ import annotations

from lark import Token, Transformer, v_args

from parser import values as decode
from parser.commands import (Explain, Feedback, Help, History, Models, Pair, Predict, Row, Schema, Show, Span, Value,
                             WhatIf)


def span(token: Token) -> Span:
    return Span(token.start_pos, token.end_pos, token.line, token.column)


def text(token: Token | None) -> str | None:
    return None if token is None else str(token)


def optional_span(token: Token | None) -> Span | None:
    return None if token is None else span(token)


def row(items: tuple[Pair, ...] | tuple[Value, ...]) -> Row:
    first, last = items[0], items[-1]
    start = first.key_span if isinstance(first, Pair) else first.span
    end = last.value.span if isinstance(last, Pair) else last.span
    return Row(items, span=Span(start.start, end.end, start.line, start.column))


@v_args(inline=True)
class ToCommand(Transformer):
    def predict(self, _verb: Token, model: Token | None, rows: tuple[Row, ...] | None) -> Predict:
        """No rows (`predict churn` alone) is what a file upload says: the model for the files."""
        return Predict(text(model), rows or (), model_span=optional_span(model))

    def implied(self, model: Token | None, rows: tuple[Row, ...]) -> Predict:
        return Predict(text(model), rows, model_span=optional_span(model))

    def whatif(self, _verb: Token, model: Token | None, base: Row, _arrow: Token, changes: Row) -> WhatIf:
        return WhatIf(text(model), base, changes, model_span=optional_span(model))

    def follow_up(self, _verb: Token, model: Token | None, changes: Row) -> WhatIf:
        """Changes only: the core builds them on the conversation's last prediction."""
        return WhatIf(text(model), None, changes, model_span=optional_span(model))

    def explain(self, _verb: Token, model: Token | None) -> Explain:
        return Explain(text(model), model_span=optional_span(model))

    def schema(self, _verb: Token, model: Token | None) -> Schema:
        return Schema(text(model), model_span=optional_span(model))

    def models(self, _verb: Token) -> Models:
        return Models()

    def help(self, _verb: Token, topic: Token | None) -> Help:
        return Help(text(topic), topic_span=optional_span(topic))

    def history(self, _verb: Token, count: Token | None, model: Token | None) -> History:
        return History(None if count is None else int(count), text(model), model_span=optional_span(model))

    def show(self, _verb: Token, prediction_id: Token) -> Show:
        return Show(prediction_id.lower())

    def feedback(self, _verb: Token, prediction_id: Token, row: int | None, actual: Value | None) -> Feedback:
        return Feedback(prediction_id.lower(), 1 if row is None else row, actual)

    def row_number(self, _key: Token, number: Token) -> int:
        return int(number)

    def outcome(self, _key: Token, value: Value) -> Value:
        return value

    def model(self, name: Token) -> Token:
        return name

    def default_model(self) -> None:
        return None

    def rows(self, *rows: Row) -> tuple[Row, ...]:
        return rows

    bare_rows = rows

    def pairs(self, *pairs: Pair) -> Row:
        return row(pairs)

    def values(self, *items: Value) -> Row:
        return row(items)

    numbers = values

    def pair(self, key: Token, value: Value) -> Pair:
        name = decode.string(key) if key.type == "QUOTED_KEY" else str(key)
        return Pair(name, value, key_span=span(key))

    def number(self, token: Token) -> Value:
        return Value("number", str(token), decode.number(token), span=span(token))

    def money(self, token: Token) -> Value:
        amount, unit = decode.money(token)
        return Value("number", str(token), amount, unit, span=span(token))

    def percent(self, token: Token) -> Value:
        return Value("number", str(token), decode.percent(token), "%", span=span(token))

    def boolean(self, token: Token) -> Value:
        return Value("bool", str(token), decode.boolean(token), span=span(token))

    def missing(self, token: Token) -> Value:
        return Value("missing", str(token), None, span=span(token))

    def word(self, token: Token) -> Value:
        return Value("word", str(token), str(token), span=span(token))

    def string(self, token: Token) -> Value:
        return Value("string", str(token), decode.string(token), span=span(token))
