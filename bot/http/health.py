"""Is the server up, can it answer, and what has it done: /healthz, /readyz and /metrics.

None of them needs an API key: a load balancer and Prometheus call them, and
the server's owner keeps them from the world at the proxy in front. /readyz
is ready when a model is serving and the store answers a trivial query
within STORE_SECONDS (off the event loop); when not, a 503 problem+json says
which of the two is missing, never where a file or a database is.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.http.context import Context, context_of
from bot.http.problems import Problem
from bot.store.shared import Shared

STORE_SECONDS = 1.0

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Is the server up?")
async def healthz() -> dict[str, bool]:
    return {"ok": True}


@router.get("/readyz", summary="Can it answer: a model serving, and the store answering?",
            responses={503: {"description": "Not ready: the problem says what is missing"}})
async def readyz(context: Annotated[Context, Depends(context_of)]) -> dict[str, bool | int]:
    serving = len(await asyncio.to_thread(context.answerer.bot.registry.models))
    missing = [] if serving else [{"field": "models", "message": "no model is serving; the log says why"}]
    if (store := await store_problem(context.shared)) is not None:
        missing.append({"field": "store", "message": store})
    if missing:
        raise Problem(503, "Not ready: " + "; ".join(part["message"] for part in missing) + ".", "not_ready",
                      missing, headers={"Retry-After": "5"})
    return {"ok": True, "models": serving}


async def store_problem(shared: Shared) -> str | None:
    try:
        await asyncio.wait_for(asyncio.to_thread(ping, shared), STORE_SECONDS)
    except TimeoutError:
        return f"the store did not answer within {STORE_SECONDS:g} s"
    except SQLAlchemyError as error:
        return f"the store failed ({type(error).__name__})"
    return None


def ping(shared: Shared) -> None:
    with shared.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


@router.get("/metrics", summary="Prometheus metrics, in its text format",
            responses={200: {"content": {"text/plain": {}}}})
async def metrics(context: Annotated[Context, Depends(context_of)]) -> Response:
    if context.metrics is None:
        raise Problem(404, "This server keeps no metrics.", "no_metrics")
    return Response(await asyncio.to_thread(context.metrics.exposition), media_type=context.metrics.content_type)
