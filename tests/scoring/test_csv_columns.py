"""CSV files as data scientists really have them: their headers, their separators, their decimal marks."""

import csv
import io

import pytest
from sklearn.datasets import load_iris

from bot.core import Bot
from bot.reply import Attachment, Sender, Status
from scoring.batch import BatchError, score_csv
from scoring.csvfile import Layout, sniff


def run(model, content: bytes, **kwargs):
    out = io.StringIO()
    summary = score_csv(model, io.BytesIO(content), out, **kwargs)
    return summary, list(csv.DictReader(io.StringIO(out.getvalue())))


def refusal(model, content: bytes, **kwargs) -> str:
    with pytest.raises(BatchError) as refused:
        score_csv(model, io.BytesIO(content), io.StringIO(), **kwargs)
    return str(refused.value)


def churns(rows) -> list[str]:
    return [r["probability_churns"] for r in rows]


def test_sklearn_s_own_iris_headers_score_with_the_iris_demo(iris):
    content = load_iris(as_frame=True).frame.to_csv(index=False).encode()
    assert content.startswith(b"sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),target\n")
    summary, rows = run(iris, content)
    assert (summary.rows, summary.predicted, summary.ignored_columns) == (150, 150, ("target",))
    assert sum(r["prediction"] == "setosa" for r in rows) >= 45


def test_headers_match_ignoring_case_spaces_separators_and_a_unit(churn):
    _, plain = run(churn, b"age,monthly_fee,support_calls\n45,80,4\n")
    summary, written = run(churn, b"AGE,Monthly-Fee ($),Support Calls [last 90 days]\n45,80,4\n")
    assert summary.missing_columns == ("income", "plan", "tenure_months", "autopay", "region", "contract")
    assert churns(written) == churns(plain)


def test_a_column_map_names_the_field_of_a_header_that_does_not(churn):
    _, plain = run(churn, b"age,income\n45,60000\n")
    summary, mapped = run(churn, b"Years,Earnings,note\n45,60000,x\n", renames={"years": "age", "Earnings": "salary"})
    assert (summary.predicted, summary.ignored_columns) == (1, ("note",))
    assert churns(mapped) == churns(plain)


def test_a_mapped_column_wins_over_a_header_that_names_the_same_field(churn):
    _, plain = run(churn, b"age\n45\n")
    summary, rows = run(churn, b"age,Years\n99,45\n", renames={"Years": "age"})
    assert summary.ignored_columns == ("age",) and churns(rows) == churns(plain)


@pytest.mark.parametrize("renames, message", [
    ({"Yeers": "age"}, "The file has no column 'Yeers' to read as age. Its columns are: Years, income."),
    ({"Years": "agee"}, "Column 'Years' cannot be read as 'agee': Unknown field 'agee'. Did you mean 'age'?"),
    ({"Years": "age", "income": "age"}, "Two columns are to be read as age; name one."),
    ({"Years": "age", "years": "income"}, "Column 'Years' is to be read as two fields; name one."),
])
def test_a_column_map_that_cannot_work_says_why(churn, renames, message):
    assert refusal(churn, b"Years,income\n45,60000\n", renames=renames) == message


def test_a_header_close_to_a_field_the_file_lacks_is_named_with_that_field(churn):
    summary, _ = run(churn, b"customer,agee,Incme,Monthly Fees,name,notes,tenure\n1,45,60000,80,Ann,x,3\n")
    assert summary.ignored_columns == ("customer", "agee", "Incme", "Monthly Fees", "name", "notes")
    assert summary.suggestions == {"agee": "age", "Incme": "income", "Monthly Fees": "monthly_fee"}


