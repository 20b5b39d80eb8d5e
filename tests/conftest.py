"""Shared fixtures: the demo models are built once per test run, in a private cache; a Bot that waits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import Bot
from scoring.demo import demo_models_dir
from scoring.registry import Registry


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_models_dir(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def registry(demo_dir: Path) -> Registry:
    registry = Registry(demo_dir)
    registry.refresh()
    return registry


@pytest.fixture(scope="session")
def churn(registry: Registry):
    return registry.get("churn")


@pytest.fixture(scope="session")
def iris(registry: Registry):
    return registry.get("iris")


@pytest.fixture(scope="session")
def diabetes(registry: Registry):
    return registry.get("diabetes")


class GatedBot(Bot):
    """Answers only once the test opens the gate; `held` counts the answers waiting at it."""

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        self.gate = threading.Event()
        self.held = threading.Semaphore(0)

    def handle(self, *args, **kwargs):
        self.held.release()
        assert self.gate.wait(20)
        return super().handle(*args, **kwargs)


@pytest.fixture
def gated(registry: Registry) -> Iterator[GatedBot]:
    """A Bot that holds every answer until `gated.gate.set()`; the gate opens by itself after the test."""
    bot = GatedBot(registry)
    yield bot
    bot.gate.set()
