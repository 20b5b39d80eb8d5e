import math

import numpy as np
import pytest

from scoring.problems import (DuplicateFeature, Imputed, MissingValue, MissingValues, OutOfRange, TooLarge,
                              UnknownCategory, UnknownFeature, WrongCount, WrongType)
from scoring.schema import CoercedRow, Feature, Kind, Schema, is_missing, normalise_key, to_frame, to_number

SCHEMA = Schema((
    Feature("age", Kind.INTEGER, low=18, high=80),
    Feature("income", Kind.NUMERIC, unit="$", aliases=("salary",), low=0, high=300_000, imputable=True),
    Feature("plan_type", Kind.CATEGORICAL, categories=("Basic", "Premium", "Premium Plus"), imputable=True),
    Feature("autopay", Kind.BOOLEAN, imputable=True),
))


def problems(row):
    result = SCHEMA.coerce(row)
    assert isinstance(result, list), f"expected problems, got {result}"
    return result


@pytest.mark.parametrize("text, number", [
    ("45", 45), ("-3", -3), ("4.5", 4.5), ("1e3", 1000), ("60k", 60_000), ("1.2M", 1_200_000),
    ("$80.00", 80), ("-$5", -5), ("$1,200", 1200), ("60,000", 60_000), ("15%", 15), (".5", 0.5),
    ("2bn", 2e9), (" 7 ", 7), ("1,234,567.5", 1_234_567.5),
])
def test_text_reads_as_the_number_people_write(text, number):
    assert to_number(text) == pytest.approx(number)


@pytest.mark.parametrize("text", ["sixty", "", "1.2.3", "$", "k", "--5", "12 apples", "1,00", "yes", "?", "nan"])
def test_text_that_is_no_number_reads_as_none(text):
    assert to_number(text) is None


@pytest.mark.parametrize("value", [None, float("nan"), "", " ", "?", "NA", "n/a", "null", "None", "missing", "nan"])
def test_missing_is_the_grammar_s_missing_words_and_a_cell_s_empty_or_nan(value):
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, "0", "no", "Nothing", "none of them"])
def test_a_value_is_not_missing_for_resembling_a_missing_word(value):
    assert not is_missing(value)


def test_a_cell_reads_as_the_same_text_does_in_a_command():
    row = SCHEMA.coerce({"age": "45", "income": "60,000", "plan_type": "Premium", "autopay": "t"})
    assert row.values == {"age": 45, "income": 60_000.0, "plan_type": "Premium", "autopay": True}


@pytest.mark.parametrize("key", ["plan_type", "PlanType", "plan type", "plan-type", "PLAN_TYPE"])
def test_keys_match_ignoring_case_spacing_and_separators(key):
    assert normalise_key(key) == "plantype"
    assert SCHEMA.feature(key).name == "plan_type"


def test_alias_from_the_card_names_the_feature():
    assert SCHEMA.feature("Salary").name == "income"


def test_a_good_row_is_coerced_to_model_types_in_feature_order():
    row = SCHEMA.coerce({"Salary": "60k", "age": "45", "plan type": "premium plus", "autopay": "yes"})
    assert isinstance(row, CoercedRow)
    assert list(row.values) == ["age", "income", "plan_type", "autopay"]
    assert row.values == {"age": 45, "income": 60_000.0, "plan_type": "Premium Plus", "autopay": True}
    assert row.warnings == ()


def test_unknown_field_suggests_the_closest_name():
    [problem] = problems({"age": 45, "incme": 5})
    assert isinstance(problem, UnknownFeature)
    assert problem.message == "Unknown field 'incme'. Did you mean 'income'?"


def test_unknown_field_with_nothing_close_lists_the_fields():
    [problem] = problems({"age": 45, "zebra": 5})
    assert "Fields: age, income, plan_type, autopay" in problem.message


def test_wrong_type_says_what_was_expected_and_what_was_given():
    [problem] = problems({"age": 45, "income": "sixty"})
    assert isinstance(problem, WrongType)
    assert problem.message == "income expects a number, got 'sixty'."


def test_whole_numbers_reject_fractions():
    [problem] = problems({"age": "45.5"})
    assert problem.message == "age expects a whole number, got '45.5'."


def test_boolean_rejects_other_words():
    [problem] = problems({"age": 45, "autopay": "maybe"})
    assert problem.message == "autopay expects yes or no, got 'maybe'."


def test_unknown_category_suggests_a_close_one():
    [problem] = problems({"age": 45, "plan_type": "Premum"})
    assert isinstance(problem, UnknownCategory)
    assert problem.message == "plan_type has no category 'Premum'. Did you mean 'Premium'?"


def test_unknown_category_with_nothing_close_lists_the_choices():
    [problem] = problems({"age": 45, "plan_type": "Gold"})
    assert problem.message == "plan_type has no category 'Gold'. Choices: Basic, Premium, Premium Plus."


