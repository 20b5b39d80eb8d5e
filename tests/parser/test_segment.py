"""Finding the commands in a message: verbs, implied rows, continuation rows, prose."""

from __future__ import annotations

import importlib

from parser import MAX_COMMAND_CHARS, segment
from parser.segment import TAKES_ROWS, VERB, verb

segmenting = importlib.import_module("parser.segment")      # the module, which `parser.segment` (the function) hides


def test_the_verbs_are_the_grammar_s_commands_and_predict_and_whatif_take_rows():
    assert set(VERB.groupindex) == {"predict", "whatif", "explain", "schema", "models", "help", "history", "show",
                                    "feedback"}
    assert TAKES_ROWS == {"predict", "whatif"}
    assert [verb(line) for line in ("fields iris", "What - if: a=1", "/predict", "help=yes", "predicts")] == [
        "schema", "whatif", "predict", None, None]


def test_each_command_with_its_rows_and_nothing_else():
    text = """Hi bot,
predict: age=45, income=60000
age=30, income=40000

Also:
What if: age=45 -> income=80000
EXPLAIN churn
models
age=50
fields iris
predict iris:
5.1, 3.5, 1.4, 0.2
Thanks!
4, 5
/predict age=1
Note: see attached
help me please"""
    assert segment(text) == [
        "predict: age=45, income=60000\nage=30, income=40000",
        "What if: age=45 -> income=80000",
        "EXPLAIN churn",
        "models",
        "age=50",
        "fields iris",
        "predict iris:\n5.1, 3.5, 1.4, 0.2",
        "/predict age=1",
        "help me please",
    ]


def test_lines_with_equals_count_unless_they_read_as_a_sentence():
    assert segment("age=45, income=60000\nchurn: age=45") == ["age=45, income=60000\nchurn: age=45"]
    assert segment("predcit: age=45") == ["predcit: age=45"]        # answered with "did you mean"
    assert segment("Price: 45\nPlease reply soon.") == []
    assert segment("help=yes") == ["help=yes"]                        # a key, not the verb


def test_two_predict_lines_are_two_commands():
    assert segment("predict:\npredict:") == ["predict:", "predict:"]
    assert segment("predict: age=45\npredict churn: age=30") == ["predict: age=45", "predict churn: age=30"]


def test_rows_under_a_predict_line_are_one_command():
    assert segment("predict:\nage=45, income=60000\nage=30, income=40000") == [
        "predict:\nage=45, income=60000\nage=30, income=40000"]


def test_a_line_too_long_for_a_command_is_one_unparsed_so_the_core_refuses_it(monkeypatch):
    parsed = []
    monkeypatch.setattr(segmenting, "parse", lambda line: parsed.append(line))
    long_line = "a=1 " * (MAX_COMMAND_CHARS // 4 + 1)
    assert segment(f"age=4\n\n{long_line}") == ["age=4", long_line.strip()]
    assert parsed == ["age=4"]


def test_lines_of_spaces_cost_one_pass():
    assert segment("a" + " " * 100_000 + "x") == []
    assert segment("predict: age=4\n" + " " * 100_000 + "x") == ["predict: age=4"]
    assert segment("what" + " " * 100_000 + "if") == ["what" + " " * 100_000 + "if"]
