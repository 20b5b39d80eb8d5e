"""The SMTP listener: aiosmtpd's protocol served by the app's own asyncio loop.

Controller-less on purpose: aiosmtpd's Controller runs a second loop in a
thread, and UnthreadedController.begin() calls run_until_complete, which
cannot run inside a loop that is already running (the one `predbot serve`
shares with Slack). `loop.create_server` with the SMTP protocol as factory is
the whole of what those controllers do for us, and gives the bound port back
for `--smtp-port 0`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakSet

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from bot.mail.addresses import AddressSet
from bot.mail.spool import Envelope, Spool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    hostname: str                       # the name in our greeting
    max_bytes: int
    tls: ssl.SSLContext | None = None   # offer STARTTLS
    login: tuple[str, str] | None = None  # require AUTH (only after STARTTLS) with this user and password


class SpoolingHandler:
    """aiosmtpd hooks: RCPT for our addresses only; 250 to DATA only once the mail is on disk."""

    def __init__(self, spool: Spool, ours: AddressSet, accepted: Callable[[], None]) -> None:
        self.spool = spool
        self.ours = ours
        self.accepted = accepted
        self.sessions: WeakSet[SMTP] = WeakSet()

    def hang_up(self) -> None:
        """End every open session, so that a stop does not wait for idle clients; one cut off before
        our 250 sends its mail again, as SMTP clients do."""
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.close()

    async def handle_RCPT(self, server: SMTP, session, envelope, address: str, rcpt_options: list[str]) -> str:
        if address not in self.ours:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session, envelope) -> str:
        kept = Envelope(envelope.mail_from or "", tuple(envelope.rcpt_tos), time.time(), str(session.peer))
        try:
            await asyncio.to_thread(self.spool.accept, kept, envelope.original_content)
        except Exception:  # noqa: BLE001 - the sender keeps the mail and retries; we log why
            log.exception("could not spool mail from %s; answered 451", kept.mail_from)
            return "451 4.3.0 Could not store the message; please try again later"
        self.accepted()
        return "250 2.0.0 OK: queued"


def password_check(login: tuple[str, str]) -> Callable[..., AuthResult]:
    user, password = login[0].encode(), login[1].encode()

    def authenticate(server, session, envelope, mechanism: str, auth_data: object) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and hmac.compare_digest(auth_data.login, user) and hmac.compare_digest(auth_data.password, password))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


async def listen(handler: SpoolingHandler, options: Listen) -> asyncio.Server:
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        session = SMTP(handler, data_size_limit=options.max_bytes, enable_SMTPUTF8=True,
                       hostname=options.hostname, tls_context=options.tls,
                       require_starttls=options.login is not None, auth_required=options.login is not None,
                       auth_require_tls=True, authenticator=password_check(options.login) if options.login else None,
                       loop=loop)
        handler.sessions.add(session)
        return session

    return await loop.create_server(protocol, options.host, options.port)