def test_missing_field_the_model_cannot_fill_is_an_error():
    [problem] = problems({"income": 5})
    assert isinstance(problem, MissingValue)
    assert problem.message == "age is required: this model cannot fill it in. Add age=..."


@pytest.mark.parametrize("missing", [None, "?", "NA", "null", "", float("nan")])
def test_missing_field_the_model_fills_in_is_a_warning(missing):
    row = SCHEMA.coerce({"age": 45, "income": missing, "plan_type": "Basic", "autopay": "no"})
    assert isinstance(row, CoercedRow)
    assert row.values["income"] is None
    assert row.warnings == (Imputed(("income",)),)
    assert row.warnings[0].message == "income was not given; the model filled it in."


def test_several_fields_filled_in_make_one_warning():
    row = SCHEMA.coerce({"age": 45})
    assert row.warnings == (Imputed(("income", "plan_type", "autopay")),)
    assert row.warnings[0].message == "Not given, so the model filled them in: income, plan_type, autopay."


def test_value_outside_training_range_is_kept_with_a_warning():
    row = SCHEMA.coerce({"age": 95, "income": 1, "plan_type": "Basic", "autopay": False})
    assert row.values["age"] == 95
    assert row.warnings == (OutOfRange("age", 95, 18, 80),)
    assert row.warnings[0].message == (
        "age=95 is outside the training range 18 to 80; treat this prediction with care.")


def test_every_problem_of_a_row_is_reported_at_once():
    found = problems({"agee": 1, "income": "lots", "plan_type": "Gold"})
    assert [type(p) for p in found] == [UnknownFeature, MissingValue, WrongType, UnknownCategory]


def test_a_field_given_twice_is_an_error():
    found = problems({"age": 45, "income": 1, "salary": 2})
    assert DuplicateFeature("income") in found


def test_positional_values_follow_schema_order():
    assert SCHEMA.name_positional([45, 1, "Basic", True]) == {
        "age": 45, "income": 1, "plan_type": "Basic", "autopay": True}
    wrong = SCHEMA.name_positional([1, 2])
    assert isinstance(wrong, WrongCount)
    assert wrong.message.startswith("Expected 4 values in this order: age, income, plan_type, autopay; got 2.")


def test_frame_uses_nan_for_missing_and_floats_for_numbers():
    frame = to_frame(SCHEMA, [{"age": 45, "income": None, "plan_type": None, "autopay": True}])
    assert list(frame.columns) == ["age", "income", "plan_type", "autopay"]
    assert frame.dtypes["age"] == "float64" and frame.dtypes["plan_type"] == object
    assert math.isnan(frame.loc[0, "income"]) and math.isnan(frame.loc[0, "plan_type"])
    assert frame.loc[0, "autopay"] == 1.0


@pytest.mark.parametrize("given, expected", [("yes", True), ("N", False), ("on", True), ("1", True),
                                             ("0.0", False), ("1.0", True), (1, True), (0.0, False),
                                             ("t", True), ("F", False), ("0", False), (" off ", False)])
def test_booleans_read_words_and_zero_or_one(given, expected):
    assert SCHEMA.feature("autopay").coerce(given) is expected


def test_boolean_rejects_other_numbers():
    assert isinstance(SCHEMA.feature("autopay").coerce("2"), WrongType)


HUGE = int("9" * 309)      # the smallest size of integer that float() cannot take


@pytest.mark.parametrize("field", ["age", "income"])
@pytest.mark.parametrize("value", [HUGE, -HUGE, 10**4000, "9" * 400, "1e400", float("inf"), 1e39, "-1e39"])
def test_a_number_too_large_for_a_model_is_refused_for_its_field(field, value):
    [problem] = problems({"age": 45, field: value})
    assert isinstance(problem, TooLarge)
    assert problem.message == (f"{field} is out of the range a model can compute with: "
                               "give a number between -3.4e+38 and 3.4e+38.")


def test_the_largest_number_a_model_takes_is_kept_with_a_range_warning():
    row = SCHEMA.coerce({"age": 45, "income": 3.4e38})
    assert row.values["income"] == 3.4e38
    assert row.warnings[-1].message.startswith("income=3.4e+38 is outside the training range 0 to 300k")
    assert to_frame(SCHEMA, [row.values]).loc[0, "income"] == 3.4e38


def test_huge_integers_in_yes_no_and_category_fields_are_wrong_values_shown_cut():
    category, yes_no = problems({"age": 45, "autopay": HUGE, "plan_type": HUGE})
    assert (type(category), type(yes_no)) == (UnknownCategory, WrongType)
    assert category.message.startswith(f"plan_type has no category '{'9' * 39}… (309 characters)'. Choices:")
    assert yes_no.message == f"autopay expects yes or no, got '{'9' * 39}… (309 characters)'."


def test_a_range_warning_on_a_huge_integer_is_a_message_not_an_overflow():
    warning = SCHEMA.feature("age").range_warning(HUGE)
    assert warning.message == "age=infinity is outside the training range 18 to 80; treat this prediction with care."


