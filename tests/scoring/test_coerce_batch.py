"""`Schema.coerce_many` against coercion one row at a time, as it was written before it had a column-wise twin.

`reference` below is that per-row coercion, kept here as the oracle; `slow_number` is how text became a number
before plain digits had a fast path. Results are compared by value and by repr, so that an int for a float, -0.0
for 0.0, or the same problems in another order all fail.
"""

import csv
import io
import math

import pytest
from hypothesis import given, settings, strategies as st

from parser import values as literals
from scoring.problems import DuplicateFeature, Imputed, MissingValue, MissingValues, Problem, UnknownFeature
from scoring.schema import LARGEST, CoercedRow, Feature, Kind, Schema, to_number

SCHEMA = Schema((
    Feature("age", Kind.INTEGER, low=18, high=80),
    Feature("income", Kind.NUMERIC, unit="$", aliases=("salary",), low=0, high=300_000, imputable=True),
    Feature("plan_type", Kind.CATEGORICAL, categories=("Basic", "Premium", "Premium Plus"), aliases=("tier",),
            imputable=True),
    Feature("autopay", Kind.BOOLEAN, imputable=True),
    Feature("region", Kind.CATEGORICAL),
    Feature("fee", Kind.NUMERIC),
))

HOSTILE_CELLS = ["", " ", "NA", "n/a", "?", "nan", "null", "60k", "$80.00", "-$5", "15%", "60,000", "1,00", "1e309",
                 "-1e309", "1e3", "3.4e38", "3.5e38", "yes", "no", "t", "0", "1", "-0", "-0.0", "007", "1.5", "45",
                 " 45 ", "٣", "5.", ".5", "+5", "1_000", "Premium", "premium plus", "PREMIUM", "premiumplus",
                 "Premum", "sixty", "=1+1", None, math.nan, math.inf, -math.inf, 0.0, -0.0, 45, 45.5, 10**400,
                 True, False, 3.5e38]


def reference(schema: Schema, row) -> CoercedRow | list[Problem]:
    """`Schema.coerce` as it was: each key looked up after normalising, each field coerced in turn."""
    problems: list[Problem] = []
    given_values: dict[str, object] = {}
    for key, raw in row.items():
        feature = schema.feature(key)
        if isinstance(feature, UnknownFeature):
            problems.append(feature)
        elif feature.name in given_values:
            problems.append(DuplicateFeature(feature.name))
        else:
            given_values[feature.name] = raw
    about_keys = len(problems)
    values: dict[str, object] = {}
    warnings: list[Problem] = []
    imputed: list[str] = []
    missing: list[MissingValue] = []
    for feature in schema.features:
        value = feature.coerce(given_values.get(feature.name))
        if isinstance(value, MissingValue):
            missing.append(value)
            continue
        if isinstance(value, Problem):
            problems.append(value)
            continue
        values[feature.name] = value
        if value is None:
            imputed.append(feature.name)
        elif warning := feature.range_warning(value):
            warnings.append(warning)
    if imputed:
        warnings.insert(0, Imputed(tuple(imputed)))
    if missing:
        grouped = missing[0] if len(missing) == 1 else MissingValues(tuple(m.feature for m in missing))
        problems.insert(about_keys, grouped)
    return problems if problems else CoercedRow(values, tuple(warnings))


def slow_number(value: object) -> float | None:
    """`to_number` of text as it was: always through the command language's reader."""
    read = literals.read(str(value))
    return None if read is None or isinstance(read, (bool, str)) else to_number(read)


def assert_same(batch: list, rows: list, schema: Schema = SCHEMA) -> None:
    expected = [reference(schema, row) for row in rows]
    assert batch == expected
    assert [repr(r) for r in batch] == [repr(r) for r in expected]
    assert [list(r.values) for r in batch if isinstance(r, CoercedRow)] == \
        [list(r.values) for r in expected if isinstance(r, CoercedRow)]


