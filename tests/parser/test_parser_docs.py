"""grammar.lark is sound, COMMANDS documents exactly its commands, and error words cover every terminal."""

from __future__ import annotations

import logging

import pytest
from lark import Lark

import parser.grammar

from parser import COMMANDS, Explain, Feedback, Help, History, Models, ParseError, Predict, Schema, Show, WhatIf, parse
from parser.errors import GUESSED, VERBS
from parser.expected import PHRASES, UNSAID
from parser.grammar import PARSER

COMMAND_TYPES = {"predict": Predict, "whatif": WhatIf, "explain": Explain, "schema": Schema,
                 "models": Models, "help": Help, "history": History, "show": Show, "feedback": Feedback}


def grammar_commands() -> set[str]:
    """Rules that start with their own verb: `predict: PREDICT ...`."""
    return {rule.origin.name for rule in PARSER.rules
            if rule.expansion and rule.expansion[0].name == rule.origin.name.upper()}


def test_every_command_of_the_grammar_has_a_doc_and_every_doc_a_command():
    assert grammar_commands() == {doc.name for doc in COMMANDS} == set(COMMAND_TYPES)


@pytest.mark.parametrize("doc", COMMANDS, ids=lambda doc: doc.name)
def test_each_doc_s_example_is_its_command(doc):
    assert isinstance(parse(doc.example), COMMAND_TYPES[doc.name])
    assert doc.syntax.startswith(doc.name) and doc.summary


@pytest.mark.parametrize(("verb", "command"), [
    ("predict: a=1", Predict), ("whatif: a=1 -> a=2", WhatIf), ("what if: a=1 -> a=2", WhatIf),
    ("what-if: a=1 -> a=2", WhatIf), ("explain", Explain), ("schema", Schema), ("fields", Schema),
    ("models", Models), ("help", Help), ("history", History), ("HISTORY: 3", History),
    ("show 0123456789ab", Show), ("Show: 0123456789AB", Show), ("feedback 0123456789ab", Feedback),
    ("Feedback: 0123456789ab actual=yes", Feedback),
])
def test_every_spelling_of_a_verb_parses(verb, command):
    assert isinstance(parse(verb), command)


def test_typos_are_checked_against_the_grammar_s_verbs():
    assert set(VERBS) == {doc.name for doc in COMMANDS} | {"fields"}
    assert set(VERBS) - set(GUESSED) == {"show"}        # `how`, `shop` and `snow` are not typos of it
    assert all(not isinstance(parse(verb), ParseError) for verb in VERBS
               if verb not in ("predict", "whatif", "show", "feedback"))
    assert "fields" in next(doc.syntax for doc in COMMANDS if doc.name == "schema")


def test_every_terminal_has_plain_words_or_is_deliberately_unsaid():
    terminals = {t.name for t in PARSER.terminals if not t.name.startswith("__IGNORE")}
    assert terminals == set(PHRASES) - {"$END"} | UNSAID


def test_the_grammar_has_no_conflicts(caplog):
    """lark settles a shift/reduce conflict silently by shifting, which would quietly change a meaning."""
    with caplog.at_level(logging.DEBUG, logger="lark"):
        Lark.open("grammar.lark", rel_to=parser.grammar.__file__, parser="lalr", debug=True)
    assert "conflict" not in caplog.text.lower()
