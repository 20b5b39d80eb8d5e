"""What the HTTP routes share, one per process: kept in `app.state.context`, given to a route by `context_of`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from bot.http.settings import Settings

if TYPE_CHECKING:
    from bot.answering import Answerer
    from bot.jobs import Jobs
    from bot.metrics import Metrics
    from bot.slack.app import SlackApp
    from bot.store.shared import Shared


@dataclass
class Context:
    """What the routes share: one per process."""

    answerer: Answerer                  # its .bot has the registry and the store
    shared: Shared                      # what replicas decide together: rate limits, claims
    settings: Settings = field(default_factory=Settings)
    metrics: Metrics | None = None
    slack: SlackApp | None = None       # HTTP mode's app; None when Slack is off or in Socket Mode
    jobs: Jobs | None = None            # batch jobs; None where none are served


def context_of(request: Request) -> Context:
    """The Context of the app serving `request` (a FastAPI dependency)."""
    return request.app.state.context