def as_csv_cells(rows: list[dict]) -> list[dict]:
    """Rows as a CSV file gives them: every cell text, a missing value an empty cell."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return list(csv.DictReader(io.StringIO(text.getvalue())))


@pytest.mark.parametrize("name", ["churn", "iris", "diabetes"])
def test_every_demo_model_s_background_coerces_as_row_by_row(registry, name):
    model = registry.get(name)
    typed_rows = model.background.to_dict("records")
    for rows in (typed_rows, as_csv_cells(typed_rows)):
        assert_same(model.schema.coerce_many(rows), rows, model.schema)
        assert_same([model.schema.coerce(row) for row in rows], rows, model.schema)


@pytest.mark.parametrize("name", ["churn", "iris", "diabetes"])
def test_every_demo_model_s_fields_take_hostile_cells_as_row_by_row(registry, name):
    schema = registry.get(name).schema
    rows = [{f.name: cell for f in schema.features} for cell in HOSTILE_CELLS]
    rows += [{f.name: HOSTILE_CELLS[(i + j) % len(HOSTILE_CELLS)] for j, f in enumerate(schema.features)}
             for i in range(len(HOSTILE_CELLS))]
    assert_same(schema.coerce_many(rows), rows, schema)


@pytest.mark.parametrize("cell", HOSTILE_CELLS)
def test_a_hostile_cell_in_every_field_coerces_as_row_by_row(cell):
    rows = [{f.name: cell for f in SCHEMA.features}, {"age": 45, "region": "west", "fee": 3, "income": cell}]
    assert_same(SCHEMA.coerce_many(rows), rows)


def test_rows_with_awkward_keys_coerce_as_row_by_row():
    rows = [
        {"age": "45", "region": "west", "fee": "3"},
        {"age": "45", "Salary": "60k", "income": "50k", "region": "west", "fee": "3"},     # income twice
        {"income": "50k", "salary": "60k", "age": "45", "region": "west", "fee": "3"},     # the other first
        {"Age": "45", "AGE": "46", "region": "west", "fee": "3"},
        {"age": "45", "zebra": "1", "incme": "5", "region": "west", "fee": "3"},
        {"plan type": "premium", "Tier": "basic", "age": "45", "region": "west", "fee": "3"},
        {"zebra": "1"},
        {},
        {"age": "", "region": "", "fee": ""},
        {"age": "45", "region": "west", "fee": "3"},       # a layout seen before, after others
    ]
    assert_same(SCHEMA.coerce_many(rows), rows)


def test_one_row_coerces_alone_as_in_a_chunk():
    row = {"age": "45", "salary": "60k", "region": "West", "fee": "3", "tier": "premium plus"}
    assert SCHEMA.coerce_many([row]) == [SCHEMA.coerce(row)] == [reference(SCHEMA, row)]


def test_a_chunk_of_no_rows_coerces_to_no_results():
    assert SCHEMA.coerce_many([]) == []


def test_the_same_text_twice_in_a_column_reads_the_same():
    rows = [{"age": "90", "region": "Nowhere", "fee": "x"}] * 3
    first, second, third = SCHEMA.coerce_many(rows)
    assert first == second == third == reference(SCHEMA, rows[0])


KEYS = st.sampled_from(["age", "Age", "income", "salary", "SALARY", "plan_type", "plan type", "tier", "autopay",
                        "auto_pay", "region", "fee", "Fee", "zebra", "incme", ""])
CELLS = st.one_of(
    st.sampled_from(HOSTILE_CELLS),
    st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{0,20})?", fullmatch=True),
    st.text(alphabet="0123456789.,-+$%kMe ", max_size=12),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**320), max_value=10**320),
    st.booleans(),
    st.none(),
)
ROWS = st.lists(st.dictionaries(KEYS, CELLS, max_size=8), max_size=12)


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_generated_rows_coerce_as_row_by_row(rows):
    assert_same(SCHEMA.coerce_many(rows), rows)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{0,20})?", fullmatch=True), st.text(max_size=10)))
def test_text_reads_as_the_same_number_with_or_without_the_fast_path(text):
    fast, slow = to_number(text), slow_number(text)
    assert repr(fast) == repr(slow)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{0,20})?", fullmatch=True), st.sampled_from([Kind.NUMERIC, Kind.INTEGER]))
def test_a_plain_number_coerces_as_the_reader_reads_it(text, kind):
    feature = Feature("x", kind)
    number = slow_number(text)
    if not abs(number) <= LARGEST:
        expected = "TooLarge"
    elif kind is Kind.INTEGER:
        expected = repr(int(number)) if number.is_integer() else "WrongType"
    else:
        expected = repr(number)
    coerced = feature.coerce(text)
    assert (type(coerced).__name__ if isinstance(coerced, Problem) else repr(coerced)) == expected
