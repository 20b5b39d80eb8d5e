"""Finding the commands in a mail's text: verbs, implied rows, continuation rows, prose."""

from __future__ import annotations

import parser as grammar
from parser import MAX_COMMAND_CHARS
from bot.mail.commands import command_blocks, command_words, names_model_for_files


def test_command_words_come_from_the_grammar_docs():
    assert command_words() >= {"predict", "whatif", "explain", "schema", "fields", "models", "help"}


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
    assert command_blocks(text) == [
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
    assert command_blocks("age=45, income=60000\nchurn: age=45") == ["age=45, income=60000\nchurn: age=45"]
    assert command_blocks("predcit: age=45") == ["predcit: age=45"]        # answered with "did you mean"
    assert command_blocks("Price: 45\nPlease reply soon.") == []
    assert command_blocks("help=yes") == ["help=yes"]                        # a key, not the verb


def test_a_bare_predict_names_the_model_for_attached_files():
    assert all(map(names_model_for_files, ["predict", "predict churn", "predict churn:", "/predict iris"]))
    assert not any(map(names_model_for_files, ["predict: age=45", "predict churn age=4", "models"]))


def test_a_line_too_long_for_a_command_is_one_unparsed_so_the_core_refuses_it(monkeypatch):
    parsed = []
    monkeypatch.setattr(grammar, "parse", lambda line: parsed.append(line) or grammar.ParseError)
    long_line = "a=1 " * (MAX_COMMAND_CHARS // 4 + 1)
    assert command_blocks(f"age=4\n\n{long_line}") == ["age=4", long_line.strip()]
    assert parsed == ["age=4"]


def test_lines_of_spaces_cost_one_pass():
    assert command_blocks("a" + " " * 100_000 + "x") == []
    assert command_blocks("predict: age=4\n" + " " * 100_000 + "x") == ["predict: age=4"]
    assert not names_model_for_files("predict" + " " * 100_000 + "!")
