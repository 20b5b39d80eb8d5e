"""Text to commands: `parse("predict: age=45")` -> Predict, or a ParseError to show; `segment(message)` ->
the commands in it, as text.

The parser knows nothing of models; it reads values and says where each was
written. Errors are values, never exceptions.
"""

from parser.commands import (Command, CommandDoc, Explain, Help, Models, Pair, ParseError, Predict, Row,
                             Schema, Span, Value, WhatIf)
from parser.docs import COMMANDS
from parser.format import to_text
from parser.measure import MAX_COMMAND_CHARS, count_rows
from parser.parsing import parse
from parser.segment import segment

__all__ = ["COMMANDS", "MAX_COMMAND_CHARS", "Command", "CommandDoc", "Explain", "Help", "Models", "Pair",
           "ParseError", "Predict", "Row", "Schema", "Span", "Value", "WhatIf", "count_rows", "parse",
           "segment", "to_text"]
