"""Why a message is not a command: a labelled table of bad examples, and what
each label tells the person who typed it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from lark import Lark, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from parser import quoting, spoken
from parser.commands import Command, Pair, ParseError, Predict
from parser.expected import VALUE, expected_words
from parser.format import to_text
from parser.spot import Spot

# Bad examples by label, for UnexpectedInput.match_examples. An error takes the
# label of an example that failed in the same parser state on the same kind of
# token, else of the first example that failed in the same state: within a
# state, the broadest label comes first.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "empty": (";", "\n;\n"),
    "sentence": ("hello bot", "what will this customer do?", "Hi!", '"hello"', "yes please",
                 "45 years old", "45, Premium", "churn: will they leave?", "?", "na ?"),
    "no_rows": ("whatif", "whatif:", "whatif churn", "whatif churn:", "whatif:\n"),
    "empty_value": ("predict: age=", "predict: age=, income=5", "predict: age= income=5",
                    "predict: age=;", "age=", "churn: age="),
    "double_equals": ("predict: age==45", "predict: age:=45", "age==45"),
    "missing_value": ("predict: age=45, income", "predict: age=45 income", "predict: age=45, income 60000",
                      "age=45, income"),
    "trailing_comma": ("predict: age=45,", "predict: age=45, ;age=30", "predict: age=45,, income=5",
                       "age=45,", "predict: 5, 6,", "5, 6,", "5,, 6"),
    "mixed": ("predict: age=45, 30", "predict: age=45 30", 'predict: age=45 "x"', "predict: age=45 ?",
              "predict: 45, age=30", "predict: 45 age=30", "45, age=30", "age=45, 30"),
    "whatif_arrow": ("whatif: age=45; income=80000", "whatif: 45, 60000"),
    "whatif_changes": ("whatif: age=45 ->", "whatif: age=45 -> 50", "whatif: age=45 -> income"),
    "arrow_needs_whatif": ("predict: age=45 -> age=50", "age=45 -> age=50", "predict iris: 5, 6 -> a=1",
                           "5, 6 -> a=1"),
    "prediction_id": ("show", "show:", "show abc", "show 123", "show: 5", "feedback", "feedback:", "feedback abc",
                      "feedback 123", "feedback: x"),
    "feedback_actual": ("feedback 0123456789ab churns", "feedback 0123456789ab 5", "feedback 0123456789ab, churns",
                        "feedback 0123456789ab row=2 churns", "feedback 0123456789ab row=2, 5"),
}
EXAMPLE = "predict: age=45, income=60000"
VERBS = ("predict", "whatif", "explain", "schema", "fields", "models", "help", "history", "show", "feedback")
# Verbs a typo is guessed to be; not `show`, a letter away from too many words (how, shop, snow) to guess
GUESSED = tuple(verb for verb in VERBS if verb != "show")
ID_EXAMPLE = "3f2a9c0d1e4b"
LEADING_WORD = re.compile(r"\s*([^\W\d_][\w-]*)")
KEY_USE = re.compile(r"[^\S\n]*=")
QUOTES = "\"'“‘"


@dataclass(frozen=True)
class Label:
    expected: Callable[[Spot], str]
    hint: Callable[[Spot], str]


LABELS: dict[str, Label] = {
    "empty": Label(
        lambda s: "a command",
        lambda s: f"Type a command, for example `{EXAMPLE}`, or `help`."),
    "sentence": Label(
        lambda s: "a command, such as predict: followed by key=value pairs",
        lambda s: f"To ask for a prediction, write key=value pairs: `{EXAMPLE}`. Type `help` to see every command."),
    "unknown_verb": Label(
        lambda s: "a command: " + ", ".join(VERBS[:-1]) + " or " + VERBS[-1],
        lambda s: f"Did you mean {s.guess}? `{s.replace_word(s.guess)}`"),
    "no_rows": Label(
        lambda s: "the values to score",
        lambda s: f"Add key=value pairs: `{s.with_rows()}`"),
    "empty_value": Label(
        lambda s: f"a value after '{s.separator}'",
        lambda s: f"Write a value, or ? if you don't know it: `{s.insert('?')}`"),
    "double_equals": Label(
        lambda s: "one '=' between a key and its value",
        lambda s: f"Use a single '=': `{s.delete()}`"),
    "missing_value": Label(
        lambda s: f"'=' and a value after '{s.word}'",
        lambda s: (f"Put '=' between {s.word} and its value: `{s.join_value()}`" if s.value_follows
                   else f"Give {s.word} a value, or ? if you don't know it: `{s.join_value('?')}`")),
    "unquoted_key": Label(
        lambda s: "quotes around this key",
        lambda s: ("A key of letters, digits, _ and - (up to five words) can go without quotes; any other needs "
                   f"them: `{s.quote_span()}`")),
    "unquoted_text": Label(
        lambda s: "quotes around text with spaces",
        lambda s: f"Put text with spaces in quotes: `{s.quote_span()}`"),
    "spoken_pairs": Label(
        lambda s: "key=value pairs",
        lambda s: f"Put '=' between each key and its value: `{s.meant}`"),
    "trailing_comma": Label(
        lambda s: "another key=value pair or value after ','",
        lambda s: f"Remove the stray ',': `{s.delete()}`"),
    "mixed": Label(
        lambda s: "a row of only key=value pairs or only values",
        lambda s: (f"Name every value (`{EXAMPLE}`) or none of them, in the model's field order "
                   "(`predict iris: 5.1, 3.5, 1.4, 0.2`).")),
    "thousands": Label(
        lambda s: "one number, written without commas",
        lambda s: (f"In a command a comma separates values, so {s.grouped.group()} is not one number here. Write "
                   + " or ".join(f"`{line}`" for line in s.ungrouped())
                   + " (digits are grouped with commas only after a currency sign: $1,200).")),
    "whatif_arrow": Label(
        lambda s: "'->' and the changes to try",
        lambda s: "Put '->' between the row and the changes: `whatif: age=45, income=60000 -> income=80000`"),
    "whatif_changes": Label(
        lambda s: "key=value changes after '->'",
        lambda s: "Write the changes as key=value pairs: `whatif: age=45, income=60000 -> income=80000`"),
    "arrow_needs_whatif": Label(
        lambda s: "the end of the line",
        lambda s: f"'->' compares a row with changes to it; start with whatif: `{s.as_whatif()}`"),
    "prediction_id": Label(
        lambda s: "a prediction id: the 12 letters and digits after `id` at the end of a reply",
        lambda s: f"Copy it from the reply: `{s.verb} {ID_EXAMPLE}`. `history` lists your predictions with theirs."),
    "feedback_actual": Label(
        lambda s: "actual= and what it really was",
        lambda s: (f"Say what it really was after actual=: `feedback {s.prediction_id or ID_EXAMPLE} actual=churns`, "
                   "with row=2 before it for a prediction's second row.")),
    "unclosed_quote": Label(
        lambda s: f"a closing {s.closing_quote} for the text that starts here",
        lambda s: f"Close the quote: `{s.close_quote()}`"),
}


def error(label: str, spot: Spot) -> ParseError:
    words = LABELS[label]
    return _error(spot, label, words.expected(spot), words.hint(spot))


def _error(spot: Spot, label: str, expected: str, hint: str) -> ParseError:
    return ParseError(spot.text, spot.line, spot.column, spot.caret, expected, hint, label)


def empty(text: str) -> ParseError:
    return error("empty", Spot(text, 0))


def from_lark(text: str, problem: UnexpectedInput, parser: Lark) -> ParseError:
    at_end = isinstance(problem, UnexpectedToken) and problem.token.type == "$END"
    spot = Spot(text, len(text.rstrip()) if at_end else problem.pos_in_stream)
    if (comma := Spot(text, spot.pos - 1)).grouped:       # the 200 of income=1,200, which is not a second value
        return error("thousands", comma)
    if isinstance(problem, UnexpectedCharacters) and spot.char in QUOTES:
        return error("unclosed_quote", spot)
    if unquoted := _unquoted(text, problem, spot.pos, parser):
        return unquoted
    if isinstance(problem, UnexpectedCharacters):
        if "PREDICTION_ID" in problem.allowed:          # a mistyped id reads as nothing at all
            return error("prediction_id", spot)
        return _syntax(spot, problem, f"I can't read '{spot.chunk}' here.")
    label = _by_state(problem).match_examples(
        lambda example: _parse_example(parser, example), EXAMPLES, token_type_match_fallback=True, use_accepts=True)
    if label == "trailing_comma":
        return error(label, Spot(text, text.rfind(",", 0, spot.pos + 1)))
    if label in ("empty", "sentence") and at_end:  # the whole message is the problem
        return error(label, Spot(text, len(text) - len(text.lstrip())))
    if label:
        return error(label, spot)
    return _syntax(spot, problem, "The message ends too early." if at_end else f"'{problem.token}' doesn't fit here.")


def _unquoted(text: str, problem: UnexpectedInput, pos: int, parser: Lark) -> ParseError | None:
    """A key or a value of several words that reads as one only in quotes, if quoting it makes the line parse
    (so the hint never shows a line that fails again)."""
    stack = problem.interactive_parser.parser_state.value_stack
    token_type = problem.token.type if isinstance(problem, UnexpectedToken) else ""
    for label, span in (("unquoted_key", quoting.key(text, pos, stack)),
                        ("unquoted_text", quoting.value(text, pos, token_type, stack))):
        if span and _parses(parser, (spot := Spot(text, span[0], end=span[1])).quote_span()):
            return error(label, spot)
    return None


def _parses(parser: Lark, text: str) -> bool:
    try:
        parser.parse(text)
    except UnexpectedInput:
        return False
    return True


def _syntax(spot: Spot, problem: UnexpectedInput, found: str) -> ParseError:
    expected = expected_words(problem.interactive_parser.accepts())
    topic = "`help values` to see how values are written" if VALUE in expected else "`help` for examples"
    return _error(spot, "syntax", expected, f"{found} Type {topic}.")


def _parse_example(parser: Lark, example: str) -> Tree:
    try:
        return parser.parse(example)
    except UnexpectedInput as problem:
        raise _by_state(problem) from None


def _by_state(problem: UnexpectedInput) -> UnexpectedInput:
    """Compare errors by LALR state alone.

    lark's parser states also compare the depth of the parse stack, so an
    example would only match errors in the same row of the same command form;
    the state alone says what was expected, which is all a label needs.
    """
    problem.state = getattr(problem.state, "position", problem.state)
    return problem


def spoken_pairs(text: str, command: Command, offset: int = 0) -> ParseError | None:
    """`predict churn for age 45 and income 60k` is pairs without '=': say so, showing them with it.

    `offset` is how many characters the command's text has before `text` (a verb put in front to read it).
    """
    meant = spoken.as_pairs(command) if isinstance(command, Predict) else None
    if meant is None:
        return None
    return error("spoken_pairs", Spot(text, spoken.starts_at(command) - offset, meant=to_text(meant)))


def misspelt_verb(text: str, command: Command | None) -> ParseError | None:
    """`predcit: age=45` is a typo for a verb, even though it reads as a model name."""
    match = LEADING_WORD.match(text)
    if match is None:
        return None
    word = match.group(1)
    guess = _closest_verb(word.lower())
    if guess is None or _used_as_key(word, text[match.end():], command):
        return None
    return error("unknown_verb", Spot(text, match.start(1), guess))


def _closest_verb(word: str) -> str | None:
    if word in VERBS or word == "what-if":
        return None
    guesses = difflib.get_close_matches(word, GUESSED, n=1, cutoff=0.7)
    return guesses[0] if guesses and abs(len(guesses[0]) - len(word)) <= 1 else None


def _used_as_key(word: str, rest: str, command: Command | None) -> bool:
    if command is None:
        return KEY_USE.match(rest) is not None
    if not isinstance(command, Predict) or command.model is not None:
        return False
    first = command.rows[0].items[0]
    return isinstance(first, Pair) and first.key == word
