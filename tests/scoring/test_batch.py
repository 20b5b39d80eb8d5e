import csv
import io

import pytest

from scoring.batch import BatchError, neutralise, score_csv
from scoring.demo import churn_data

GOOD_AND_BAD = """customer,age,income,plan,notes
c1,45,60000,Premium,fine
c2,45,sixty,Basic,bad income
c3,30,40k,Premum,typo in plan
c4,,50000,Basic,no age
c5,61,$90000,Premium Plus,=HYPERLINK("http://evil")
"""


def run(model, text, **kwargs):
    out = io.StringIO()
    summary = score_csv(model, io.StringIO(text), out, **kwargs)
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
                             "probability_stays", "probability_churns",
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
    score_csv(churn, io.StringIO(GOOD_AND_BAD), one)
    score_csv(churn, io.StringIO(GOOD_AND_BAD), many, chunk_rows=2)
    assert one.getvalue() == many.getvalue()


@pytest.mark.parametrize("text, message", [
    ("", "The file is empty"),
    ("name,colour\nx,red\n", "No column of this file is a field of churn"),
    ("age,Age\n1,2\n", "Columns 'age' and 'Age' both mean age"),
])
def test_unusable_files_are_refused_with_a_reason(churn, text, message):
    with pytest.raises(BatchError, match=message):
        score_csv(churn, io.StringIO(text), io.StringIO())


def test_the_training_data_written_as_csv_scores_completely(churn):
    frame, _ = churn_data(300, seed=5)
    summary, rows = run(churn, frame.to_csv(index=False))
    assert (summary.rows, summary.predicted) == (300, 300)
    assert all(r["driver_1"] for r in rows)
