"""What a chart costs beside the text reply it goes with, and that a reply which shows none never pays for one.

The text reply is the whole in-process path of a one-row `predict:` (Bot.handle,
then bot.render.text); the chart is `bot.render.chart.chart_of` of that answer
(the Picture worked out, laid out, painted by Pillow, saved as PNG). The two
are timed in turns, so that both see the same machine; the target is a chart
p50 of at most 10x the text reply's. Then a fresh interpreter answers a predict
without showing a chart, and says whether the drawing was ever loaded (shap
imports matplotlib, and with it Pillow's Image, for its own plots, so the
measure is Pillow's ImageDraw).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench import targets
from bench.common import demo_registry, ms, percentile
from bench.reply_bench import in_turns
from bot.core import Bot
from bot.render.chart import chart_of
from bot.render.text import render
from scoring.demo import demo_models_dir

TARGET = 10.0
CASES = {
    "churn (binary)": "predict: age=45, income=60000, plan=Premium, contract=month-to-month, support_calls=3",
    "iris (multiclass)": "predict iris: 6.1, 2.8, 4.7, 1.2",
    "diabetes (regression)": "predict diabetes: age=50, bmi=31, bp=90",
}
WITHOUT_A_CHART = """
import sys
from bot.core import Bot
from bot.render.text import render
from scoring.registry import Registry
registry = Registry(sys.argv[1])
registry.refresh()
render(Bot(registry).handle("predict: age=45, income=60000"))
print("loaded" if "PIL.ImageDraw" in sys.modules else "not loaded")
"""


def measure(bot: Bot, text: str, repeat: int) -> float:
    """Print the text reply's and the chart's p50 and p99; the ratio of their p50s."""
    answer = bot.handle(text)
    reply_times, chart_times = in_turns(lambda: render(bot.handle(text)), lambda: chart_of(answer), repeat, warmup=3)
    for label, samples in (("  text reply (handle + render)", reply_times), ("  chart_of (layout + PNG)", chart_times)):
        print(f"{label:34} {ms(percentile(samples, 50))} {ms(percentile(samples, 99))}")
    return percentile(chart_times, 50) / percentile(reply_times, 50)


def backend_loaded_without_a_chart() -> bool:
    ran = subprocess.run([sys.executable, "-c", WITHOUT_A_CHART, str(demo_models_dir())], capture_output=True,
                         text=True, timeout=300, check=True)
    return ran.stdout.strip() == "loaded"


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--repeat", type=int, default=60)
    repeat = options.parse_args(argv).repeat
    bot = Bot(demo_registry())
    print(f"{'':34} {'p50':>11} {'p99':>11}   ({repeat} of each, in turns)")
    ratios = {}
    for name, text in CASES.items():
        print(name)
        ratios[name] = measure(bot, text, repeat)
    print(f"chart p50 / text reply p50 (target <= {TARGET:.0f}x):")
    for name, ratio in ratios.items():
        print(f"  {name:24} {ratio:6.1f}x  {'met' if ratio <= TARGET else 'MISSED'}")
    worst = max(ratios.values())
    targets.report("chart p50 vs text reply (worst of binary, multiclass, regression)", f"{worst:.1f}×",
                   f"≤ {TARGET:.0f}×", worst <= TARGET)
    loaded = backend_loaded_without_a_chart()
    print(f"a predict answered without a chart: Pillow's ImageDraw {'WAS' if loaded else 'was not'} loaded")
    targets.report("chart drawn for a reply that shows none", "yes" if loaded else "never", "never", not loaded)


if __name__ == "__main__":
    main()