def test_a_file_with_no_field_says_which_columns_may_be_fields_and_how_it_was_read(churn):
    assert refusal(churn, b"id,agee,incme\n1,45,60000\n") == (
        "No column of this file is a field of churn. Its fields are: age, income, plan, monthly_fee, tenure_months, "
        "support_calls, autopay, region, contract. Perhaps 'agee' is age, 'incme' is income: rename those columns "
        "to match. (It was read with commas between values and '.' as the decimal mark, after looking for commas, "
        "semicolons, tabs and '|'.)")


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_the_separator_is_sniffed(churn, separator):
    lines = [["id", "age", "income", "plan"], ["1", "45", "60000", "Premium Plus"], ["2", "30", "40000", "Basic"]]
    _, plain = run(churn, "".join(",".join(line) + "\n" for line in lines).encode())
    summary, rows = run(churn, "".join(separator.join(line) + "\n" for line in lines).encode())
    assert (summary.predicted, summary.ignored_columns) == (2, ("id",))
    assert churns(rows) == churns(plain)


def test_a_semicolon_file_with_decimal_commas_reads_them_as_excel_writes_them(churn):
    _, plain = run(churn, b"age,income,monthly_fee\n45,60000.5,80.25\n30,1200.5,20\n")
    summary, rows = run(churn, "Alter;income;monthly_fee\n45;60000,5;80,25\n30;1.200,5;20\n".encode(),
                        renames={"Alter": "age"})
    assert summary.predicted == 2 and churns(rows) == churns(plain)
    assert [r["income"] for r in rows] == ["60000,5", "1.200,5"]       # the file's own cells come back as they were


def test_a_decimal_mark_given_is_used_whatever_the_file_looks_like(churn):
    _, plain = run(churn, b"age,income\n45,60000.5\n")
    _, comma = run(churn, b'age,income\n45,"60000,5"\n', decimal=",")
    assert churns(comma) == churns(plain)
    summary, point = run(churn, b"age;income\n45;60000,5\n", decimal=".")
    assert summary.predicted == 0 and point[0]["not_predicted_reason"] == "income expects a number, got '60000,5'."


@pytest.mark.parametrize("sample, layout", [
    ("a,b\n1,2.5\n", Layout(",", ".")),
    ("a,b\n1,\"2,5\"\n", Layout(",", ".")),                 # a comma-separated file keeps `,` for thousands
    ("a;b\n1;2,5\n3;4\n", Layout(";", ",")),
    ("a;b\n1;2.5\n3;4,5\n", Layout(";", ".")),             # a decimal point anywhere: `,` groups thousands
    ("a;b\n1;1,200\n", Layout(";", ".")),                 # `1,200` could be either: the point, as in a command
    ("a;b\n1;1.234,5\n", Layout(";", ",")),
    ("a\tb\n1\t€12,50\n", Layout("\t", ",")),
    ("a|b\n1|2\n", Layout("|", ".")),
    ("id;age;income\n1;45\n2;30;40000\n", Layout(";", ".")),    # rows that differ: the header's separator
    ("age\n45\n", Layout(",", ".")),
])
def test_sniffing_finds_the_separator_and_the_decimal_mark(sample, layout):
    assert sniff(sample) == layout


def test_a_line_that_does_not_fit_says_how_the_file_was_read(churn):
    assert refusal(churn, b"age;income\n45;60000\n30;1;2\n") == (
        "Line 3 has 3 values; the header has 2. Put quotes around values that contain semicolons, or name every "
        "column in the header. (It was read with semicolons between values and '.' as the decimal mark, after "
        "looking for commas, semicolons, tabs and '|'.)")


def test_a_file_sent_in_chat_gets_the_same_reading_and_names_columns_that_may_be_fields(registry):
    content = "Alter (Jahre);income;agee\n45;60000,5;1\n".encode()
    answer = Bot(registry).handle("predict churn", Sender("U1"), attachments=[Attachment("kunden.csv", content)])
    [scored] = answer.body.files
    assert answer.status is Status.OK and (scored.rows, scored.predicted) == (1, 1)
    assert (scored.ignored_columns, scored.suggestions) == (("Alter (Jahre)", "agee"), {"agee": "age"})
