"""Plain words for what the grammar would have accepted, instead of terminal names."""

from __future__ import annotations

from collections.abc import Iterable

VALUE = "a value"
PHRASES = {
    "KEY": "a key=value pair",
    "QUOTED_KEY": "a key=value pair",
    **dict.fromkeys(("NUMBER", "MONEY", "PERCENT", "BOOL", "MISSING", "WORD", "STRING"), VALUE),
    **dict.fromkeys(("MODEL_LABEL", "MODEL_WORD", "NAME"), "a model name"),
    "TOPIC": "a help topic",
    "PREDICTION_ID": "a prediction id",
    "COUNT": "a number",
    "ROW": "row= and a row number",
    "ACTUAL": "actual= and what it really was",
    "EQUAL": "'=' or ':'",
    "ARROW": "'->' and the changes to try",
    **dict.fromkeys(("PREDICT", "WHATIF", "EXPLAIN", "SCHEMA", "MODELS", "HELP", "HISTORY", "SHOW", "FEEDBACK"),
                    "a command such as predict:"),
    "$END": "the end of the line",
}
# Optional punctuation is never what is missing; ':' is said together with '='.
UNSAID = frozenset({"COMMA", "COLON", "QMARK", "_BREAK"})


def expected_words(terminals: Iterable[str]) -> str:
    """'a key=value pair, a value, or the end of the line'."""
    names = set(terminals)
    phrases = list(dict.fromkeys(phrase for name, phrase in PHRASES.items() if name in names))
    if not phrases:
        return "something else here"
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + (", or " if len(phrases) > 2 else " or ") + phrases[-1]
