"""Live accuracy per model version, from the feedback people give: a classifier's row is right when the actual is
its label, a regressor's error is |actual - value|; the latest report on a row counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.entry import Accuracy
from parser.values import read


@dataclass
class Tally:
    newest: datetime
    labels: int = 0           # classifier rows judged
    right: int = 0
    values: int = 0           # regressor rows judged: their actual reads as a number
    absolute_error: float = 0.0

    def add(self, row: Any) -> None:
        self.newest = max(self.newest, row.at)
        if row.value is None:
            self.labels += 1
            self.right += row.actual.strip() == row.prediction
        elif isinstance(actual := read(row.actual), int | float) and not isinstance(actual, bool):
            self.values += 1
            self.absolute_error += abs(actual - row.value)

    def accuracy(self, model: str, version: str) -> Accuracy:
        return Accuracy(model, version, self.labels + self.values, self.right / self.labels if self.labels else None,
                        self.absolute_error / self.values if self.values else None)


def accuracies(model: str, judged: Iterable[Any]) -> list[Accuracy]:
    """One Accuracy per version with feedback, the newest version (by its latest prediction) first."""
    tallies: dict[str, Tally] = {}
    for row in judged:
        tallies.setdefault(row.version, Tally(row.at)).add(row)
    newest_first = sorted(tallies.items(), key=lambda item: item[1].newest, reverse=True)
    return [tally.accuracy(model, version) for version, tally in newest_first if tally.labels + tally.values]
