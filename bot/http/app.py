"""The one ASGI app `predbot serve` runs under uvicorn: Slack's HTTP mode, the /v1 API, metrics, health.

Each part is a router in a module of its own, and reads what it needs from
the `Context` (context.py) the app keeps in `app.state.context`:

    slack_events.py   POST /slack/events: verified, held in the store as owed, acked, then answered by Bolt
    api.py            /v1/models, /v1/models/{name}/predict, /v1/ask, /v1/predictions/{id}[/feedback]
    batches.py        /v1/batches: scoring files now or on a schedule (bot.jobs)
    health.py         /healthz, /readyz, /metrics
    keys.py           who is calling (Bearer API keys), what they may use, how often
    problems.py       every error as RFC 9457 problem+json
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from bot.http import api, batches, health, problems, slack_events
from bot.http.context import Context

TITLE = "predbot"
SUMMARY = "Predictions, their drivers in plain words, and batch scoring, from the models predbot serves."


def build_app(context: Context) -> FastAPI:
    app = FastAPI(title=TITLE, summary=SUMMARY, version=version(), docs_url="/docs", redoc_url=None)
    app.state.context = context
    problems.install(app)
    if context.settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(context.settings.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])
    for module in (health, api, batches, slack_events):
        app.include_router(module.router)
    return app


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("predbot")
    except PackageNotFoundError:
        return "0"
