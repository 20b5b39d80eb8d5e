"""The one literal reader: a value standing alone (a CSV cell) means what the same text means in a command."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parser import ParseError, parse
from parser.values import BOOL, TRUE_WORDS, missing, read, truth, with_magnitude, written

IN_A_COMMAND = ["45", "-3", "+4.5", ".5", "4.", "1e3", "60k", "60K", "1.2M", "3bn", "2B", "$80.00", "-$5", "$-5",
                "€1,200", "£950", "$1.2M", "15%", "-2.5%", "true", "False", "YES", "no", "y", "N", "on", "OFF",
                "?", "na", "N/A", "null", "None", "missing", "Premium", "north-east", "v1.2", "9" * 400, "1e400"]


@pytest.mark.parametrize("raw", IN_A_COMMAND)
def test_a_cell_reads_as_the_same_value_in_a_command(raw):
    [row] = parse(f"predict: x={raw}").rows
    in_command = row.items[0].value.value
    alone = read(raw)
    assert (type(alone), alone) == (type(in_command), in_command)


@pytest.mark.parametrize(("cell", "value"), [
    ("60,000", 60000), ("1,234,567.5", 1234567.5), ("-1,200", -1200), ("$1,200", 1200), ("1,200%", 1200),
    (" 7 ", 7), ("", None), ("  ", None), ("nan", None), ("NaN", None), (" Premium Plus ", "Premium Plus"),
])
def test_a_cell_holds_one_value_so_its_digits_may_be_grouped_with_commas(cell, value):
    assert read(cell) == value and type(read(cell)) is type(value)


@pytest.mark.parametrize("cell", ["1,00", "1234,567", "1,200,30", "12 apples", "$ 80", "1.2m", "--5", "$", "k"])
def test_text_that_is_no_value_of_the_grammar_is_itself(cell):
    assert read(cell) == cell.strip()


def test_the_comma_rule_in_a_cell_after_a_currency_and_in_a_command():
    assert read("1,200") == 1200
    assert parse("predict: income=$1,200").rows[0].items[0].value.value == 1200
    error = parse("predict: income=1,200")
    assert isinstance(error, ParseError) and error.label == "thousands"
    assert "`predict: income=1200` or `predict: income=1.2k`" in error.hint


def test_numbers_too_large_for_a_float_keep_what_the_command_reads():
    assert read("9" * 400) == int("9" * 400)
    assert read("1e400") == math.inf and read("-" + "9" * 5000) == -math.inf


def test_the_words_for_yes_are_words_of_the_grammar():
    assert all(BOOL.fullmatch(word) for word in TRUE_WORDS)


@pytest.mark.parametrize(("cell", "said"), [("yes", True), ("Off", False), ("t", True), ("F", False), ("1", True),
                                            ("0", False), (" y ", True), ("maybe", None), ("2", None), ("", None)])
def test_a_yes_no_field_also_reads_t_f_and_1_0(cell, said):
    assert truth(cell) is said


def test_missing_words_are_the_grammar_s_and_a_cell_s_empty_or_nan():
    assert all(map(missing, ["?", "na", "N/A", "null", "None", "missing", "", " ", "nan"]))
    assert not any(map(missing, ["0", "no", "nothing", "nana"]))


@pytest.mark.parametrize(("digits", "short"), [("1200", "1.2k"), ("60000", "60k"), ("1200000", "1.2M"),
                                               ("3000000000", "3B"), ("1200.50", "1.2005k"), ("999", None)])
def test_a_plain_number_with_its_magnitude(digits, short):
    assert with_magnitude(digits) == short


@pytest.mark.parametrize(("number", "text"), [
    (0, "0"), (45, "45"), (4.5, "4.5"), (0.05, "0.05"), (-3, "-3"), (2024, "2024"), (9999, "9999"),
    (20100, "20.1k"), (229800, "229.8k"), (60000.0, "60k"), (1234567.8, "1.235M"), (-60000, "-60k"),
    (999999.9, "1M"), (1e9, "1B"), (12345678901, "12.35B"), (1.5e12, "1.5e+12"), (1.2e-7, "1.2e-07"),
])
def test_numbers_are_written_for_people_with_the_language_s_magnitudes(number, text):
    assert written(number) == text


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
       | st.integers(-10**18, 10**18))
def test_a_written_number_reads_back_as_about_the_same_number_and_never_as_text(number):
    text = written(number)
    back = read(text)
    assert isinstance(back, (int, float)) and not isinstance(back, bool), text
    assert back == pytest.approx(number, rel=1e-3, abs=1e-300), text
    if 1e-4 <= abs(number) < 1e12:
        assert "e" not in text, text


def test_a_number_just_under_a_trillion_that_rounds_up_stays_in_words():
    assert written(999_950_000_000) == "1000B" and read("1000B") == 10**12
