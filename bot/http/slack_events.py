"""Slack's HTTP mode: Slack posts to /slack/events on the one HTTP server.

Every request is verified (timestamp and signature, over the bytes as
received) and checked readable before Bolt sees any of it. One that fails
gets its status (401, 400, 413 or 415) and a log line, and nothing else
happens: no parsing, no Web API call, no answer anywhere. A verified one is
acked here with an empty 200 once the store has it as owed
(`SlackApp.accept`), and Bolt, which checks the signature once more, works on
it afterwards; only Slack's URL verification and SSL check, whose answer has
a body, wait for Bolt's, converted by Bolt's own Starlette adapter.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.http.bodies import at_most
from bot.http.context import Context, context_of
from bot.http.problems import Problem
from bot.slack.service import EVENTS_PATH
from bot.slack.verify import Rejection, Verifier

log = logging.getLogger(__name__)

BOLT_HEADERS = b"x-slack-bolt-"      # Bolt's own headers change how it runs listeners; no signature covers them

router = APIRouter()


@router.post(EVENTS_PATH, include_in_schema=False)
async def events(request: Request, context: Annotated[Context, Depends(context_of)]) -> Response:
    slack = context.slack
    if slack is None:
        raise Problem(404, "This server does not serve Slack's HTTP mode: its owner sets SLACK_BOT_TOKEN and "
                           "SLACK_SIGNING_SECRET to turn it on (README: Slack).", "slack_not_served")
    limit = context.settings.max_body_bytes
    body = await at_most(request, limit)
    checked = (Rejection(413, f"its body is over {limit:,} bytes") if body is None else
               Verifier(slack.settings.signing_secret).check(body, request.headers) or bolt_request(request, body))
    if isinstance(checked, Rejection):
        log.warning("refused a request to %s from %s: %s", EVENTS_PATH,
                    request.client.host if request.client else "?", checked.reason)
        return PlainTextResponse(HTTPStatus(checked.status).phrase, status_code=checked.status)
    if answered_by_bolt(checked.body):
        return to_starlette_response(await slack.bolt.async_dispatch(checked))
    await slack.accept(checked)
    return Response(status_code=200)


def answered_by_bolt(body: dict) -> bool:
    """Slack's checks of the endpoint itself, whose answer Bolt writes."""
    return body.get("type") == "url_verification" or bool(body.get("ssl_check"))


def bolt_request(request: Request, body: bytes) -> AsyncBoltRequest | Rejection:
    """Bolt's request for a verified body, without Bolt's own headers, or a 400 for one whose shape Bolt trips over."""
    headers = [(name, value) for name, value in request.scope["headers"] if not name.lower().startswith(BOLT_HEADERS)]
    try:
        return to_async_bolt_request(Request({**request.scope, "headers": headers}), body)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as error:
        # e.g. {"authorizations": 5}: Slack never sends it, and it must not become a 500 and a traceback
        return Rejection(400, f"Bolt cannot read its fields ({type(error).__name__})")
