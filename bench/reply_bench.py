"""The whole in-process reply path vs a bare predict_proba on the same model, for churn and iris.

Ours: text -> parse -> model lookup -> coerce -> transform (the fast single-row
path, scoring.fastpath) -> predict -> SHAP drivers -> Reply -> terminal text.
Baseline: `pipeline.predict_proba` on a one-row DataFrame. The two are timed in
turns, so that both see the same machine; the target is a ratio of their p50s
of at most 1.0x. Then the stages, one after the other, to show what dominates.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import parser as commands
from bench import targets
from bench.common import demo_registry, ms, percentile, timings
from bot.core import Bot
from bot.render.text import render
from scoring import pipeline
from scoring.schema import to_frame
from scoring.score import score

TARGET = 1.0
CASES = {
    "churn": ("predict: age=45, income=60000, plan=Premium, contract=month-to-month, support_calls=3",
              {"age": 45, "income": 60000, "plan": "Premium", "contract": "month-to-month", "support_calls": 3}),
    "iris": ("predict iris: 5.1, 3.5, 1.4, 0.2",
             {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}),
}


def in_turns(first: Callable[[], object], second: Callable[[], object], repeat: int,
             warmup: int = 10) -> tuple[list[float], list[float]]:
    """Seconds per call of each, alternating which goes first: the second of a pair runs warmer."""
    def timed(action: Callable[[], object]) -> float:
        start = time.perf_counter()
        action()
        return time.perf_counter() - start

    for _ in range(warmup):
        first(), second()
    samples: tuple[list[float], list[float]] = ([], [])
    for turn in range(repeat):
        order = ((1, second), (0, first)) if turn % 2 else ((0, first), (1, second))
        for which, action in order:
            samples[which].append(timed(action))
    return samples


def measure(bot: Bot, name: str, repeat: int) -> float:
    """Print the model's figures; the ratio of the whole path's p50 to the baseline's."""
    text, row = CASES[name]
    model = bot.registry.get(name)
    coerced = model.schema.coerce(row)
    frame = to_frame(model.schema, [coerced.values])
    plain = pipeline.transform(model.preprocessor, pipeline.as_fitted(model.estimator, frame))
    fast = model.row_transform
    transformed = fast(coerced.values) if fast else plain
    answer = bot.handle(text)
    bare, whole = in_turns(lambda: model.estimator.predict_proba(frame), lambda: render(bot.handle(text)), repeat)
    stages = {
        "  parse": timings(lambda: commands.parse(text), repeat),
        "  coerce": timings(lambda: model.schema.coerce(row), repeat),
        "  to_frame + plain transform": timings(lambda: pipeline.transform(
            model.preprocessor, pipeline.as_fitted(model.estimator, to_frame(model.schema, [coerced.values]))),
            repeat),
        "  fast single-row transform": timings(lambda: fast(coerced.values), repeat) if fast else None,
        "  predict_proba on transformed": timings(lambda: model.final.predict_proba(transformed), repeat),
        "  SHAP drivers": timings(lambda: model.explainer.explain(frame, transformed), repeat),
        "  score() (coerce..drivers)": timings(lambda: score(model, [row]), repeat),
        "  render text": timings(lambda: render(answer), repeat),
    }
    base = percentile(bare, 50)
    print(f"{name} ({model.estimator_name}, {model.explainer.method} explainer, "
          f"{'fast' if fast else 'plain'} single-row path), {repeat} calls each")
    print(f"{'':38} {'p50':>11} {'p99':>11}  p50 / baseline")
    rows = {"bare predict_proba (baseline)": bare, "whole path: text -> rendered reply": whole, **stages}
    for label, samples in rows.items():
        if samples is None:
            print(f"{label:38} {'(none: plain path)':>23}")
            continue
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        print(f"{label:38} {ms(p50)} {ms(p99)}  {p50 / base:6.2f}x")
    return percentile(whole, 50) / base


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--repeat", type=int, default=300)
    repeat = options.parse_args(argv).repeat
    bot = Bot(demo_registry())
    ratios = {}
    for name in CASES:
        ratios[name] = measure(bot, name, repeat)
        print()
    print(f"whole path p50 / bare predict_proba p50 (target <= {TARGET:.1f}x, baseline and path timed in turns):")
    for name, ratio in ratios.items():
        print(f"  {name:8} {ratio:5.2f}x  {'met' if ratio <= TARGET else 'MISSED'}")
        targets.report(f"whole reply path p50 / bare `predict_proba` p50, {name}", f"{ratio:.2f}×",
                       f"≤ {TARGET:.1f}×", ratio <= TARGET)


if __name__ == "__main__":
    main()
