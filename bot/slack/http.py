"""HTTP mode: Slack posts to /slack/events on an aiohttp server; /healthz says we are up.

Bolt checks the signature and timestamp of every request (401 when wrong or
stale) and answers with the listener's ack; this module only carries requests
between aiohttp and the app.
"""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.slack.app import SlackApp

EVENTS_PATH = "/slack/events"


class HttpService:
    def __init__(self, app: SlackApp, runner: web.AppRunner, site: web.TCPSite, host: str, port: int) -> None:
        self.app, self.runner, self.site, self.host, self.port = app, runner, site, host, port

    @classmethod
    async def start(cls, app: SlackApp, host: str, port: int) -> HttpService:
        """Listen on host:port (port 0 picks a free one; `.port` says which)."""
        runner = web.AppRunner(web_app(app), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        return cls(app, runner, site, host, runner.addresses[0][1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{EVENTS_PATH}"

    def describe(self) -> str:
        return f"Slack as {self.app.name} in HTTP mode at {self.url}"

    async def stop(self) -> None:
        """No new requests, then let the answers being worked on finish."""
        await self.site.stop()
        await self.app.drain()
        await self.runner.cleanup()


def web_app(app: SlackApp) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.bolt.async_dispatch(await to_bolt_request(request)))

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    server = web.Application()
    server.add_routes([web.post(EVENTS_PATH, events), web.get("/healthz", health)])
    return server
