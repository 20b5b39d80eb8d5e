"""Shared fixtures: the demo models are built once per test run, in a private cache; a Bot that waits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from doubles.serve import Serve

from bot.core import Bot
from bot.store import Store, open_store
from bot.store.shared import Shared
from scoring.demo import demo_models_dir
from scoring.registry import Registry


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where every predbot a test starts keeps its files (the store, the spool), unless the test says otherwise:
    never the checkout's var/."""
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREDBOT_DATA", str(data))
        yield data


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_models_dir(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def serve(demo_dir: Path, tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    """`serve(*flags, **options)`: a real `predbot serve` process on the demo models (doubles.serve), stopped after
    the test."""
    started: list[Serve] = []

    def start(*flags: str, **options) -> Serve:
        started.append(Serve(demo_dir, tmp_path, *flags, **options))
        return started[-1]

    yield start
    for process in started:
        process.close()


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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on loopback for the whole run, started here (tests/doubles/postgres.py): the
    SQLAlchemy URL of a database on it. Where PostgreSQL is not installed the tests that need it fail, saying how."""
    from contextlib import ExitStack

    from tests.doubles.postgres import PostgresMissing, running_postgres

    with ExitStack() as stack:
        try:
            url = stack.enter_context(running_postgres())
        except PostgresMissing as missing:
            pytest.fail(str(missing))
        yield url


@pytest.fixture(scope="session")
def new_shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Shared]]:
    """`new_shared()`: what replicas decide together (deliveries seen, rate slots, answers owed) on a new SQLite
    store: one per deployment under test, as a new fake Slack numbers its events and messages from 1 again."""
    opened: list[Store] = []

    def new() -> Shared:
        opened.append(open_store(f"sqlite:///{tmp_path_factory.mktemp('shared')}/predbot.db"))
        return opened[-1].shared

    yield new
    for store in opened:
        store.close()


@pytest.fixture
def shared(new_shared: Callable[[], Shared]) -> Shared:
    return new_shared()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store of the test's own (tests/store/ has its own `store`, on SQLite and PostgreSQL)."""
    opened = open_store(f"sqlite:///{tmp_path}/s.db")
    yield opened
    opened.close()


@pytest.fixture
def remembering(registry: Registry, store: Store) -> Bot:
    """A Bot that records its answers and answers history, show and feedback."""
    return Bot(registry, store=store)
