"""Text to one command: `parse("predict: age=45")` -> Predict, or a ParseError to show."""

from __future__ import annotations

from lark.exceptions import UnexpectedInput

from parser import errors
from parser.commands import Command, ParseError
from parser.grammar import PARSER
from parser.transform import ToCommand

_TO_COMMAND = ToCommand()


def parse(text: str) -> Command | ParseError:
    if not text.strip():
        return errors.empty(text)
    try:
        command = _TO_COMMAND.transform(PARSER.parse(text))
    except UnexpectedInput as problem:
        return errors.misspelt_verb(text, None) or errors.from_lark(text, problem, PARSER)
    return errors.misspelt_verb(text, command) or command