def test_a_long_value_is_cut_in_its_message():
    [problem] = problems({"age": 45, "plan_type": "x" * 5000})
    assert problem.message == f"plan_type has no category '{'x' * 39}… (5,000 characters)'. " \
                              "Choices: Basic, Premium, Premium Plus."
    [unknown] = problems({"age": 45, "k" * 300: 1})
    assert unknown.message.startswith(f"Unknown field '{'k' * 39}… (300 characters)'. Fields: age,")


@pytest.mark.parametrize("value, shown", [(np.float64(45.5), "'45.5'"), (45.5, "'45.5'"), (np.int64(7), "'7'"),
                                          (1e20, "'1e+20'"), ("it's", "'it's'"), ("a\\b", "'a\\b'")])
def test_messages_show_values_as_written_never_as_python_reprs(value, shown):
    [problem] = problems({"age": 45, "autopay": value})
    assert problem.message.endswith(f"got {shown}.")


def test_yes_or_no_reads_the_category_that_says_yes_or_no():
    answer = Feature("answer", Kind.CATEGORICAL, categories=("No", "Yes"))
    assert answer.coerce(True) == "Yes" and answer.coerce(False) == "No"
    flag = Feature("flag", Kind.CATEGORICAL, categories=("0", "1"))
    assert flag.coerce(True) == "1" and flag.coerce(False) == "0"
    [problem] = problems({"age": 45, "plan_type": True})
    assert problem.message == "plan_type has no category 'yes'. Choices: Basic, Premium, Premium Plus."


@pytest.mark.parametrize("header", ["plan type (tier)", "Plan_Type [code]", "PLAN-TYPE ( x )", "Salary ($)"])
def test_a_csv_header_names_a_field_with_a_unit_in_brackets_after_it(header):
    assert SCHEMA.column(header).name == ("income" if header.startswith("Salary") else "plan_type")


@pytest.mark.parametrize("header", ["plan type (tier", "(plan type)", "plan (type) x", "age (years) (cm)"])
def test_only_a_whole_bracketed_unit_at_the_end_of_a_header_is_dropped(header):
    assert isinstance(SCHEMA.column(header), UnknownFeature)
    assert SCHEMA.column(header).name == header


def test_a_command_s_key_keeps_its_brackets():
    assert isinstance(SCHEMA.feature("plan type (tier)"), UnknownFeature)


REQUIRED = Schema(tuple(Feature(name, Kind.NUMERIC) for name in ("sepal_length", "sepal_width", "petal_length",
                                                                    "petal_width")))


def test_required_fields_left_out_are_one_problem_in_one_sentence():
    [problem] = REQUIRED.coerce({"sepal_length": 5})
    assert problem == MissingValues(("sepal_width", "petal_length", "petal_width"))
    assert problem.label == "missing_value"
    assert problem.message == ("sepal_width, petal_length and petal_width are required: this model cannot fill them "
                               "in. Add sepal_width=..., petal_length=..., petal_width=...")


def test_the_missing_fields_come_after_the_problems_with_keys_and_before_those_with_values():
    found = REQUIRED.coerce({"petal": 1, "sepal_length": "long"})
    assert [type(p) for p in found] == [UnknownFeature, MissingValues, WrongType]


def test_many_missing_fields_are_listed_up_to_a_dozen():
    schema = Schema(tuple(Feature(f"f{i}", Kind.NUMERIC) for i in range(20)))
    [problem] = schema.coerce({})
    assert problem.message.startswith("f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11 and 8 more are required")
    assert problem.message.endswith("f10=..., f11=..., ...")


def test_a_warning_writes_numbers_as_people_read_them_and_the_language_reads_back():
    wide = Feature("income", Kind.NUMERIC, low=20100, high=229800)
    assert wide.range_warning(1234567.8).message == (
        "income=1.235M is outside the training range 20.1k to 229.8k; treat this prediction with care.")


def test_a_number_given_for_a_category_is_matched_as_written_exactly():
    codes = Feature("code", Kind.CATEGORICAL, categories=("1234567", "20100"))
    assert codes.coerce(1234567) == "1234567" and codes.coerce(20100.0) == "20100"


def test_a_key_written_as_a_name_finds_what_its_normalised_form_finds():
    schema = Schema((Feature("a", Kind.NUMERIC, aliases=("x_y",)), Feature("xy", Kind.NUMERIC)))
    assert schema.feature("x_y").name == schema.feature("X Y").name == "xy"


def test_a_category_is_found_by_case_then_by_spacing_every_time():
    feature = Feature("plan", Kind.CATEGORICAL, categories=("Premium Plus", "premiumplus"))
    assert [feature.coerce(text) for text in ("PREMIUMPLUS", "premium plus", "Premium-Plus")] * 2 == \
        ["premiumplus", "Premium Plus", "premiumplus"] * 2
