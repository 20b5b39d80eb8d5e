import csv
import gzip
import io
import time
import zipfile
from types import SimpleNamespace

import pandas as pd
import pytest

from scoring.batch import BatchError, column_limit, neutralise, score_csv
from scoring.csvfile import MAX_HEADER_CHARS
from scoring.demo import churn_data
from scoring.schema import Feature, Kind, Schema

GOOD_AND_BAD = """customer,age,income,plan,notes
c1,45,60000,Premium,fine
c2,45,sixty,Basic,bad income
c3,30,40k,Premum,typo in plan
c4,,50000,Basic,no age
c5,61,$90000,Premium Plus,=HYPERLINK("http://evil")
"""


def run(model, text, **kwargs):
    out = io.StringIO()
    summary = score_csv(model, io.BytesIO(text.encode()), out, **kwargs)
    return summary, list(csv.DictReader(io.StringIO(out.getvalue())))


def test_every_row_comes_back_with_prediction_or_reason(churn):
    summary, rows = run(churn, GOOD_AND_BAD)
    assert (summary.rows, summary.predicted, summary.rejected) == (5, 3, 2)
    assert [r["customer"] for r in rows] == ["c1", "c2", "c3", "c4", "c5"]
    assert [bool(r["prediction"]) for r in rows] == [True, False, False, True, True]
    assert rows[1]["not_predicted_reason"] == "income expects a number, got 'sixty'."
    assert rows[2]["not_predicted_reason"] == "plan has no category 'Premum'. Did you mean 'Premium'?"
    assert "Not given, so the model filled them in: age, monthly_fee" in rows[3]["warnings"]
    assert summary.ignored_columns == ("customer", "notes")
    assert summary.reasons == {"wrong_type": 1, "unknown_category": 1}


def test_output_has_inputs_then_prediction_probabilities_and_drivers(churn):
    _, rows = run(churn, GOOD_AND_BAD, top_k=2)
    assert list(rows[0]) == ["customer", "age", "income", "plan", "notes", "prediction",
                             "probability_stays", "probability_churns", "drivers_for", "base_value",
                             "driver_1", "driver_1_value", "driver_1_contribution",
                             "driver_2", "driver_2_value", "driver_2_contribution",
                             "warnings", "not_predicted_reason"]
    first = rows[0]
    assert float(first["probability_stays"]) + float(first["probability_churns"]) == pytest.approx(1, abs=1e-5)
    assert first["driver_1"] in churn.schema.names
    assert abs(float(first["driver_1_contribution"])) >= abs(float(first["driver_2_contribution"]))


def test_formula_cells_are_neutralised_but_numbers_are_not(churn):
    _, rows = run(churn, GOOD_AND_BAD)
    assert rows[4]["notes"] == "'=HYPERLINK(\"http://evil\")"
    assert neutralise("-5") == "-5" and neutralise("+3.5e2") == "+3.5e2"
    assert neutralise("-cmd") == "'-cmd" and neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise(-5) == -5


def test_chunked_output_matches_one_chunk(churn):
    one = io.StringIO()
    many = io.StringIO()
    score_csv(churn, io.BytesIO(GOOD_AND_BAD.encode()), one)
    score_csv(churn, io.BytesIO(GOOD_AND_BAD.encode()), many, chunk_rows=2)
    assert one.getvalue() == many.getvalue()


@pytest.mark.parametrize("text, message", [
    ("", "The file is empty"),
    ("name,colour\nx,red\n", "No column of this file is a field of churn"),
    ("age,Age\n1,2\n", "Columns 'age' and 'Age' both mean age"),
])
def test_unusable_files_are_refused_with_a_reason(churn, text, message):
    with pytest.raises(BatchError, match=message):
        score_csv(churn, io.BytesIO(text.encode()), io.StringIO())


def test_the_training_data_written_as_csv_scores_completely(churn):
    frame, _ = churn_data(300, seed=5)
    summary, rows = run(churn, frame.to_csv(index=False))
    assert (summary.rows, summary.predicted) == (300, 300)
    assert all(r["driver_1"] for r in rows)


def refusal(model, content: bytes, **kwargs) -> str:
    with pytest.raises(BatchError) as refused:
        score_csv(model, io.BytesIO(content), io.StringIO(), **kwargs)
    message = str(refused.value)
    assert not any(text in message for text in ("Error tokenizing", "C error", "csv.Error", "Traceback"))
    return message


