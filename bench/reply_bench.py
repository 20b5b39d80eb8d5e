"""The whole in-process reply path vs a bare predict_proba on the same model.

Ours: text -> parse -> model lookup -> coerce -> transform -> predict ->
SHAP drivers -> Reply -> terminal text. Baseline: `pipeline.predict_proba`
on a one-row DataFrame. Also times the stages, to show what dominates.
"""

from __future__ import annotations

import argparse

import parser as commands
from bench.common import demo_registry, ms, percentile, timings
from bot.core import Bot
from bot.render.text import render
from scoring import pipeline
from scoring.schema import to_frame
from scoring.score import score

TEXT = "predict: age=45, income=60000, plan=Premium, contract=month-to-month, support_calls=3"


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--repeat", type=int, default=300)
    repeat = options.parse_args(argv).repeat
    registry = demo_registry()
    bot = Bot(registry)
    model = registry.get("churn")
    row = {"age": 45, "income": 60000, "plan": "Premium", "contract": "month-to-month", "support_calls": 3}
    coerced = model.schema.coerce(row)
    frame = to_frame(model.schema, [coerced.values])
    transformed = pipeline.transform(model.preprocessor, frame)
    answer = bot.handle(TEXT)

    measured = {
        "bare predict_proba (baseline)": timings(lambda: model.estimator.predict_proba(frame), repeat),
        "whole path: text -> rendered reply": timings(lambda: render(bot.handle(TEXT)), repeat),
        "  parse": timings(lambda: commands.parse(TEXT), repeat),
        "  coerce": timings(lambda: model.schema.coerce(row), repeat),
        "  transform (ColumnTransformer)": timings(lambda: pipeline.transform(model.preprocessor, frame), repeat),
        "  predict_proba on transformed": timings(lambda: model.final.predict_proba(transformed), repeat),
        "  SHAP drivers": timings(lambda: model.explainer.explain(frame, transformed), repeat),
        "  score() (coerce..drivers)": timings(lambda: score(model, [row]), repeat),
        "  render text": timings(lambda: render(answer), repeat),
    }
    base = percentile(measured["bare predict_proba (baseline)"], 50)
    print(f"churn ({model.estimator_name}, {model.explainer.method} explainer), {repeat} calls each")
    print(f"{'':38} {'p50':>11} {'p99':>11}  p50 / baseline")
    for name, samples in measured.items():
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        print(f"{name:38} {ms(p50)} {ms(p99)}  {p50 / base:6.2f}x")


if __name__ == "__main__":
    main()
