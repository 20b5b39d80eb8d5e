"""Which lines of a message are commands: `segment(text)` -> each command with its rows, in order.

A command starts at a line that begins with a verb of the grammar (`predict:`,
`explain churn`, `what if: ...`, `/predict ...`) or at a line with `=` that the
parser does not take for a sentence (the implied `predict`, or a typo such as
`predcit: age=45` that deserves its "did you mean"). Commands that take rows
(`predict`, `whatif`, the implied one) go on over the following lines that
look like rows (`age=45`, `5.1, 3.5, 1.4, 0.2`, `-> income=80000`), one row
per line as the grammar allows. Everything else is prose and is dropped: the
grammar reads `Price: 45` as a row, but in a mail or a chat it is more likely
a sentence, so without `=` a command needs its verb.

The verbs are the grammar's own terminals, so `help=yes` is a key here as it
is to the parser. Every step is linear in the line's length, and a line longer
than a command may be is not parsed here at all: it becomes a command of its
own, which the core refuses, before parsing, with a message that says how long
it is.
"""

from __future__ import annotations

import re

from parser.grammar import PARSER
from parser.measure import MAX_COMMAND_CHARS
from parser.parsing import parse

ROW = re.compile(r"[-+$\"'?.\d]|[^=]*=")     # matched after lstrip(): `\s*` before `.*` backtracked quadratically


def _command_rules() -> dict[str, list[list[str]]]:
    """Each command of the grammar, by the rule that starts with its own verb (`predict: PREDICT ...`), and
    the symbols of that rule's expansions."""
    rules: dict[str, list[list[str]]] = {}
    for rule in PARSER.rules:
        if rule.expansion and rule.expansion[0].name == rule.origin.name.upper():
            rules.setdefault(str(rule.origin.name), []).append([str(symbol.name) for symbol in rule.expansion])
    return rules


COMMAND_RULES = _command_rules()
# a verb at the start of a line (the grammar's PREDICT reads `/predict` too); one named group per command
VERB = re.compile("(?:" + "|".join(f"(?P<{name}>{PARSER.get_terminal(name.upper()).pattern.to_regexp()})"
                                      for name in COMMAND_RULES) + ")")
TAKES_ROWS = frozenset(name for name, expansions in COMMAND_RULES.items()
                       if any({"rows", "pairs"} & set(symbols) for symbols in expansions))


def verb(line: str) -> str | None:
    """The command a line starts with the verb of: `predict`, `whatif`, ... or None."""
    found = VERB.match(line.lstrip())
    return found.lastgroup if found else None


def implied(line: str) -> bool:
    """A line with `=` that is not prose; one too long to be a command counts, unparsed, so the core refuses it."""
    if "=" not in line:
        return False
    return len(line) > MAX_COMMAND_CHARS or getattr(parse(line), "label", None) != "sentence"


def segment(text: str) -> list[str]:
    """The commands in a message, in order, each with its continuation rows; prose is dropped."""
    segments: list[list[str]] = []
    taking_rows = False
    for line in text.splitlines():
        if taking_rows and line.strip() and ROW.match(line.lstrip()) and not verb(line):
            segments[-1].append(line.strip())
        elif (command := verb(line)) or implied(line):
            segments.append([line.strip()])
            taking_rows = command is None or command in TAKES_ROWS
        else:
            taking_rows = False
    return ["\n".join(lines) for lines in segments]