@pytest.mark.parametrize("content, message", [
    (b"age,income\n45,60000\n30,1,2\n", "Line 3 has 3 values; the header has 2. Put quotes around values that "
                                        "contain commas, or name every column in the header."),
    (b"age,income\n\n45,60000\r\n\r\n30,1,2\n", "Line 5 has 3 values; the header has 2."),
    (b'age,income\n45,"60\n000"\n30,1,2\n', "Line 4 has 3 values; the header has 2."),
    (b'age,income\n45,60000\n30,"40000\n50,1\n', 'A quote (") opened on line 3 never closes. Close it, or remove it.'),
    (b'age,income\n45,"60000"k\n', 'Line 2 has text right after a closing quote, like "a"b.'),
    (b'age,income\n45,"' + b"6" * 200_000, "Line 2 has a value longer than 131,072 characters. Most likely a "
                                          'quote (") opened there never closes'),
    (b'"age,income\n45,60000\n', 'A quote (") opened on line 1 never closes.'),
])
def test_a_file_that_does_not_read_as_csv_says_which_line_and_what_to_do(churn, content, message):
    assert refusal(churn, content).startswith(message)


def zipped(name: str, content: str = "age,income\n45,60000\n") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("content, looks_like, fix", [
    (zipped("xl/workbook.xml"), "an Excel workbook (.xlsx)", "save it as CSV UTF-8"),
    (zipped("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), "an OpenDocument spreadsheet (.ods)",
     "save it as CSV UTF-8"),
    (zipped("people.csv"), "a zip archive", "Unzip it and send the .csv inside."),
    (gzip.compress(b"age,income\n45,60000\n"), "a gzip-compressed file", "Decompress it"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document", "export it as CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "an Excel 97-2003 workbook (.xls) or another Office file",
     "save it as CSV UTF-8"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "a PNG image", "not a picture of it"),
    ("age\tincome\n45\t60000\n".encode("utf-16"), 'UTF-16 text (Excel\'s "Unicode Text")', "save it as CSV UTF-8"),
    ("age,income\n45,60000\n".encode("utf-16-le"), "UTF-16 text", "save it as CSV UTF-8"),
    (b"<!DOCTYPE html><html><table><tr><td>age</td></tr></table>", "a web page (HTML)", "export it as CSV"),
    (bytes(range(256)) * 4, "binary data", "export it as CSV"),
])
def test_a_file_that_is_not_text_is_refused_naming_what_it_looks_like(churn, content, looks_like, fix):
    message = refusal(churn, content)
    assert message.startswith(f"This file looks like {looks_like}; a CSV file is plain text.")
    assert fix in message


class Counted(io.BytesIO):
    """A source that counts the bytes read from it, to show what a refusal cost."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def wide_file(columns: int, rows: int) -> bytes:
    header = ",".join(["age", "income", *(f"extra_{n}" for n in range(columns - 2))])
    row = ",".join(["45", "60000", *("1" for _ in range(columns - 2))])
    return "\n".join([header, *(row for _ in range(rows))]).encode() + b"\n"


def test_a_header_longer_than_its_bound_is_refused_having_read_little_more_than_it(churn):
    source = Counted(wide_file(100_000, 30))        # 7 MB, 100,000 columns
    with pytest.raises(BatchError, match="^The first line is longer than 65,536 characters, too long for a header"):
        score_csv(churn, source, io.StringIO())
    assert source.bytes_read < MAX_HEADER_CHARS + 2 * 8192       # the header's bound and a buffer or two


@pytest.mark.parametrize("columns, refused", [(109, False), (110, True)])
def test_columns_are_limited_to_the_fields_and_a_hundred_others_before_any_row_is_read(churn, columns, refused):
    content = wide_file(columns, 3)
    if refused:
        assert refusal(churn, content) == ("The file has 110 columns; a file for churn may have up to 109 "
                                           "(its 9 fields and 100 others). Remove the columns it does not need.")
    else:
        assert run(churn, content.decode())[0].predicted == 3


def test_a_model_with_many_fields_may_have_ten_times_as_many_columns():
    many = SimpleNamespace(schema=Schema(tuple(Feature(f"f{n}", Kind.NUMERIC) for n in range(20))))
    few = SimpleNamespace(schema=Schema((Feature("x", Kind.NUMERIC),)))
    assert (column_limit(many), column_limit(few)) == (200, 101)


def test_text_is_utf8_with_or_without_a_bom_and_other_bytes_read_as_latin_1(churn):
    content = "\ufeffage,income,note\n45,60000,naïve\n".encode() + b"30,40000,caf\xe9\n"
    out = io.StringIO()
    score_csv(churn, io.BytesIO(content), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["note"] for r in rows] == ["naïve", "café"]
    assert [bool(r["prediction"]) for r in rows] == [True, True]


def test_short_rows_are_missing_values_and_blank_lines_are_skipped(churn):
    summary, rows = run(churn, "id,age,income\n1,45\n\n   \n2,30,40000\n")
    assert summary.rows == 2 and [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["warnings"].startswith("Not given, so the model filled them in: income, plan,")


def test_repeated_columns_that_are_not_fields_pass_through_under_their_own_names(churn):
    out = io.StringIO()
    score_csv(churn, io.BytesIO(b"note,age,note\na,45,=b\n"), out)
    assert out.getvalue().splitlines()[0].startswith("note,age,note,prediction,")
    assert out.getvalue().splitlines()[1].startswith("a,45,'=b,")


def test_past_the_deadline_scoring_stops_between_chunks_saying_how_far_it_got(churn):
    five = "age,income\n" + "45,60000\n" * 5
    message = refusal(churn, five.encode(), chunk_rows=2, deadline=time.monotonic() - 1)
    assert message == ("Stopped after 2 rows: this file takes longer to score than an answer here may. "
                       "Split it into smaller files, or run `predbot score` on it.")
    summary, _ = run(churn, five, chunk_rows=2, deadline=time.monotonic() + 3600)
    assert summary.rows == 5


def test_a_header_may_follow_blank_lines_and_quote_a_name_over_two_lines(churn):
    content = b'\n\n"customer\nname",age\n"A ""quoted"" one",45\nB"s,30\n'
    out = io.StringIO()
    score_csv(churn, io.BytesIO(content), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["customer\nname"], r["age"]) for r in rows] == [('A "quoted" one', "45"), ('B"s', "30")]
    assert refusal(churn, content + b"C,31,x\n").startswith("Line 7 has 3 values; the header has 2.")


def explained_output(model, row: dict) -> float:
    """What a written row's drivers must add up to, found without the explainer: the probability of the
    class they explain, that class's margin, or the predicted value."""
    if model.is_classifier and model.explainer.scale == "probability":
        return float(row[f"probability_{row['drivers_for']}"])
    if model.is_classifier:
        inputs = pd.DataFrame([{name: float(row[name]) for name in model.schema.names}])
        return float(model.estimator.decision_function(inputs)[0][model.labels.index(row["drivers_for"])])
    return float(row["prediction"])


@pytest.mark.parametrize("name", ["churn", "iris", "diabetes"])
def test_base_value_plus_every_drivers_contribution_is_the_models_output(registry, demo_dir, name):
    model = registry.get(name)
    fields = model.schema.names
    sample = (demo_dir / f"{name}.background.csv").read_text().splitlines()[:41]
    _, rows = run(model, "\n".join(sample) + "\n", top_k=len(fields))
    assert len(rows) == 40 and all(r["prediction"] for r in rows)
    assert ("drivers_for" in rows[0]) == model.is_classifier
    for row in rows:
        contributions = [float(row[f"driver_{rank}_contribution"]) for rank in range(1, len(fields) + 1)]
        assert {row[f"driver_{rank}"] for rank in range(1, len(fields) + 1)} == set(fields)
        expected = explained_output(model, row)
        assert float(row["base_value"]) + sum(contributions) == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_a_binary_models_drivers_column_explains_the_positive_class_on_every_row(churn):
    _, rows = run(churn, "age,contract,support_calls,tenure\n30,month-to-month,6,2\n60,two year,0,80\n")
    assert [r["prediction"] for r in rows] == ["churns", "stays"]
    assert [r["drivers_for"] for r in rows] == ["churns", "churns"]
    assert rows[0]["base_value"] == rows[1]["base_value"]
    contract = [float(r[f"driver_{n}_contribution"]) for r in rows for n in (1, 2, 3) if r[f"driver_{n}"] == "contract"]
    assert contract[0] > 0 > contract[1]      # month-to-month pushes toward churns, two year away from it

