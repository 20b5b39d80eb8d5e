"""What the batch job tests share: the clock they move, the start it shows, and churn rows with one bad row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from scoring.demo import churn_data

ROWS = 40
START = datetime(2027, 5, 4, 9, 30, tzinfo=UTC).timestamp()


@dataclass
class Clock:
    """Seconds since the epoch, moved by the test: a scheduled tick comes when the test says."""

    now: float = START

    def __call__(self) -> float:
        return self.now


def churn_frame(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """Churn rows with an id column, and row 2's income a word: that row is not predicted, the rest are."""
    frame, _ = churn_data(rows, seed=seed)
    frame = frame.astype(object)
    frame.insert(0, "id", range(rows))
    frame.loc[2, "income"] = "sixty"
    return frame
