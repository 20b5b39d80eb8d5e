"""`make docs-images`: the README's charts, drawn by predbot itself from the demo models, never by hand.

Each PNG is `bot.render.chart.chart_of` of a real answer (a binary churn
prediction, an iris multiclass one, a diabetes regression one, a whatif and an
explain), so the pictures in the docs are the ones people get; their alt text
is written beside them, as `NAME.txt`, for the README's `![alt](...)`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.common import demo_registry
from bot.core import Bot
from bot.render.chart import chart_of

ANSWERS = {
    "churn-prediction": "predict: age=45, income=60000, contract=month-to-month, support_calls=3",
    "iris-prediction": "predict iris: 6.1, 2.8, 4.7, 1.2",
    "diabetes-prediction": "predict diabetes: age=50, bmi=31, bp=90",
    "churn-whatif": "whatif: age=45, income=60000, contract=month-to-month -> contract=two-year",
    "churn-explain": "explain churn",
}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.docs_images DIRECTORY", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    bot = Bot(demo_registry())
    for name, text in ANSWERS.items():
        chart = chart_of(bot.handle(text))
        if chart is None:
            print(f"{name}: `{text}` gave no chart (the log says why)", file=sys.stderr)
            return 1
        (folder / f"{name}.png").write_bytes(chart.png)
        (folder / f"{name}.txt").write_text(chart.alt + "\n")
        print(f"{folder / name}.png  ({len(chart.png):,} bytes)  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
