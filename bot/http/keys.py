"""Who is calling the API, what they may use, and how often: the `caller` dependency of every /v1 route.

With keys configured (Settings.keys), a request must send one as
`Authorization: Bearer KEY`; its sha256 is compared, in constant time, with
each key's. Without keys the API is for this machine only: it answers
loopback clients and refuses the rest, whatever address it listens on (Slack's
signed events are not the API's, and are served either way). Each key may
make `Settings.rate` requests per period, counted in the store by every
replica; past that, 429 with Retry-After. A key's text is never logged or
echoed; its name is what logs and the store see.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError

from bot.http.context import Context, context_of
from bot.http.problems import Problem
from bot.http.settings import ApiKey
from bot.reply import Sender

log = logging.getLogger(__name__)

LOCAL = "local"                 # the caller's name when no keys are configured
MEDIUM = "api"


@dataclass(frozen=True)
class Caller:
    name: str
    key: ApiKey | None = None   # None: a loopback client of a server without keys

    def may_use(self, model: str) -> bool:
        return self.key is None or self.key.may_use(model)

    def check(self, model: str) -> None:
        """Refuse (403) a model outside the caller's key."""
        if not self.may_use(model):
            raise Problem(403, f"The API key {self.name!r} may not use the model {model!r}; ask the server's owner "
                               "to add it to the key's models.", "model_not_allowed")

    @property
    def sender(self) -> Sender:
        """Who asked, as the core and the store know them: predictions made with a key are that key's."""
        return Sender(self.name, channel=MEDIUM, medium=MEDIUM)


async def caller(request: Request, context: Annotated[Context, Depends(context_of)]) -> Caller:
    """The verified caller of `request`, counted against its key's rate limit; else a 401, 403 or 429."""
    settings = context.settings
    if not settings.keyed:
        if not loopback(request.client.host if request.client else ""):
            raise Problem(403, "This server has no API keys configured, so its API answers only requests from "
                               "the machine it runs on. Its owner can set PREDBOT_API_KEYS or --api-keys "
                               "(README: HTTP API).", "api_keys_not_configured")
        return Caller(LOCAL)
    key = matching(settings.keys, bearer(request))
    if key is None:
        raise Problem(401, "Send a valid API key as `Authorization: Bearer KEY`.", "unauthorized",
                      headers={"WWW-Authenticate": 'Bearer realm="predbot"'})
    await admit(context, key)
    return Caller(key.name, key)


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def matching(keys: tuple[ApiKey, ...], token: str) -> ApiKey | None:
    """The key whose digest is the token's; every key is compared, in constant time, so timing tells nothing."""
    if not token:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    found = None
    for key in keys:
        if hmac.compare_digest(digest, key.digest):
            found = key
    return found


async def admit(context: Context, key: ApiKey) -> None:
    count, period = context.settings.rate
    if count <= 0:
        return
    try:
        wait = await asyncio.to_thread(context.shared.admit, f"api:{key.name}", count, period)
    except SQLAlchemyError as error:
        log.warning("answering %s without counting it against the rate limit: the store failed (%s)",
                    key.name, type(error).__name__)
        return
    if wait:
        raise Problem(429, f"The key {key.name!r} has made {count} requests in the last {period:g} seconds, which "
                           f"is as many as it may; try again in {math.ceil(wait)} s.", "rate_limited",
                      headers={"Retry-After": str(math.ceil(wait))})


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
