"""Messages the command language accepts, and exactly what each one means.

Spans take no part in equality, so the expected commands are written without
them; `test_spans_*` check positions separately.
"""

from __future__ import annotations

import pytest

import parser
from parser import (Explain, Feedback, Help, History, Models, Pair, Predict, Row, Schema, Show, Span, Value, WhatIf,
                    parse)


def num(raw: str, value: int | float, unit: str | None = None) -> Value:
    return Value("number", raw, value, unit)


def n(value: int | float) -> Value:
    return num(str(value), value)


def word(raw: str) -> Value:
    return Value("word", raw, raw)


def text(raw: str, value: str) -> Value:
    return Value("string", raw, value)


def flag(raw: str, value: bool) -> Value:
    return Value("bool", raw, value)


def gap(raw: str) -> Value:
    return Value("missing", raw, None)


def pairs(*items: tuple[str, Value]) -> Row:
    return Row(tuple(Pair(key, value) for key, value in items))


def values(*items: Value) -> Row:
    return Row(items)


def predict(model: str | None, *rows: Row) -> Predict:
    return Predict(model, rows)


AGE_INCOME = pairs(("age", n(45)), ("income", n(60000)))

ACCEPTED = [
    # The documented forms
    ("predict: age=45, income=60000", predict(None, AGE_INCOME)),
    ('predict churn: plan="Premium Plus", fee=$80',
     predict("churn", pairs(("plan", text('"Premium Plus"', "Premium Plus")), ("fee", num("$80", 80, "$"))))),
    ("predict iris: 5.1, 3.5, 1.4, 0.2", predict("iris", values(n(5.1), n(3.5), n(1.4), n(0.2)))),
    ("predict: age=45 income=60k; age=30 income=40k",
     predict(None, pairs(("age", n(45)), ("income", num("60k", 60000))),
             pairs(("age", n(30)), ("income", num("40k", 40000))))),
    ("age=45, income=60000", predict(None, AGE_INCOME)),
    ("churn: age=45", predict("churn", pairs(("age", n(45))))),
    ("whatif: age=45, income=60000 -> income=80000",
     WhatIf(None, AGE_INCOME, pairs(("income", n(80000))))),
    ("explain churn", Explain("churn")),
    ("explain", Explain(None)),
    ("schema churn", Schema("churn")),
    ("fields churn", Schema("churn")),
    ("schema", Schema(None)),
    ("models", Models()),
    ("help", Help(None)),
    ("help predict", Help("predict")),
    ("help values", Help("values")),
    # Verbs: any case, optional colon, the spellings of whatif
    ("PREDICT: age=45", predict(None, pairs(("age", n(45))))),
    ("Predict churn: AGE=45", predict("churn", pairs(("AGE", n(45))))),
    ("predict age=45", predict(None, pairs(("age", n(45))))),
    ("what if churn: age=45 => age=50", WhatIf("churn", pairs(("age", n(45))), pairs(("age", n(50))))),
    ("what-if: age=45 -> age=50", WhatIf(None, pairs(("age", n(45))), pairs(("age", n(50))))),
    ("WhatIf churn age=45 -> age=50", WhatIf("churn", pairs(("age", n(45))), pairs(("age", n(50))))),
    ("whatif iris: 5.1, 3.5, 1.4, 0.2 -> sepal_length=6",
     WhatIf("iris", values(n(5.1), n(3.5), n(1.4), n(0.2)), pairs(("sepal_length", n(6))))),
    ("whatif: 45, 60000 -> income=80000", WhatIf(None, values(n(45), n(60000)), pairs(("income", n(80000))))),
    ("whatif:\nage=45\n-> age=50", WhatIf(None, pairs(("age", n(45))), pairs(("age", n(50))))),
    # Changes only: the core builds them on the conversation's last prediction
    ("whatif: income=80k", WhatIf(None, None, pairs(("income", num("80k", 80000))))),
    ("whatif: age=45, income=60000", WhatIf(None, None, AGE_INCOME)),
    ("what if churn: age=50;", WhatIf("churn", None, pairs(("age", n(50))))),
    ("EXPLAIN: churn", Explain("churn")),
    ("Fields", Schema(None)),
    ("MODELS", Models()),
    ("models;", Models()),
    ("help what if", Help("what if")),
    ("help?", Help(None)),
    ("Help: predict", Help("predict")),
    # Who is the model (the rules at the top of grammar.lark)
    ("predict churn age=45", predict("churn", pairs(("age", n(45))))),
    ("predict: plan type=Basic", predict(None, pairs(("plan type", word("Basic"))))),
    ("predict plan type=Basic", predict("plan", pairs(("type", word("Basic"))))),
    ("predict churn: plan type=Basic", predict("churn", pairs(("plan type", word("Basic"))))),
    ("plan type=Basic", predict(None, pairs(("plan type", word("Basic"))))),
    ("income: 60000", predict(None, pairs(("income", n(60000))))),
    ("income: 60000, age: 45", predict(None, pairs(("income", n(60000)), ("age", n(45))))),
    ("income: 60000 age: 45", predict(None, pairs(("income", n(60000)), ("age", n(45))))),
    ("plan: Basic, age: 45", predict(None, pairs(("plan", word("Basic")), ("age", n(45))))),
    ("iris: 5.1, 3.5, 1.4, 0.2", predict("iris", values(n(5.1), n(3.5), n(1.4), n(0.2)))),
    ("predict churn: 45", predict(None, pairs(("churn", n(45))))),
    ("predict churn 45", predict("churn", values(n(45)))),
    ("predict iris 5.1 3.5 1.4 0.2", predict("iris", values(n(5.1), n(3.5), n(1.4), n(0.2)))),
    ("predict Basic, 5", predict(None, values(word("Basic"), n(5)))),
    ("churn:\nage=45", predict("churn", pairs(("age", n(45))))),
    # No rows: what a file upload says, naming the model for the files
    ("predict", predict(None)),
    ("predict:", predict(None)),
    ("predict churn", predict("churn")),
    ("Predict churn:", predict("churn")),
    ("predict churn:\n\n", predict("churn")),
    # Rows: ';' or lines, blank lines, trailing separators
    ("predict:\nage=45\nage=30", predict(None, pairs(("age", n(45))), pairs(("age", n(30))))),
    ("predict churn:\nage=45\n\nage=30\n", predict("churn", pairs(("age", n(45))), pairs(("age", n(30))))),
    ("predict:\r\nage=45\r\nage=30\r\n", predict(None, pairs(("age", n(45))), pairs(("age", n(30))))),
    ("predict: age=45;", predict(None, pairs(("age", n(45))))),
    ("predict: age=45;;age=30", predict(None, pairs(("age", n(45))), pairs(("age", n(30))))),
    ("\n\npredict: age=45\n\n", predict(None, pairs(("age", n(45))))),
    ("5.1, 3.5, 1.4, 0.2", predict(None, values(n(5.1), n(3.5), n(1.4), n(0.2)))),
    ("5.1 3.5 ? na", predict(None, values(n(5.1), n(3.5), gap("?"), gap("na")))),
    # Spacing and separators
    ("  predict :  age = 45 ,  income : 60000  ", predict(None, AGE_INCOME)),
    ("predict: age=45,income=60000", predict(None, AGE_INCOME)),
    ("age:45", predict(None, pairs(("age", n(45))))),
    ("predict:\u00a0age=45", predict(None, pairs(("age", n(45))))),
    ("predict: age=45\tincome=60000", predict(None, AGE_INCOME)),
    ("predict: age=45 income=60000 plan=Basic",
     predict(None, pairs(("age", n(45)), ("income", n(60000)), ("plan", word("Basic"))))),
    # Numbers, money, percentages
    ("predict: x=1e3, y=1.2M, z=60K, w=3bn, v=2B",
     predict(None, pairs(("x", num("1e3", 1000.0)), ("y", num("1.2M", 1200000)), ("z", num("60K", 60000)),
                         ("w", num("3bn", 3000000000)), ("v", num("2B", 2000000000))))),
    ("predict: a=-3, b=+4.5, c=.5, d=4., e=45.0, f=1.5k",
     predict(None, pairs(("a", n(-3)), ("b", num("+4.5", 4.5)), ("c", num(".5", 0.5)), ("d", num("4.", 4.0)),
                         ("e", num("45.0", 45.0)), ("f", num("1.5k", 1500))))),
    ("predict: fee=$80.00, refund=-$5, credit=$-5, price=€1,200, rent=£950, big=$1.2M",
     predict(None, pairs(("fee", num("$80.00", 80.0, "$")), ("refund", num("-$5", -5, "$")),
                         ("credit", num("$-5", -5, "$")), ("price", num("€1,200", 1200, "€")),
                         ("rent", num("£950", 950, "£")), ("big", num("$1.2M", 1200000, "$"))))),
    ("predict: discount=15%, growth=-2.5%",
     predict(None, pairs(("discount", num("15%", 15, "%")), ("growth", num("-2.5%", -2.5, "%"))))),
    # Yes/no, missing, words, quoted text
    ("predict: a=true, b=False, c=YES, d=no, e=y, f=N, g=on, h=OFF",
     predict(None, pairs(("a", flag("true", True)), ("b", flag("False", False)), ("c", flag("YES", True)),
                         ("d", flag("no", False)), ("e", flag("y", True)), ("f", flag("N", False)),
                         ("g", flag("on", True)), ("h", flag("OFF", False))))),
    ("predict: a=?, b=na, c=N/A, d=null, e=None, f=missing",
     predict(None, pairs(("a", gap("?")), ("b", gap("na")), ("c", gap("N/A")), ("d", gap("null")),
                         ("e", gap("None")), ("f", gap("missing"))))),
    ("predict: plan=Premium, region=north-east, version=v1.2, tier=gold_plus, yesterday=nothing",
     predict(None, pairs(("plan", word("Premium")), ("region", word("north-east")), ("version", word("v1.2")),
                         ("tier", word("gold_plus")), ("yesterday", word("nothing"))))),
    (r"""predict: plan='Basic', note="say \"hi\"", path="C:\data\\x", lines="a\nb\tc", it='it\'s'""",
     predict(None, pairs(("plan", text("'Basic'", "Basic")), ("note", text(r'"say \"hi\""', 'say "hi"')),
                         ("path", text(r'"C:\data\\x"', "C:\\data\\x")), ("lines", text(r'"a\nb\tc"', "a\nb\tc")),
                         ("it", text(r"'it\'s'", "it's"))))),
    ("predict: plan=“Premium Plus”", predict(None, pairs(("plan", text("“Premium Plus”", "Premium Plus"))))),
    ("predict: \"plan type\"=Basic, 'monthly fee'=$5",
     predict(None, pairs(("plan type", word("Basic")), ("monthly fee", num("$5", 5, "$"))))),
    ("predict churn: Basic, 45, yes, ?", predict("churn", values(word("Basic"), n(45), flag("yes", True), gap("?")))),
    # Words that are verbs or values elsewhere are keys before '='
    ("help=3", predict(None, pairs(("help", n(3))))),
    ("models=3, explain=yes", predict(None, pairs(("models", n(3)), ("explain", flag("yes", True))))),
    ("predict: yes=1, na=2", predict(None, pairs(("yes", n(1)), ("na", n(2))))),
    ("predict: größe=180, café=Latte", predict(None, pairs(("größe", n(180)), ("café", word("Latte"))))),
    ("field=3", predict(None, pairs(("field", n(3))))),
    # Predictions remembered: history, show, feedback
    ("history", History(None, None)),
    ("history 20", History(20, None)),
    ("History: 5 churn", History(5, "churn")),
    ("history iris", History(None, "iris")),
    ("show 3f2a9c0d1e4b", Show("3f2a9c0d1e4b")),
    ("SHOW: 3F2A9C0D1E4B", Show("3f2a9c0d1e4b")),
    ("feedback 3f2a9c0d1e4b actual=churns", Feedback("3f2a9c0d1e4b", 1, word("churns"))),
    ('feedback: 3f2a9c0d1e4b, row=2, actual="two year"', Feedback("3f2a9c0d1e4b", 2, text('"two year"', "two year"))),
    ("feedback 3f2a9c0d1e4b row: 3 actual: 151.5", Feedback("3f2a9c0d1e4b", 3, n(151.5))),
    ("feedback 3f2a9c0d1e4b actual=yes", Feedback("3f2a9c0d1e4b", 1, flag("yes", True))),
    ("feedback 3f2a9c0d1e4b", Feedback("3f2a9c0d1e4b")),
    ("feedback 3f2a9c0d1e4b row=2", Feedback("3f2a9c0d1e4b", 2)),
    ("history=3, show=4", predict(None, pairs(("history", n(3)), ("show", n(4))))),
]


