"""`predbot serve`'s Slack channel: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode.

Both modes run the same SlackApp. In Socket Mode the channel holds the
connection; in HTTP mode Slack posts to /slack/events on predbot's one HTTP
server (bot.http.slack_events), which is given the app (`HttpMode.app`) and
says where it listens (`served_at`). A setting that cannot work is a
ConfigError that says what to set, never a traceback or a token.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.answering import Answerer
from bot.config import ConfigError
from bot.slack.app import SlackApp
from bot.slack.settings import Settings
from bot.slack.socket import SocketService
from bot.store.shared import Shared


EVENTS_PATH = "/slack/events"


class Service(Protocol):
    def describe(self) -> str: ...

    async def stop(self) -> None: ...


async def start(answerer: Answerer, settings: Settings | None, shared: Shared) -> Service | None:
    """None when Slack is not configured (no SLACK_BOT_TOKEN)."""
    return None if settings is None else await launch(answerer, settings, shared)


async def launch(answerer: Answerer, settings: Settings, shared: Shared) -> Service:
    """The app in the mode its settings say, deciding with other replicas through `shared`."""
    if not settings.socket_mode and not settings.signing_secret:
        raise ConfigError("Slack's HTTP mode needs SLACK_SIGNING_SECRET (the app's Basic Information page), "
                          "or set SLACK_APP_TOKEN to use Socket Mode instead.")
    client = web_client(settings)
    identity = await checked("SLACK_BOT_TOKEN", settings, client.auth_test())
    app = SlackApp(answerer, settings, shared, name=f"@{identity.get('user', '?')} in {identity.get('team', '?')}")
    if settings.socket_mode:
        opened = await checked("SLACK_APP_TOKEN", settings, client.apps_connections_open(app_token=settings.app_token))
        return await SocketService.start(app, settings.app_token, opened["url"])
    app.start()
    return HttpMode(app)


class HttpMode:
    """Slack's HTTP mode: the app whose events the HTTP server hands over at EVENTS_PATH."""

    def __init__(self, app: SlackApp) -> None:
        self.app, self.url = app, EVENTS_PATH

    def served_at(self, base_url: str) -> None:
        """The HTTP server serving the app listens at `base_url`."""
        self.url = base_url + EVENTS_PATH

    def describe(self) -> str:
        return f"Slack as {self.app.name} in HTTP mode at {self.url}"

    async def stop(self) -> None:
        """Give the answers being worked on a little time to finish (the HTTP server stops taking requests)."""
        await self.app.stop()


def web_client(settings: Settings) -> AsyncWebClient:
    return AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)


async def checked(variable: str, settings: Settings, call: Awaitable[AsyncSlackResponse]) -> dict:
    """A Web API call whose failure means the configuration is wrong: say which setting."""
    try:
        return (await call).data
    except SlackApiError as error:
        raise ConfigError(f"Slack refused {variable} ({error.response.get('error')}); "
                          "copy it again from the app's settings.") from None
    except (aiohttp.ClientError, OSError) as error:
        raise ConfigError(f"cannot reach Slack at {settings.api_url} ({error}).") from None
