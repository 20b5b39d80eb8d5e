"""Properties over generated input: parse never raises, and to_text reads back."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from parser import (Explain, Feedback, Help, History, Models, Pair, ParseError, Predict, Row, Schema, Show, Value,
                    WhatIf, parse, to_text)
from parser.errors import LABELS
from parser.values import quote

FAST = settings(max_examples=200, deadline=None)
TOKEN_NAME = re.compile(r"\$END|__ANON|\b[A-Z][A-Z_]{2,}\b")
GRAMMARISH = "=:,;\"'->?$%k€ \n\tabcyzAN019._"
VERBS = ("predict", "predict churn", "predict: ", "whatif: ", "what if ", "explain ", "help ", "churn: ", "history ",
         "show ", "feedback 0123456789ab ", "")
RESERVED_WORDS = {"true", "false", "yes", "no", "y", "n", "on", "off", "na", "null", "none", "missing"}


def check(text: str) -> None:
    result = parse(text)
    if isinstance(result, ParseError):
        assert result.label in {*LABELS, "syntax"}
        assert 1 <= result.line <= text.count("\n") + 1 and result.column >= 1
        assert result.caret.endswith("^") and not TOKEN_NAME.search(result.expected)
    else:
        assert isinstance(result, (Predict, WhatIf, Explain, Schema, Models, Help, History, Show, Feedback))


@FAST
@given(st.text())
def test_any_text_is_a_command_or_a_parse_error(text):
    check(text)


@FAST
@given(st.sampled_from(VERBS), st.text(alphabet=GRAMMARISH, max_size=40))
def test_text_made_of_the_grammar_s_characters_is_a_command_or_a_parse_error(verb, rest):
    check(verb + rest)


names = st.from_regex(r"[a-z][a-z0-9_]{0,7}(?:[.-][a-z0-9]{1,3})?", fullmatch=True)
bare_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}(?:-[a-z0-9]{1,3})?(?: [a-z][a-z0-9]{0,4}){0,6}", fullmatch=True)
keys = bare_keys | st.text(max_size=8)


def number(value: int | float, raw: str | None = None, unit: str | None = None) -> Value:
    return Value("number", raw if raw is not None else repr(value), value, unit)


finite = st.floats(allow_nan=False, allow_infinity=False)
suffixes = st.sampled_from([("k", 10**3), ("K", 10**3), ("M", 10**6), ("B", 10**9), ("bn", 10**9)])
money = st.tuples(st.sampled_from("$€£"), st.integers(-10**6, 10**6), st.booleans()).map(
    lambda t: number(float(f"{t[1] / 100:.2f}"), f"{'-' if t[1] < 0 else ''}{t[0]}{abs(t[1]) / 100:.2f}", t[0])
    if t[2] else number(t[1], f"{t[0]}{t[1]}", t[0]))
values = st.one_of(
    st.integers(-10**12, 10**12).map(number),
    finite.map(number),
    st.tuples(st.integers(-999, 999), suffixes).map(lambda t: number(t[0] * t[1][1], f"{t[0]}{t[1][0]}")),
    money,
    st.integers(-500, 500).map(lambda v: number(v, f"{v}%", "%")),
    st.sampled_from(["true", "False", "YES", "no", "y", "N", "on", "OFF"]).map(
        lambda raw: Value("bool", raw, raw.lower() in {"true", "yes", "y", "on"})),
    st.sampled_from(["?", "na", "N/A", "null", "None", "MISSING"]).map(lambda raw: Value("missing", raw, None)),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}(?:[.-][a-z0-9]{1,3})?", fullmatch=True)
      .filter(lambda w: w.lower() not in RESERVED_WORDS).map(lambda w: Value("word", w, w)),
    st.text(max_size=10).map(lambda s: Value("string", quote(s), s)),
)
pair_rows = st.lists(st.builds(Pair, keys, values), min_size=1, max_size=4).map(lambda items: Row(tuple(items)))
value_rows = st.lists(values, min_size=1, max_size=4).map(lambda items: Row(tuple(items)))
rows = pair_rows | value_rows
models = st.none() | names
ids = st.from_regex(r"[0-9a-f]{12}", fullmatch=True)
topics = st.none() | st.from_regex(r"[a-z][a-z-]{0,8}(?: [a-z]{1,5}){0,2}", fullmatch=True)
commands = st.one_of(
    st.builds(Predict, models, st.lists(rows, max_size=3).map(tuple)),
    st.builds(WhatIf, models, rows, pair_rows),
    st.builds(Explain, models),
    st.builds(Schema, models),
    st.just(Models()),
    st.builds(Help, topics),
    st.builds(History, st.none() | st.integers(0, 10**6), models),
    st.builds(Show, ids),
    st.builds(Feedback, ids, st.integers(1, 10**4), st.none() | values),
)


@FAST
@given(commands)
def test_to_text_reads_back_as_the_same_command(command):
    assert parse(to_text(command)) == command


def rows_of(command) -> tuple[Row, ...]:
    match command:
        case Predict(rows=rows):
            return rows
        case WhatIf(base=base, changes=changes):
            return base, changes
    return ()


@FAST
@given(commands)
def test_every_parsed_value_s_span_covers_its_raw_text(command):
    text = to_text(command)
    for row in rows_of(parse(text)):
        for item in row.items:
            value = item.value if isinstance(item, Pair) else item
            assert text[value.span.start:value.span.end] == value.raw
