"""HTTP fixtures: the real ASGI app under real uvicorn on loopback, in one background event loop.

`start_api(...)` builds a Context the way `predbot serve` does (an Answerer over
a Bot that records in a store, the store's Shared for rate limits and claims),
serves `build_app(context)` on a free port, and stops it after the module.
Tests stay synchronous and call it over real HTTP (httpx, requests).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from doubles.loop import LoopThread
from fastapi import FastAPI

from bot.answering import Answerer
from bot.core import Bot
from bot.http.app import build_app
from bot.http.context import Context
from bot.http.server import HttpServer
from bot.http.settings import ApiKey, Settings
from bot.store import Store, open_store
from bot.store.shared import Shared
from scoring.registry import Registry


def api_key(name: str, key: str, models: tuple[str, ...] | frozenset[str] = ()) -> ApiKey:
    """The ApiKey a server is configured with for the key text `key` (kept only as its sha256)."""
    return ApiKey(name, hashlib.sha256(key.encode()).hexdigest(), frozenset(models))


@pytest.fixture(name="api_key", scope="session")
def api_key_fixture() -> Callable[..., ApiKey]:
    """`api_key(name, key, models=())`: an ApiKey for the key text `key`."""
    return api_key


@pytest.fixture(scope="session")
def http_loop() -> Iterator[LoopThread]:
    thread = LoopThread("http-test-loop")
    yield thread
    thread.close()


@dataclass
class RunningApi:
    """A started app: its base URL, the Context its routes share, the FastAPI app, and the loop it runs in."""

    url: str
    context: Context
    app: FastAPI
    server: HttpServer
    loop: LoopThread

    @property
    def bot(self) -> Bot:
        return self.context.answerer.bot

    @property
    def store(self) -> Store | None:
        return self.bot.store


StartApi = Callable[..., RunningApi]


@pytest.fixture(scope="module")
def start_api(http_loop: LoopThread, registry: Registry,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartApi]:
    """`start_api(bot=None, settings=None, together=None, **overrides)`: the app on a free loopback port.

    Without `bot`, a Bot over the demo models recording in a store of its own; `settings` (default Settings())
    changed by `overrides` (e.g. `keys=(api_key("ci", "k"),)`, `max_rows=5`); `together` is the Shared the
    replicas under test decide in (default: the bot's store's). Nobody is rate-limited unless `rate` is given.
    """
    started: list[tuple[HttpServer, Answerer]] = []
    stores: list[Store] = []

    def open_new() -> Store:
        stores.append(open_store(f"sqlite:///{tmp_path_factory.mktemp('api')}/predbot.db"))
        return stores[-1]

    def start(bot: Bot | None = None, settings: Settings | None = None, together: Shared | None = None,
              **overrides: Any) -> RunningApi:
        bot = bot or Bot(registry, store=open_new())
        shared = together or (bot.store.shared if bot.store is not None else open_new().shared)
        settings = replace(settings or Settings(), **{"rate": (0, 1.0), "port": 0, **overrides})
        answerer = Answerer(bot)
        context = Context(answerer=answerer, shared=shared, settings=settings)
        app = build_app(context)
        server = http_loop.run(HttpServer.start(app, "127.0.0.1", 0))
        started.append((server, answerer))
        return RunningApi(server.url, context, app, server, http_loop)

    yield start
    for server, answerer in reversed(started):
        http_loop.run(server.stop())
        answerer.close()
    for store in stores:
        store.close()


@pytest.fixture(scope="module")
def api(start_api: StartApi) -> RunningApi:
    """One app without keys (so loopback only) shared by a module's tests."""
    return start_api()
