"""Text to commands: `parse("predict: age=45")` -> Predict, or a ParseError to show.

The parser knows nothing of models; it reads values and says where each was
written. Errors are values, never exceptions.
"""

from lark.exceptions import UnexpectedInput

from parser import errors
from parser.commands import (Command, CommandDoc, Explain, Help, Models, Pair, ParseError, Predict, Row,
                             Schema, Span, Value, WhatIf)
from parser.docs import COMMANDS
from parser.format import to_text
from parser.grammar import PARSER
from parser.measure import MAX_COMMAND_CHARS, count_rows
from parser.transform import ToCommand

__all__ = ["COMMANDS", "MAX_COMMAND_CHARS", "Command", "CommandDoc", "Explain", "Help", "Models", "Pair",
           "ParseError", "Predict", "Row", "Schema", "Span", "Value", "WhatIf", "count_rows", "parse",
           "to_text"]

_TO_COMMAND = ToCommand()


def parse(text: str) -> Command | ParseError:
    if not text.strip():
        return errors.empty(text)
    try:
        command = _TO_COMMAND.transform(PARSER.parse(text))
    except UnexpectedInput as problem:
        return errors.misspelt_verb(text, None) or errors.from_lark(text, problem, PARSER)
    return errors.misspelt_verb(text, command) or command
