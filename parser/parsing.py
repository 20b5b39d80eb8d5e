"""Text to one command: `parse("predict: age=45")` -> Predict, or a ParseError to show."""

from __future__ import annotations

from lark.exceptions import UnexpectedInput

from parser import errors
from parser.commands import Command, ParseError
from parser.grammar import PARSER
from parser.transform import ToCommand

_TO_COMMAND = ToCommand()
VERB = "predict "      # what Slack's /predict leaves out


def parse(text: str) -> Command | ParseError:
    if not text.strip():
        return errors.empty(text)
    try:
        command = _TO_COMMAND.transform(PARSER.parse(text))
    except UnexpectedInput as problem:
        error = errors.misspelt_verb(text, None) or errors.from_lark(text, problem, PARSER)
        return (_spoken_without_verb(text) if error.label == "sentence" else None) or error
    return errors.misspelt_verb(text, command) or errors.spoken_pairs(text, command) or command


def _spoken_without_verb(text: str) -> ParseError | None:
    """`/predict for age 45 and income 60k` arrives as `for age 45 and income 60k`, which reads as a sentence
    until the verb is put back."""
    try:
        command = _TO_COMMAND.transform(PARSER.parse(VERB + text))
    except UnexpectedInput:
        return None
    return errors.spoken_pairs(text, command, offset=len(VERB))
