"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import mkdtemp

from scoring.demo import demo_models_dir
from scoring.registry import Registry


def demo_registry() -> Registry:
    registry = Registry(demo_models_dir())
    registry.refresh()
    return registry


def timings(action: Callable[[], object], repeat: int, warmup: int = 5) -> list[float]:
    """Seconds per call of `action`, after a few warm-up calls."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1] if len(samples) > 1 else samples[0]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def scratch() -> Path:
    return Path(mkdtemp(prefix="predbot-bench-"))
