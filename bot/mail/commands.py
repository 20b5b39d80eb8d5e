"""Which lines of a mail are commands.

A command starts at a line that begins with a command word (`predict:`,
`explain churn`, `what if: ...`, `/predict ...`) or at a line with `=` that the
parser does not take for a sentence (the implied `predict`, or a typo such as
`predcit: age=45` that deserves its "did you mean"). Commands that take rows
(`predict`, `whatif`, the implied one) go on over the following lines that
look like rows (`age=45`, `5.1, 3.5, 1.4, 0.2`, `-> income=80000`), one row
per line as the grammar allows. Everything else is prose and is not answered:
the grammar reads `Price: 45` as a row, but in a mail it is more likely a
sentence, so without `=` a command needs its verb.

Every step is linear in the line's length, and a line longer than the core
takes is not parsed here at all: it becomes a command of its own, which the
core refuses, before parsing, with a message that says how long it is.
"""

from __future__ import annotations

import re
from functools import cache

import parser as grammar

ROW = re.compile(r"[-+$\"'?.\d]|[^=]*=")     # matched after lstrip(): `\s*` before `.*` backtracked quadratically
# a leading word, `what if` spelt any way the grammar allows; a word followed by '=' is a key, not a verb
# (`[^\S\n]*(?:-[^\S\n]*)?`, not `[^\S\n]*-?[^\S\n]*`: two runs of spaces side by side backtrack quadratically)
LEADING = re.compile(r"\s*/?([a-z]+(?:[^\S\n]*(?:-[^\S\n]*)?if)?)(?![\w-])(?![^\S\n]*=)", re.IGNORECASE)
ROW_VERBS = {"predict", "whatif"}          # the grammar's commands that take rows
FILES_MODEL = re.compile(r"^/?predict(\s+[\w.-]+)?\s*(?::\s*)?$", re.IGNORECASE)


@cache
def command_words() -> frozenset[str]:
    """The command words, from the grammar's command docs: each name, and `(or fields ...)` aliases."""
    return frozenset(word.lower() for doc in grammar.COMMANDS
                     for word in [doc.name, *re.findall(r"\bor\s+([A-Za-z]+)", doc.syntax)])


def verb(line: str) -> str | None:
    found = LEADING.match(line)
    word = re.sub(r"[\s-]", "", found.group(1)).lower() if found else ""
    return word if word in command_words() else None


def implied(line: str) -> bool:
    """A line with `=` that is not prose; one too long to be a command counts, unparsed, so the core refuses it."""
    if "=" not in line:
        return False
    return len(line) > grammar.MAX_COMMAND_CHARS or getattr(grammar.parse(line), "label", None) != "sentence"


def command_blocks(text: str) -> list[str]:
    """The commands in a mail's own words, each with its rows, in order."""
    blocks: list[list[str]] = []
    taking_rows = False
    for line in text.splitlines():
        if taking_rows and line.strip() and ROW.match(line.lstrip()) and not verb(line):
            blocks[-1].append(line.strip())
        elif (word := verb(line)) or implied(line):
            blocks.append([line.strip()])
            taking_rows = word is None or word in ROW_VERBS
        else:
            taking_rows = False
    return ["\n".join(block) for block in blocks]


def names_model_for_files(block: str) -> bool:
    """`predict`, `predict churn` or `predict churn:` alone: what to score the attached files with."""
    return bool(FILES_MODEL.match(block))
