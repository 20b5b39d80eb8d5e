"""The predbot command, run as a real subprocess the way a person runs it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile

import pytest


@pytest.fixture(scope="module")
def predbot(demo_dir):
    env = {**os.environ, "PREDBOT_CACHE": str(demo_dir.parent)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, env=env,
                              capture_output=True, text=True, timeout=120)

    return run


def test_models_lists_the_demo_models_with_version_and_kind(predbot):
    result = predbot("models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["churn", line.split()[1]] and "binary classifier" in line
               and "(default)" in line for line in lines)
    assert any(line.strip().startswith("iris") and "multiclass classifier" in line for line in lines)
    assert any(line.strip().startswith("diabetes") and "regression" in line for line in lines)


def test_schema_lists_fields_and_an_example(predbot):
    result = predbot("schema", "churn")
    assert result.returncode == 0, result.stderr
    assert "monthly_fee" in result.stdout and "also fee, price" in result.stdout
    assert "Example: predict: age=" in result.stdout


def test_score_writes_predictions_and_reasons(predbot, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,age,income\n1,45,60000\n2,45,sixty\n")
    out = tmp_path / "out.csv"
    result = predbot("score", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "2 rows, 1 predicted, 1 not predicted (1 wrong type)" in result.stderr
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["prediction"] in ("stays", "churns")
    assert rows[1]["not_predicted_reason"] == "income expects a number, got 'sixty'."


def test_score_refuses_a_missing_file_without_a_traceback(predbot, tmp_path):
    result = predbot("score", str(tmp_path / "nope.csv"))
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_score_refuses_an_unknown_model(predbot, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("age\n1\n")
    result = predbot("score", str(source), "--model", "chrun")
    assert result.returncode == 1
    assert "Did you mean 'churn'?" in result.stderr


def test_ask_answers_and_exits_zero(predbot):
    result = predbot("ask", "predict iris: 5.1, 3.5, 1.4, 0.2")
    assert result.returncode == 0, result.stderr
    assert "setosa" in result.stdout


def test_ask_json_is_the_documented_contract(predbot):
    result = predbot("ask", "--json", "predict: age=45, income=60000")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"status", "body", "model", "version", "prediction_id", "files"}
    assert data["status"] == "ok" and data["model"] == "churn" and data["body"]["type"] == "prediction"
    [row] = data["body"]["rows"]
    assert row["prediction"] in ("stays", "churns")
    assert len(row["drivers"]) == 3
    assert {"feature", "value", "contribution", "direction"} == set(row["drivers"][0])


def test_ask_parse_error_exits_one_with_a_caret(predbot):
    result = predbot("ask", "predict: age==45")
    assert result.returncode == 1
    assert "^" in result.stdout and "Traceback" not in result.stderr


def test_ask_unknown_model_exits_one(predbot):
    result = predbot("ask", "predict chrun: age=45")
    assert result.returncode == 1
    assert "Did you mean 'churn'?" in result.stdout


def test_chat_answers_each_line_until_end_of_input(predbot):
    result = predbot("chat", stdin="models\npredict: age=45, income=60000\nquit\nmodels\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("predbot: ask me for predictions. Try:")
    assert result.stdout.count("binary classifier") == 1  # `quit` ended the chat before the last line
    assert "confident" in result.stdout


def test_chat_json_prints_one_object_per_line(predbot):
    result = predbot("chat", "--json", stdin="models\nhelp\n")
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["body"]["type"] for r in replies] == ["models", "help"]


def test_score_refuses_a_workbook_saying_what_it_is_and_what_to_do(predbot, tmp_path):
    source = tmp_path / "people.csv"
    with zipfile.ZipFile(source, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    result = predbot("score", str(source))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("predbot: This file looks like an Excel workbook (.xlsx); a CSV file is plain text. "
                             "Open it in your spreadsheet program and save it as CSV UTF-8 (File > Save As).\n")


def test_score_names_the_line_that_does_not_fit_the_header(predbot, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,age,income\n1,45,60000\n2,30,40,000\n")
    result = predbot("score", str(source), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 1
    assert result.stderr.startswith("predbot: Line 3 has 4 values; the header has 3.")
    assert "Traceback" not in result.stderr and "C error" not in result.stderr
