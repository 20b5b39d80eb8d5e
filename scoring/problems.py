"""What can be wrong with a row, as values that carry a message for people.

Errors stop a row from being predicted; warnings ride along with a prediction.
Each kind knows how to say itself, so every channel shows the same words.
"""

from __future__ import annotations

import difflib
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from parser.values import written

SHOWN_CHARS = 40        # a value quoted in a message is cut here: enough to recognise it, never a wall of text
LISTED_CHARS = 100      # each name in a list (fields, categories, a file's columns) is cut here
COMPARED_CHARS = 100    # longer words cannot be close to a field or category name, so are not compared
LISTED = 12             # names listed in a message before "and N more"


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The closest choice to `word`, compared case-insensitively, if any is close."""
    if len(word) > COMPARED_CHARS:
        return None
    lowered = {str(c).lower(): str(c) for c in choices}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def listing(items: list[str] | tuple[str, ...], limit: int = LISTED) -> str:
    shown = ", ".join(shorten(str(i), LISTED_CHARS) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text`, or its start and "…" with its length when it is longer than `limit`."""
    if len(text) <= limit:
        return text
    return f"{text[:limit - 1]}… ({len(text):,} characters)"


def number_text(number: int | float) -> str:
    """A number in words for people, as the command language writes it, so it reads back: 60k, 229.8k,
    1.235M, 0.05 (four significant digits; see parser.values.written)."""
    try:
        return _not_finite(number) or written(number)
    except OverflowError:   # an int past float's range
        return "a number with hundreds of digits"


def _not_finite(number: int | float) -> str | None:
    if isinstance(number, int) or math.isfinite(number):
        return None
    return "not a number" if math.isnan(number) else "-infinity" if number < 0 else "infinity"


def typed(value: object) -> str:
    """A value as text: what was typed for text, plain numbers and yes/no otherwise, never a Python repr.

    Numbers stay exact (60000, not 60k): a number given for a category is matched as this text.
    """
    if value is None:
        return "?"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python turns into text
            return "a number with thousands of digits"
    if isinstance(value, float):
        return _not_finite(value) or (str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}")
    return str(value)


def shown(value: object) -> str:
    """A value quoted in a message: `'sixty'`, as typed and cut to SHOWN_CHARS."""
    return f"'{shorten(typed(value))}'"


@dataclass(frozen=True)
class Problem(ABC):
    severity: ClassVar[str] = "error"
    label: ClassVar[str] = "problem"

    @property
    @abstractmethod
    def message(self) -> str:
        """What went wrong and what to do, in words for people."""


@dataclass(frozen=True)
class UnknownFeature(Problem):
    label: ClassVar[str] = "unknown_feature"
    name: str
    known: tuple[str, ...]

    @property
    def message(self) -> str:
        guess = did_you_mean(self.name, self.known)
        hint = f" Did you mean '{guess}'?" if guess else f" Fields: {listing(self.known)}."
        return f"Unknown field {shown(self.name)}.{hint}"


@dataclass(frozen=True)
class DuplicateFeature(Problem):
    label: ClassVar[str] = "duplicate_feature"
    feature: str

    @property
    def message(self) -> str:
        return f"{self.feature} is given more than once; give it once."


@dataclass(frozen=True)
class WrongType(Problem):
    label: ClassVar[str] = "wrong_type"
    feature: str
    expected: str
    given: object

    @property
    def message(self) -> str:
        return f"{self.feature} expects {self.expected}, got {shown(self.given)}."


@dataclass(frozen=True)
class TooLarge(Problem):
    """A number beyond what models compute with; it would reach the model as infinity."""

    label: ClassVar[str] = "too_large"
    feature: str
    largest: float

    @property
    def message(self) -> str:
        return (f"{self.feature} is out of the range a model can compute with: give a number between "
                f"-{self.largest:.2g} and {self.largest:.2g}.")


@dataclass(frozen=True)
class UnknownCategory(Problem):
    label: ClassVar[str] = "unknown_category"
    feature: str
    given: object
    choices: tuple[str, ...]

    @property
    def message(self) -> str:
        guess = did_you_mean(typed(self.given), self.choices)
        if guess:
            return f"{self.feature} has no category {shown(self.given)}. Did you mean {shown(guess)}?"
        return f"{self.feature} has no category {shown(self.given)}. Choices: {listing(self.choices)}."


@dataclass(frozen=True)
class MissingValue(Problem):
    label: ClassVar[str] = "missing_value"
    feature: str

    @property
    def message(self) -> str:
        return f"{self.feature} is required: this model cannot fill it in. Add {self.feature}=..."


@dataclass(frozen=True)
class MissingValues(Problem):
    """Several required fields not given: one sentence for them all, not one each (counted as one problem)."""

    label: ClassVar[str] = "missing_value"
    features: tuple[str, ...]

    @property
    def message(self) -> str:
        if len(self.features) == 1:
            return MissingValue(self.features[0]).message
        names = [shorten(name, LISTED_CHARS) for name in self.features]
        many = len(names) > LISTED
        listed = listing(names) if many else f"{', '.join(names[:-1])} and {names[-1]}"
        return (f"{listed} are required: this model cannot fill them in. "
                f"Add {', '.join(f'{name}=...' for name in names[:LISTED])}{', ...' if many else ''}")


@dataclass(frozen=True)
class WrongCount(Problem):
    label: ClassVar[str] = "wrong_count"
    expected: int
    given: int
    order: tuple[str, ...]

    @property
    def message(self) -> str:
        return (f"Expected {self.expected} values in this order: {listing(self.order)}; "
                f"got {self.given}. Or name them: {self.order[0]}=...")


@dataclass(frozen=True)
class TooManyKeys(Problem):
    """A row given as data with far more keys than its model has fields: refused whole, before any is read."""

    label: ClassVar[str] = "too_many_keys"
    count: int
    limit: int

    @property
    def message(self) -> str:
        return f"This row has {self.count:,} keys; a row may have up to {self.limit:,}. Give the model's fields."


@dataclass(frozen=True)
class MoreProblems(Problem):
    """What stands for the problems of a row past the first few: their count, not each one's words."""

    label: ClassVar[str] = "more_problems"
    count: int

    @property
    def message(self) -> str:
        return f"And {self.count:,} more problems with this row."


@dataclass(frozen=True)
class ModelFailed(Problem):
    """The model itself raised on this row; the details go to the log, not the user."""

    label: ClassVar[str] = "model_failed"

    @property
    def message(self) -> str:
        return "The model could not score this row. The bot's owner can find the details in the log."


@dataclass(frozen=True)
class OutOfRange(Problem):
    severity: ClassVar[str] = "warning"
    label: ClassVar[str] = "out_of_range"
    feature: str
    value: float
    low: float
    high: float

    @property
    def message(self) -> str:
        return (f"{self.feature}={number_text(self.value)} is outside the training range "
                f"{number_text(self.low)} to {number_text(self.high)}; treat this prediction with care.")


@dataclass(frozen=True)
class Imputed(Problem):
    """Fields left out (or given as `?`) that the model fills in: one warning per row, not one each."""

    severity: ClassVar[str] = "warning"
    label: ClassVar[str] = "imputed"
    features: tuple[str, ...]

    @property
    def message(self) -> str:
        if len(self.features) == 1:
            return f"{self.features[0]} was not given; the model filled it in."
        return f"Not given, so the model filled them in: {', '.join(self.features)}."


@dataclass(frozen=True)
class NoDrivers(Problem):
    severity: ClassVar[str] = "warning"
    label: ClassVar[str] = "no_drivers"

    @property
    def message(self) -> str:
        return "The drivers of this prediction could not be computed."
