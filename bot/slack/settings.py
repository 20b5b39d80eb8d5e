"""The Slack channel's settings: plain data that `bot.config` builds from Slack's own variables and our flags.

Tokens are kept out of `repr`, so logging a Settings never leaks them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

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
    rate: tuple[int, float] = (20, 60.0)    # answers per user and period (seconds), across replicas; 0 for no limit
    lease: float = 30.0                     # an acked answer whose process stops renewing this is finished by another

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def file_hosts(self) -> frozenset[str]:
        """Where the bot token may be sent to download a file: Slack's file host, or the configured API."""
        return frozenset({SLACK_FILES_HOST, urlsplit(self.api_url).netloc})


def ids(listed: Iterable[str]) -> frozenset[str]:
    """IDs from flag values or a variable, each one ID or a comma-separated list of them."""
    return frozenset(part.strip() for value in listed for part in value.split(",") if part.strip())


def api_url(url: str) -> str:
    """The Web API's base URL, ending in `/` as the client joins method names onto it."""
    return url if url.endswith("/") else url + "/"
