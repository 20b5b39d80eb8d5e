"""The Answerer: the Bot's replies off the event loop, on threads of their own, within a time budget."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


from bot.answering import Answerer, Budget
from bot.core import Bot
from bot.reply import Sender, Status

ANN = Sender("ann")


def test_an_answer_is_the_bots_reply(registry):
    answerer = Answerer(Bot(registry))
    answer = asyncio.run(answerer.answer("predict iris: 5.1, 3.5, 1.4, 0.2", ANN))
    assert answer.ok and answer.body.rows[0].prediction == "setosa"
    answerer.close()


def test_an_answer_over_its_budget_is_a_refusal_that_says_so(gated):
    answerer = Answerer(gated, Budget(seconds=0.2, threads=1))
    answer = asyncio.run(answerer.answer("models", ANN))
    assert answer.status is Status.REFUSED and answer.body.label == "too_slow"
    assert "longer than 0.2 seconds" in answer.body.message
    gated.gate.set()
    assert asyncio.run(answerer.answer("models", ANN)).ok     # the thread came back to the pool


def test_messages_beyond_what_the_pool_can_hold_are_refused_at_once(gated):
    answerer = Answerer(gated, Budget(seconds=30, threads=1, waiting=2))

    async def flood() -> list:
        asking = [asyncio.create_task(answerer.answer("models", ANN)) for _ in range(3)]
        assert await asyncio.to_thread(gated.held.acquire, timeout=10)
        extra = await answerer.answer("models", ANN)           # 1 running + 2 waiting: no room
        gated.gate.set()
        return [extra, *await asyncio.gather(*asking)]

    extra, *answered = asyncio.run(flood())
    assert extra.status is Status.REFUSED and extra.body.label == "busy"
    assert all(a.ok for a in answered)


def test_slow_answers_leave_the_event_loops_own_threads_free(gated):
    """Six slow DMs once held every default-executor thread, and with them SMTP's spool writes."""
    answerer = Answerer(gated, Budget(seconds=30, threads=2))

    async def busy_scoring_then_file_work() -> str:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
        asking = [asyncio.create_task(answerer.answer("models", ANN)) for _ in range(2)]
        for _ in range(2):
            assert await asyncio.to_thread(gated.held.acquire, timeout=10)
        spooled = await asyncio.wait_for(asyncio.to_thread(lambda: "spooled"), 10)
        gated.gate.set()
        await asyncio.gather(*asking)
        return spooled

    assert asyncio.run(busy_scoring_then_file_work()) == "spooled"


def test_a_stuck_scoring_thread_does_not_keep_the_process_alive():
    stuck = ("import threading; from bot.answering import Pool; "
             "Pool(1).submit(threading.Event().wait); print('leaving')")
    result = subprocess.run([sys.executable, "-c", stuck], capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout.strip()) == (0, "leaving")
