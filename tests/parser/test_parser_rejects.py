"""Messages that are not commands: the label, where the caret goes, and what the person reads."""

from __future__ import annotations

import re

import pytest

from parser import ParseError, Predict, parse
from parser.errors import EXAMPLES, LABELS

# (message, label, line, column)
REJECTED = [
    ("", "empty", 1, 1),
    ("   \n  ", "empty", 1, 1),
    (";", "empty", 1, 1),
    ("hello bot", "sentence", 1, 1),
    ("what will this customer do?", "sentence", 1, 1),
    ("  \thello", "sentence", 1, 4),
    ("45 years old", "sentence", 1, 4),
    ("?", "sentence", 1, 1),
    ("churn: will they leave?", "sentence", 1, 8),
    ("predict: age=", "empty_value", 1, 14),
    ("predict: age=, income=5", "empty_value", 1, 14),
    ("age=", "empty_value", 1, 5),
    ("predict: age= income=5", "empty_value", 1, 15),
    ("predict: a=1, b=2, age=\nage=3", "empty_value", 1, 24),
    ('predict: plan="Premium Plus', "unclosed_quote", 1, 15),
    ("predict: plan='Basic, age=4", "unclosed_quote", 1, 15),
    ('predict:\nplan="x\nage=4', "unclosed_quote", 2, 6),
    ("predict: plan=“Premium", "unclosed_quote", 1, 15),
    ("predict: age==45", "double_equals", 1, 14),
    ("age:=45", "double_equals", 1, 5),
    ("predict: age=45, income", "missing_value", 1, 18),
    ("predict: age=45 income 60000", "missing_value", 1, 17),
    ("age=45, income", "missing_value", 1, 9),
    ("predict: a=1, b=2, c=3, income", "missing_value", 1, 25),
    ("predict: age=45,", "trailing_comma", 1, 16),
    ("predict: age=45, ;age=30", "trailing_comma", 1, 16),
    ("age=45,\nage=30", "trailing_comma", 1, 7),
    ("predict:\nage=45\nage=30,", "trailing_comma", 3, 7),
    ("predict iris: 5.1, 3.5,", "trailing_comma", 1, 23),
    ("predict: age=45, 30", "mixed", 1, 18),
    ("predict: a=1, b=2, 30", "mixed", 1, 20),
    ("predict: 45, age=30", "mixed", 1, 14),
    ("45, age=30", "mixed", 1, 5),
    ("predict: a=1, d=1,200", "thousands", 1, 18),
    ("income=1,200", "thousands", 1, 9),
    ("predict: income=1,200,000 plan=Basic", "thousands", 1, 18),
    ("predict: income=12345,678", "mixed", 1, 23),
    ("whatif: age=45; age=50", "whatif_arrow", 1, 17),
    ("whatif churn: 5, 6", "whatif_arrow", 1, 19),
    ("whatif: age=45 ->", "whatif_changes", 1, 18),
    ("whatif: age=45 -> 50", "whatif_changes", 1, 19),
    ("predict: age=45 -> age=50", "arrow_needs_whatif", 1, 17),
    ("predcit: age=45", "unknown_verb", 1, 1),
    ("predcit age=45", "unknown_verb", 1, 1),
    ("Modles", "unknown_verb", 1, 1),
    ("hepl predict", "unknown_verb", 1, 1),
    ("  explian churn", "unknown_verb", 1, 3),
    ("predicts: age=45", "unknown_verb", 1, 1),
    ("whatif", "no_rows", 1, 7),
    ("whatif churn", "no_rows", 1, 13),
    ("whatif:", "no_rows", 1, 8),
    ("explain churn now", "syntax", 1, 15),
    ("models churn", "syntax", 1, 8),
    ("predict: age=45 #comment", "syntax", 1, 17),
    ("help 123", "syntax", 1, 6),
    ("predict: age=45abc", "syntax", 1, 14),
    ("predict: weight=1.2m", "syntax", 1, 17),
    ("predict wine: od280/od315=3.9", "unquoted_key", 1, 15),
    ("od280/od315=3.9", "unquoted_key", 1, 1),
    ("predict: a=1, sepal.length=5", "unquoted_key", 1, 15),
    ("predict: total (usd)=4", "unquoted_key", 1, 10),
    ("predict: a b c d e f=1", "unquoted_key", 1, 10),
    ("predict: age=45, contract=two year", "unquoted_text", 1, 27),
    ("predict:\nplan=Premium Plus Extra", "unquoted_text", 2, 6),
    ("predict churn for age 45 and income 60k", "spoken_pairs", 1, 15),
    ("for age 45 and income 60k", "spoken_pairs", 1, 1),
    ("predict for age 45 with income 60k", "spoken_pairs", 1, 9),
    ("show", "prediction_id", 1, 5),
    ("show 3f2a9c0d1e4", "prediction_id", 1, 6),
    ("show: id", "prediction_id", 1, 7),
    ("feedback churns", "prediction_id", 1, 10),
    ("Show me more", "prediction_id", 1, 6),
    ("feedback 0123456789ab churns", "feedback_actual", 1, 23),
    ("feedback 0123456789ab row 2 actual=stays", "feedback_actual", 1, 23),
    ("feedback 0123456789ab row=2 5", "feedback_actual", 1, 29),
    ("history churn 5", "syntax", 1, 15),
    ("feedback 0123456789ab actual=", "syntax", 1, 30),
    ("hstory", "unknown_verb", 1, 1),
    ("feedbak 0123456789ab actual=x", "unknown_verb", 1, 1),
]

