"""Waiting from test code: an asyncio loop in a thread for synchronous callers, and polling a condition."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An asyncio loop in a daemon thread; `run` executes a coroutine there and waits for it.

    Servers under test and the doubles beside them (a fake Slack, a relay sink)
    run here, so a synchronous test can drive them and check what they did.
    """

    def __init__(self, name: str = "test-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        """Cancel what still runs (open client connections), then stop the loop."""
        async def cancel_the_rest() -> None:
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def wait_until(condition: Callable[[], T], timeout: float = 20.0, every: float = 0.01) -> T:
    """Check `condition` until it is truthy, then return it; fail after `timeout` seconds.

    For conditions nothing signals, such as a file appearing; prefer a double's own
    `wait_for`, which wakes on the event itself.
    """
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout}s: {condition}")
        time.sleep(every)
    return result
