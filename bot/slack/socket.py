"""Socket Mode: the app opens a websocket to Slack (no public URL needed) and acks over it."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.slack.app import SlackApp


class SocketService:
    def __init__(self, app: SlackApp, handler: AsyncSocketModeHandler) -> None:
        self.app, self.handler = app, handler

    @classmethod
    async def start(cls, app: SlackApp, app_token: str, url: str) -> SocketService:
        """Connect to `url`, which apps.connections.open issued when the app token was checked."""
        handler = AsyncSocketModeHandler(app.bolt, app_token)
        handler.client.wss_uri = url
        await handler.connect_async()
        app.start()
        return cls(app, handler)

    def describe(self) -> str:
        return f"Slack as {self.app.name} in Socket Mode"

    async def stop(self) -> None:
        await self.app.stop()
        await self.handler.close_async()
