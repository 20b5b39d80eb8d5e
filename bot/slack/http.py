"""HTTP mode: Slack posts to /slack/events on an aiohttp server; /healthz says we are up.

Every request is verified (timestamp and signature, over the bytes as
received) and checked readable before Bolt sees any of it. One that fails
gets its status (401, 400 or 415) and a log line, and nothing else happens:
no parsing, no Web API call, no answer anywhere. A verified one is acked here
with an empty 200 once the store has it as owed (`SlackApp.accept`), and
Bolt, which checks the signature once more, works on it afterwards; only
Slack's URL verification and SSL check, whose answer has a body, wait for
Bolt's.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.app import SlackApp
from bot.slack.verify import Rejection, Verifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
STOP_SECONDS = 1.0          # for requests still being acked; answers in progress have `SlackApp.drain`


class HttpService:
    def __init__(self, app: SlackApp, runner: web.AppRunner, site: web.TCPSite, host: str, port: int) -> None:
        self.app, self.runner, self.site, self.host, self.port = app, runner, site, host, port

    @classmethod
    async def start(cls, app: SlackApp, host: str, port: int) -> HttpService:
        """Listen on host:port (port 0 picks a free one; `.port` says which)."""
        runner = web.AppRunner(web_app(app), access_log=None, shutdown_timeout=STOP_SECONDS)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        app.start()
        return cls(app, runner, site, host, runner.addresses[0][1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{EVENTS_PATH}"

    def describe(self) -> str:
        return f"Slack as {self.app.name} in HTTP mode at {self.url}"

    async def stop(self) -> None:
        """No new requests, then give the answers being worked on a little time to finish."""
        await self.site.stop()
        await self.app.stop()
        await self.runner.cleanup()


def web_app(app: SlackApp) -> web.Application:
    verifier = Verifier(app.settings.signing_secret)

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        checked = verifier.check(body, request.headers) or bolt_request(request, body)
        if isinstance(checked, Rejection):
            log.warning("refused a request to %s from %s: %s", EVENTS_PATH, request.remote, checked.reason)
            return web.Response(status=checked.status, text=HTTPStatus(checked.status).phrase)
        if answered_by_bolt(checked.body):
            return await to_aiohttp_response(await app.bolt.async_dispatch(checked))
        await app.accept(checked)
        return web.Response(status=200)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    server = web.Application()
    server.add_routes([web.post(EVENTS_PATH, events), web.get("/healthz", health)])
    return server


def answered_by_bolt(body: dict) -> bool:
    """Slack's checks of the endpoint itself, whose answer Bolt writes."""
    return body.get("type") == "url_verification" or bool(body.get("ssl_check"))


def bolt_request(request: web.Request, body: bytes) -> AsyncBoltRequest | Rejection:
    """Bolt's request for a verified body, or a 400 for one whose shape Bolt trips over."""
    # Bolt's own x-slack-bolt-* headers change how it runs listeners; no signature covers them.
    headers = {name: value for name, value in request.headers.items() if not name.lower().startswith("x-slack-bolt-")}
    try:
        return AsyncBoltRequest(body=body.decode(), query=request.query_string, headers=headers)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as error:
        # e.g. {"authorizations": 5}: Slack never sends it, and it must not become a 500 and a traceback
        return Rejection(400, f"Bolt cannot read its fields ({type(error).__name__})")
