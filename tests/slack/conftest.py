"""Slack fixtures: the fake Slack and the real app, served by predbot's real HTTP server (the ASGI app under
uvicorn) on loopback, in one background event loop.

Tests stay synchronous: they POST signed bodies over real HTTP and wait (with
timeouts, never sleeps) for what the fake Slack received.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import pytest
from doubles.loop import LoopThread
from doubles.slack import FakeSlack, signed

from bot.answering import Answerer, Budget
from bot.cli import build_parser
from bot.config import Config
from bot.core import Bot
from bot.http.app import build_app
from bot.http.context import Context
from bot.http.server import HttpServer
from bot.slack.app import SlackApp
from bot.slack.service import HttpMode, Service, launch
from bot.slack.settings import Settings
from bot.store.shared import Shared

SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="session")
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@dataclass
class Running:
    """A started app and the fake Slack it talks to."""

    fake: FakeSlack
    service: Service
    loop: LoopThread
    ts: Iterator[int]

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def app(self) -> SlackApp:
        return self.service.app

    @property
    def secret(self) -> str:
        return SECRET

    def post(self, body: str, content_type: str = FORM, secret: str = SECRET, timestamp: int | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """POST a body signed as Slack would (with `secret` and `timestamp`, when given), over real HTTP."""
        request = urllib.request.Request(self.url, body.encode(), method="POST", headers={
            "Content-Type": content_type, **signed(secret, body, timestamp), **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def command(self, text: str, **more: str) -> str:
        """Run `/predict text`; return its response_url once Slack got its ack."""
        payload = self.fake.command(text, **more)
        status, _ = self.post(urlencode(payload))
        assert status == 200
        return payload["response_url"]

    def click_share(self, command: str, **more: str) -> str:
        payload = self.fake.share_click(command, **more)
        status, _ = self.post(urlencode({"payload": json.dumps(payload)}))
        assert status == 200
        return payload["response_url"]

    def response(self, url: str, **body: Any):
        """What the bot sent to this response_url (the first call matching `body`), waiting for it."""
        return self.fake.wait_for("response", where=lambda c: url.endswith(c.path), **body)

    def event(self, event: dict, event_id: str | None = None, retry: int | None = None) -> int:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        status, _ = self.post(json.dumps(self.fake.event(event, event_id)), "application/json", headers=headers)
        return status

    def settle(self) -> None:
        """Wait until every answer already started has been sent: after it, Slack has all it will get."""
        assert self.loop.run(self.app.drain(timeout=20)) == 0

    def next_ts(self) -> str:
        return f"1710000000.{next(self.ts):06d}"

    def mention(self, text: str, channel: str = "C1", user: str = "U1", **more: Any) -> dict:
        return {"type": "app_mention", "text": f"<@UBOT> {text}", "user": user, "channel": channel,
                "ts": self.next_ts(), **more}

    def dm(self, text: str, user: str = "U1", channel: str = "D1", **more: Any) -> dict:
        return {"type": "message", "channel_type": "im", "text": text, "user": user, "channel": channel,
                "ts": self.next_ts(), **more}


StartSlack = Callable[..., Running]


async def served(service: Service, answerer: Answerer, shared: Shared) -> HttpServer | None:
    """In HTTP mode, the app served at /slack/events as `predbot serve` serves it, on a free loopback port."""
    if not isinstance(service, HttpMode):
        return None
    server = await HttpServer.start(build_app(Context(answerer, shared, slack=service.app)), "127.0.0.1", 0)
    service.served_at(server.url)
    return server


@pytest.fixture(name="served")
def served_fixture() -> Callable[..., Awaitable[HttpServer | None]]:
    """`await served(service, answerer, shared)`: an HTTP-mode Slack service on the real HTTP server."""
    return served


def configured(env: dict[str, str], *flags: str) -> Settings | None:
    """The Slack section `predbot serve FLAGS` gets in environment `env`."""
    return Config.from_args(build_parser().parse_args(["serve", *flags]), env).slack


@pytest.fixture(name="configured")
def configured_fixture() -> Callable[..., Settings | None]:
    """`configured(env, *flags)`: the Slack section `predbot serve FLAGS` gets in environment `env`."""
    return configured


@pytest.fixture(scope="module")
def start_slack(loop: LoopThread, registry, new_shared) -> Iterator[StartSlack]:
    """Start an app over a fresh fake Slack, in HTTP mode on a free port unless `env` holds SLACK_APP_TOKEN:
    `start_slack(bot=..., budget=..., env=..., together=Shared, **settings overrides)`, deciding with other
    replicas through `together` (default: a store of its own). Nobody is rate-limited unless `rate` is
    given: tests ask many times a minute."""
    started: list[tuple[FakeSlack, Service, HttpServer | None, Answerer]] = []
    numbers = itertools.count(1)

    def start(bot: Bot | None = None, budget: Budget | None = None, env: dict[str, str] | None = None,
              together: Shared | None = None, **overrides: Any) -> Running:
        fake = FakeSlack()
        loop.run(fake.start())
        settings = configured(fake.env(SLACK_SIGNING_SECRET=SECRET, **(env or {})))
        answerer = Answerer(bot or Bot(registry), budget)
        shared = together or new_shared()
        service = loop.run(launch(answerer, replace(settings, **{"rate": (0, 1.0), **overrides}), shared))
        server = loop.run(served(service, answerer, shared))
        started.append((fake, service, server, answerer))
        return Running(fake, service, loop, numbers)

    yield start
    for fake, service, server, answerer in reversed(started):
        if server is not None:
            loop.run(server.stop())
        loop.run(service.stop())
        loop.run(fake.stop())
        answerer.close()


@pytest.fixture(scope="module")
def slack(start_slack: StartSlack) -> Running:
    """One app in HTTP mode shared by a module's tests; each test uses its own ts values."""
    return start_slack()
