"""`predbot serve`'s Slack channel: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode.

Both modes run the same SlackApp. A setting that cannot work is a ConfigError
that says what to set, never a traceback or a token.
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
from bot.slack.http import HttpService
from bot.slack.settings import Settings
from bot.slack.socket import SocketService
from bot.store.shared import Shared


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
    try:
        return await HttpService.start(app, settings.host, settings.port)
    except OSError as error:
        raise ConfigError(f"Slack's HTTP mode cannot listen on {settings.host}:{settings.port}: "
                          f"{error.strerror or error}") from None


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
