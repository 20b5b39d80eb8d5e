"""How big a message is, measured without parsing it, so that limits apply before the parser runs."""

from __future__ import annotations

import re

MAX_COMMAND_CHARS = 8192    # a command longer than this is refused before it is parsed

# A quoted string (which may hold ';'), or a row break: the grammar's _BREAK.
QUOTED_OR_BREAK = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|“[^”\n]*”|‘[^’\n]*’|[;\n]')


def count_rows(text: str) -> int:
    """The pieces between `;` and line breaks (outside quotes) that hold anything: at least the rows.

    A line that holds only the verb (`predict churn:` above its rows) counts too,
    so this is an upper bound, in one linear pass.
    """
    pieces, start = 0, 0
    for match in QUOTED_OR_BREAK.finditer(text):
        if match.group() in ";\n":
            pieces += bool(text[start:match.start()].strip())
            start = match.end()
    return pieces + bool(text[start:].strip())
