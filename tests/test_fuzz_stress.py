"""100,000 fuzzed commands and 5,000 fuzzed files through Bot.handle and every renderer.

The same strategies and `check` as tests/test_fuzz.py, drawn from a fresh
random seed (reported, so a failing run can be replayed). Every answer must
come without an apology, a leak or a broken message; the figures say how
long handle() took and whether memory held still.
"""

from __future__ import annotations

import random

import figures
import pytest
from test_fuzz import Vocabulary, fuzz, sent_files, typed_commands

from bot.core import Bot

COMMANDS = 100_000
FILES = 5_000


@pytest.mark.stress
@pytest.mark.timeout(10_800)
def test_fuzzed_commands_and_files_are_all_answered_without_apology(registry):
    bot = Bot(registry)
    vocabulary = Vocabulary.of(registry)
    bot.handle("predict: age=45")           # first answers warm caches; memory is measured after them
    bot.handle("whatif: age=45 -> age=50")
    first_seed = random.randrange(2**32)
    rss_before = figures.rss_mb()
    commands = fuzz(bot, typed_commands(vocabulary), COMMANDS, first_seed)
    rss_after_commands = figures.rss_mb()
    files = fuzz(bot, sent_files(vocabulary), FILES, first_seed)
    rss_after = figures.rss_mb()
    figures.report("fuzz handle+render", inputs=len(commands.seconds) + len(files.seconds),
                   commands=len(commands.seconds), files=len(files.seconds), seed=first_seed,
                   p99_ms=figures.p99_ms(commands.seconds), files_p99_ms=figures.p99_ms(files.seconds),
                   rss_before_mb=rss_before, rss_after_commands_mb=rss_after_commands, rss_after_mb=rss_after,
                   peak_rss_mb=figures.peak_rss_mb(),
                   apologies=commands.kinds["internal"] + files.kinds["internal"],
                   scored=commands.kinds["ok"] + commands.kinds["not_predicted"])
    assert len(commands.seconds) == COMMANDS and len(files.seconds) == FILES
