"""Slack settings from the environment, with Slack's own variable names.

Tokens are kept out of `repr`, so logging a Settings never leaks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from slack_sdk.web.async_client import AsyncWebClient

SLACK_API_URL = "https://slack.com/api/"
SLACK_FILES_HOST = "files.slack.com"


@dataclass(frozen=True)
class Settings:
    bot_token: str = field(repr=False)
    app_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    api_url: str = SLACK_API_URL
    allowed_users: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    progress_interval: float = 2.0          # seconds between edits of a progress message (Slack rate-limits edits)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings | None:
        """None when Slack is not configured, i.e. there is no SLACK_BOT_TOKEN."""
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not token:
            return None
        api_url = env.get("SLACK_API_URL", "").strip() or SLACK_API_URL
        return cls(bot_token=token,
                   app_token=env.get("SLACK_APP_TOKEN", "").strip(),
                   signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
                   api_url=api_url if api_url.endswith("/") else api_url + "/",
                   allowed_users=ids(env.get("PREDBOT_SLACK_ALLOWED_USERS", "")),
                   allowed_channels=ids(env.get("PREDBOT_SLACK_ALLOWED_CHANNELS", "")))

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def file_hosts(self) -> frozenset[str]:
        """Where the bot token may be sent to download a file: Slack's file host, or the configured API."""
        return frozenset({SLACK_FILES_HOST, urlsplit(self.api_url).netloc})

    def web_client(self) -> AsyncWebClient:
        return AsyncWebClient(token=self.bot_token, base_url=self.api_url)


def ids(listed: str) -> frozenset[str]:
    return frozenset(part.strip() for part in listed.split(",") if part.strip())