TOKEN_NAME = re.compile(r"\$END|__ANON|\b[A-Z][A-Z_]{2,}\b")


@pytest.mark.parametrize(("message", "label", "line", "column"), REJECTED, ids=[m for m, *_ in REJECTED])
def test_rejected(message, label, line, column):
    error = parse(message)
    assert isinstance(error, ParseError)
    assert (error.label, error.line, error.column) == (label, line, column)
    assert error.text == message


@pytest.mark.parametrize(("message", "label", "line", "column"), REJECTED, ids=[m for m, *_ in REJECTED])
def test_errors_read_as_plain_words(message, label, line, column):
    error = parse(message)
    assert error.expected and not TOKEN_NAME.search(error.expected), error.expected
    assert error.hint and not TOKEN_NAME.search(error.hint), error.hint
    shown, pointer = error.caret.split("\n")
    assert shown == message.split("\n")[line - 1].replace("\t", " ")
    assert pointer == " " * (column - 1) + "^"
    assert error.message == f"{error.caret}\nExpected {error.expected}.\n{error.hint}"


def test_the_table_is_large_enough_and_covers_every_label():
    assert len(REJECTED) >= 30
    assert {label for _, label, *_ in REJECTED} == set(LABELS) | {"syntax"}


@pytest.mark.parametrize(("label", "example"), [(label, e) for label, examples in EXAMPLES.items() for e in examples])
def test_every_example_in_the_error_table_gets_its_own_label(label, example):
    assert parse(example).label == label


@pytest.mark.parametrize(("message", "fix"), [
    ("predict: age=45,", "`predict: age=45`"),
    ("predict: age==45", "`predict: age=45`"),
    ("predict: age=, income=5", "`predict: age=?, income=5`"),
    ('predict churn: plan="Premium Plus', '`predict churn: plan="Premium Plus"`'),
    ("predict: plan=“Premium", "`predict: plan=“Premium”`"),
    ("predict: age=45, income 60000", "`predict: age=45, income=60000`"),
    ("predcit churn: age=45", "Did you mean predict? `predict churn: age=45`"),
    ("whatif churn", "`whatif churn: age=45, income=60000 -> income=80000`"),
    ("predict churn: age=45 -> age=50", "`whatif churn: age=45 -> age=50`"),
    ("predict: a=1, d=1,200", "`predict: a=1, d=1200` or `predict: a=1, d=1.2k`"),
    ("predict: income=1,200,000 plan=Basic",
     "`predict: income=1200000 plan=Basic` or `predict: income=1.2M plan=Basic`"),
    ("predict: fee=1,200.50", "`predict: fee=1200.50` or `predict: fee=1.2005k`"),
    ("predict: fee=1,200k", "`predict: fee=1200k` ("),
    ("predict:\nage=45\nage=30,", "`age=30`"),
    ("predict: age=45, income", "`predict: age=45, income=?`"),
    ("predict: age=45, contract=two year", '`predict: age=45, contract="two year"`'),
    ("predict: plan=Premium Plus Extra, age=4", '`predict: plan="Premium Plus Extra", age=4`'),
    ("predict wine: od280/od315=3.9", '`predict wine: "od280/od315"=3.9`'),
    ("od280/od315=3.9", '`"od280/od315"=3.9`'),
    ("predict: x=1 sepal.length=5", '`predict: x=1 "sepal.length"=5`'),
    ("predict: total (usd)=4, age=5", '`predict: "total (usd)"=4, age=5`'),
    ("predict: a b c d e f=1", '`predict: "a b c d e f"=1`'),
    ("predict churn for age 45 and income 60k", "`predict churn: age=45, income=60k`"),
    ("for age 45 and income 60k", "`predict: age=45, income=60k`"),
    ("churn with plan Basic, age 45", "`predict churn: plan=Basic, age=45`"),
    ("show 123", "`show 3f2a9c0d1e4b`"),
    ("feedback", "`feedback 3f2a9c0d1e4b`"),
    ("feedback 0123456789AB churns", "`feedback 0123456789ab actual=churns`"),
    ("histroy 5", "Did you mean history? `history 5`"),
])
def test_hints_show_the_message_fixed(message, fix):
    assert fix in parse(message).hint


