"""`predbot serve`'s Slack channel: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode.

Both modes run the same SlackApp. Configuration errors stop `serve` with one
line that says what to set (SystemExit), never a traceback or a token.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Mapping
from typing import Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.answering import Answerer
from bot.slack.app import SlackApp
from bot.slack.http import HttpService
from bot.slack.settings import Settings
from bot.slack.socket import SocketService


class Service(Protocol):
    def describe(self) -> str: ...

    async def stop(self) -> None: ...


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="Slack HTTP mode: address to listen on (default 127.0.0.1; a proxy in front adds TLS)")
    parser.add_argument("--port", type=int, default=3000,
                        help="Slack HTTP mode: port for /slack/events and /healthz (default 3000)")


async def start(answerer: Answerer, args: argparse.Namespace,
                env: Mapping[str, str] = os.environ) -> Service | None:
    """None when Slack is not configured (no SLACK_BOT_TOKEN)."""
    settings = Settings.from_env(env)
    if settings is None:
        return None
    return await launch(answerer, settings, args.host, args.port)


async def launch(answerer: Answerer, settings: Settings, host: str = "127.0.0.1", port: int = 3000) -> Service:
    if not settings.socket_mode and not settings.signing_secret:
        raise SystemExit("predbot: Slack's HTTP mode needs SLACK_SIGNING_SECRET (the app's Basic Information "
                         "page), or set SLACK_APP_TOKEN to use Socket Mode instead.")
    client = settings.web_client()
    identity = await checked("SLACK_BOT_TOKEN", settings, client.auth_test())
    app = SlackApp(answerer, settings, name=f"@{identity.get('user', '?')} in {identity.get('team', '?')}")
    if settings.socket_mode:
        opened = await checked("SLACK_APP_TOKEN", settings, client.apps_connections_open(app_token=settings.app_token))
        return await SocketService.start(app, settings.app_token, opened["url"])
    return await HttpService.start(app, host, port)


async def checked(variable: str, settings: Settings, call: Awaitable[AsyncSlackResponse]) -> dict:
    """A Web API call whose failure means the configuration is wrong: say which setting, then stop."""
    try:
        return (await call).data
    except SlackApiError as error:
        raise SystemExit(f"predbot: Slack refused {variable} ({error.response.get('error')}); "
                         "copy it again from the app's settings.") from None
    except (aiohttp.ClientError, OSError) as error:
        raise SystemExit(f"predbot: cannot reach Slack at {settings.api_url} ({error}).") from None

