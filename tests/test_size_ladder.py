"""Cost grows linearly with size: every input path timed from 1 KB to 1 MB.

Each path is fed the shape that used to hurt it (a line of words for the
lexer, one endless line for the mail reader, a header of many columns for
the CSV reader). The figure that matters is the cost per KB at 1 MB against
the cost per KB at 16 KB: linear work keeps it near 1, quadratic work
multiplies it by 64.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import figures
import pytest

import parser
from bot.core import Bot
from bot.mail.body import html_to_text, own_words
from parser import segment
from bot.mail.parse import parse as parse_mail
from bot.reply import Attachment
from bot.slack.incoming import plain_text

SIZES_KB = (1, 4, 16, 64, 256, 1024)
BASE_KB = 16
MOST_GROWTH = 3.0          # per-KB cost at 1 MB may be at most this many times that at 16 KB


def repeat(unit: str, kb: int, prefix: str = "") -> str:
    return prefix + unit * (kb * 1024 // len(unit))


def mail(body: str) -> bytes:
    return (b"From: ann@example.com\r\nTo: predbot@localhost\r\nSubject: big\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode())


def paths(bot: Bot) -> dict[str, Callable[[int], object]]:
    """What to time at each size in KB."""
    return {
        "parse words": lambda kb: parser.parse(repeat("a ", kb, "predict: ")),
        "parse pairs": lambda kb: parser.parse(repeat("age=45 ", kb, "predict: ")),
        "parse rows": lambda kb: parser.parse(repeat("age=45; ", kb, "predict: ")),
        "parse open quotes": lambda kb: parser.parse(repeat('"x ', kb, "predict: ")),
        "handle words": lambda kb: bot.handle(repeat("a ", kb, "predict: ")),
        "mail one line": lambda kb: segment(own_words(parse_mail(mail(repeat("a=1 ", kb))).text)),
        "mail many lines": lambda kb: segment(own_words(parse_mail(mail(repeat("age=45\n", kb))).text)),
        "mail html": lambda kb: html_to_text(repeat("<div><b>a</b>", kb)),
        "slack markup": lambda kb: plain_text(repeat("<@U1|ann> &lt; ", kb)),
        "csv rows": lambda kb: bot.handle("", attachments=[Attachment("r.csv", repeat("45,60000\n", kb,
                                                                                   "age,income\n").encode())]),
        "csv wide header": lambda kb: bot.handle("", attachments=[Attachment("w.csv", (
            ",".join(f"c{i}" for i in range(kb * 1024 // 7)) + "\n1\n").encode())]),
    }


def seconds(call: Callable[[int], object], kb: int) -> float:
    runs = 3 if kb < 256 else 1
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        call(kb)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.stress
@pytest.mark.timeout(3600)
def test_every_input_path_costs_linear_time_in_its_size(registry):
    bot = Bot(registry)
    rss_before = figures.rss_mb()
    growth, slowest = {}, {}
    for name, call in paths(bot).items():
        times = {kb: seconds(call, kb) for kb in SIZES_KB}
        per_kb = {kb: t / kb for kb, t in times.items()}
        growth[name] = per_kb[SIZES_KB[-1]] / per_kb[BASE_KB]
        slowest[name] = times[SIZES_KB[-1]]
        print(f"  {name:18} " + "  ".join(f"{kb}KB {t * 1000:.1f}ms" for kb, t in times.items())
              + f"  growth {growth[name]:.2f}x")
    figures.report("size ladder", inputs=len(growth) * len(SIZES_KB), sizes="1KB-1MB",
                   worst_growth=max(growth.values()), worst_path=max(growth, key=growth.get),
                   slowest_1mb_s=max(slowest.values()), rss_before_mb=rss_before, rss_after_mb=figures.rss_mb())
    assert max(growth.values()) < MOST_GROWTH, growth