def test_thousands_in_a_command_say_the_comma_separates_values():
    error = parse("predict: income=1,200")
    assert error.expected == "one number, written without commas"
    assert error.hint == ("In a command a comma separates values, so 1,200 is not one number here. Write "
                          "`predict: income=1200` or `predict: income=1.2k` "
                          "(digits are grouped with commas only after a currency sign: $1,200).")


def test_a_generic_error_says_what_would_fit():
    error = parse("explain churn now")
    assert error.expected == "the end of the line"
    assert "'now'" in error.hint
    assert parse("predict: age=45 #x").expected == "a key=value pair or the end of the line"


def test_a_long_line_is_cut_around_the_caret():
    message = "predict: " + ", ".join(f"feature{i}=1" for i in range(30)) + ", oops"
    error = parse(message)
    shown, pointer = error.caret.split("\n")
    assert len(shown) < 120 and shown.startswith("…")
    assert shown[pointer.index("^"):].startswith("oops")


def test_a_word_near_a_verb_is_still_a_key_before_equals():
    assert not isinstance(parse("field=3"), ParseError)
    assert parse("feild=").label == "empty_value"


def test_a_grouped_number_before_the_next_pair_is_a_thousands_error_too():
    error = parse("predict: rooms=3, area=1,200, city=Oslo")
    assert (error.label, error.column) == ("thousands", 25)
    assert "`predict: rooms=3, area=1200, city=Oslo`" in error.hint


SUGGESTED = re.compile(r"`([^`]+)`")
EVERY_EXAMPLE = [*(example for examples in EXAMPLES.values() for example in examples), *(m for m, *_ in REJECTED)]


@pytest.mark.parametrize("message", EVERY_EXAMPLE)
def test_every_hint_suggests_a_command_and_every_command_it_suggests_parses(message):
    suggested = SUGGESTED.findall(parse(message).hint)
    assert suggested
    for command in suggested:
        assert not isinstance(parse(command), ParseError), (message, command)


def test_a_value_of_words_then_a_number_is_rather_a_missing_equals_sign():
    error = parse("predict: plan=Basic income 60000")
    assert error.label == "missing_value"
    assert "`predict: plan=Basic income=60000`" in error.hint


def test_a_key_in_quotes_is_not_a_key_that_needs_them():
    assert parse('predict wine: "od280/od315"=3.9').rows[0].items[0].key == "od280/od315"
    assert parse("predict: 45 age=30").label == "mixed"


@pytest.mark.parametrize("message", ["I want it for age 45 and income 60k", "for real?", "what is it for",
                                     "with love 2 you"])
def test_a_sentence_with_a_filler_word_is_still_a_sentence(message):
    assert parse(message).label == "sentence"


@pytest.mark.parametrize("message", ["predict iris: 5.1, 3.5, 1.4, 0.2", "predict churn: 45, 60000, Basic",
                                     "predict: plan Basic and age 45", "predict churn for plan Basic"])
def test_values_that_do_not_start_with_a_filler_word_or_have_no_number_stay_values(message):
    assert isinstance(parse(message), Predict)


def test_pairs_written_as_words_are_pointed_at_where_the_words_start():
    error = parse("predict churn for age 45 and income 60k")
    assert error.expected == "key=value pairs"
    assert error.hint == "Put '=' between each key and its value: `predict churn: age=45, income=60k`"
    assert parse("predict churn for age 45; age=3").hint.endswith("`predict churn: age=45; age=3`")


def test_how_and_shop_are_no_typos_of_show():
    assert parse("How does this work?").label == "sentence"
    assert parse("shop: age=45") == Predict("shop", parse("age=45").rows)
