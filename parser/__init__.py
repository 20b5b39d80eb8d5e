"""Text to commands: `parse("predict: age=45")` -> Predict, or a ParseError to show; `segment(message)` ->
the commands in it, as text.

The parser knows nothing of models; it reads values and says where each was
written. Errors are values, never exceptions.
"""

from parser.commands import (Command, CommandDoc, Explain, Feedback, Help, History, Models, Pair, ParseError,
                             Predict, Row, Schema, Show, Span, Value, WhatIf)
from parser.docs import COMMANDS
from parser.format import feedback_text, literal, to_text
from parser.measure import MAX_COMMAND_CHARS, count_rows
from parser.parsing import parse
from parser.segment import segment

__all__ = ["COMMANDS", "MAX_COMMAND_CHARS", "Command", "CommandDoc", "Explain", "Feedback", "Help", "History",
           "Models", "Pair", "ParseError", "Predict", "Row", "Schema", "Show", "Span", "Value", "WhatIf",
           "count_rows", "feedback_text", "literal", "parse", "segment", "to_text"]