@pytest.mark.parametrize(("message", "command"), ACCEPTED, ids=[m for m, _ in ACCEPTED])
def test_accepted(message, command):
    assert parse(message) == command


def test_the_table_is_large_enough():
    assert len(ACCEPTED) >= 60


def test_spans_give_offsets_lines_and_columns():
    message = "predict churn: age=45, income=60000"
    command = parse(message)
    assert command.model_span == Span(8, 13, 1, 9)
    [row] = command.rows
    assert row.span == Span(15, 35, 1, 16)
    assert message[row.span.start:row.span.end] == "age=45, income=60000"
    age, income = row.items
    assert (age.key_span, age.value.span) == (Span(15, 18, 1, 16), Span(19, 21, 1, 20))
    assert (income.key_span, income.value.span) == (Span(23, 29, 1, 24), Span(30, 35, 1, 31))


def test_spans_on_later_lines_count_from_their_line():
    command = parse("predict:\nage=45\n  age=30")
    first, second = command.rows
    assert first.span == Span(9, 15, 2, 1)
    assert second.span == Span(18, 24, 3, 3)
    assert second.items[0].value.span == Span(22, 24, 3, 7)


def test_spans_of_names_topics_and_positional_values():
    assert parse("explain  churn").model_span == Span(9, 14, 1, 10)
    assert parse("help what if").topic_span == Span(5, 12, 1, 6)
    assert parse("predict: age=45").model_span is None
    row = parse("iris: 5.1, 3.5").rows[0]
    assert [v.span for v in row.items] == [Span(6, 9, 1, 7), Span(11, 14, 1, 12)]
    assert row.span == Span(6, 14, 1, 7)


def test_every_value_span_covers_its_raw_text():
    message = 'predict churn: plan="Premium Plus", fee=$80, "plan type"=Basic; 5, ?, yes'
    for row in parse(message).rows:
        for item in row.items:
            value = item.value if isinstance(item, Pair) else item
            assert message[value.span.start:value.span.end] == value.raw
        assert message[row.span.start:row.span.end] in message


def test_spans_take_no_part_in_equality():
    assert parse("predict:   age=45") == parse("predict: age=45")
    assert parse("predict:   age=45").rows[0].span != parse("predict: age=45").rows[0].span


def test_slash_predict_is_predict_as_slack_types_it():
    assert parse("/predict age=45") == parse("predict age=45")
    assert parse("/predict churn") == Predict("churn", ())


def test_a_follow_up_whatif_writes_back_as_itself():
    follow_up = parse("what if churn: income=80k")
    assert parser.to_text(follow_up) == "whatif churn: income=80k" and parse(parser.to_text(follow_up)) == follow_up
