"""What can be wrong with a row, as values that carry a message for people.

Errors stop a row from being predicted; warnings ride along with a prediction.
Each kind knows how to say itself, so every channel shows the same words.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The closest choice to `word`, compared case-insensitively, if any is close."""
    lowered = {str(c).lower(): str(c) for c in choices}
    match = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def listing(items: list[str] | tuple[str, ...], limit: int = 12) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


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
        return f"Unknown field '{self.name}'.{hint}"


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
        return f"{self.feature} expects {self.expected}, got {self.given!r}."


@dataclass(frozen=True)
class UnknownCategory(Problem):
    label: ClassVar[str] = "unknown_category"
    feature: str
    given: object
    choices: tuple[str, ...]

    @property
    def message(self) -> str:
        guess = did_you_mean(str(self.given), self.choices)
        if guess:
            return f"{self.feature} has no category {self.given!r}. Did you mean {guess!r}?"
        return f"{self.feature} has no category {self.given!r}. Choices: {listing(self.choices)}."


@dataclass(frozen=True)
class MissingValue(Problem):
    label: ClassVar[str] = "missing_value"
    feature: str

    @property
    def message(self) -> str:
        return f"{self.feature} is required: this model cannot fill it in. Add {self.feature}=..."


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
        return (f"{self.feature}={self.value:g} is outside the training range "
                f"{self.low:g} to {self.high:g}; treat this prediction with care.")


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
