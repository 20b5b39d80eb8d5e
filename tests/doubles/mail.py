"""Real SMTP on loopback for tests and the bench: a capturing relay sink and the service in a thread.

Like errbot's test backend: the code under test runs unchanged, and the
helpers only stand where the outside world would be.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import TYPE_CHECKING

from aiosmtpd.smtp import SMTP

from bot.cli import build_parser
from bot.config import Config
from bot.mail.server import password_check
from bot.mail.service import start
from doubles.loop import LoopThread, wait_until

if TYPE_CHECKING:
    from bot.answering import Answerer
    from bot.store.shared import Shared


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    at: float                       # time.monotonic() when it arrived
    login: str | None = None        # the AUTH user, when the client logged in
    in_reply_to: str | None = None

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)


class Sink:
    """An SMTP server that keeps every message: the relay the bot's replies go to.

    `fail_first` answers that many DATA commands with 451 first (to test retries);
    `refuse` answers every DATA with this reply (e.g. a 550).
    """

    def __init__(self, fail_first: int = 0, refuse: str = "", tls: ssl.SSLContext | None = None,
                 login: tuple[str, str] | None = None) -> None:
        self.fail_first = fail_first
        self.refuse = refuse
        self.received: list[Received] = []
        self.replies: dict[str | None, Received] = {}           # In-Reply-To -> the first reply with it
        self.awaited: dict[str, threading.Event] = {}           # set when a reply to that Message-ID comes
        self.changed = threading.Condition()
        self.loop = LoopThread()

        def protocol() -> SMTP:
            return SMTP(self, hostname="sink.localhost", enable_SMTPUTF8=True, tls_context=tls,
                        require_starttls=tls is not None, auth_required=login is not None,
                        authenticator=password_check(login) if login else None, loop=self.loop.loop)

        async def serve() -> asyncio.Server:
            return await self.loop.loop.create_server(protocol, "127.0.0.1", 0)

        self.server = self.loop.run(serve())
        self.port = self.server.sockets[0].getsockname()[1]

    async def handle_DATA(self, server: SMTP, session, envelope) -> str:
        if self.refuse:
            return self.refuse
        if self.fail_first > 0:
            self.fail_first -= 1
            return "451 4.3.0 Try again later"
        login = session.auth_data.login.decode() if session.auth_data else None
        raw = envelope.original_content
        in_reply_to = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)["In-Reply-To"]
        with self.changed:
            received = Received(envelope.mail_from, tuple(envelope.rcpt_tos), raw, time.monotonic(), login,
                                in_reply_to)
            self.received.append(received)
            self.replies.setdefault(in_reply_to, received)
            if arrived := self.awaited.pop(in_reply_to, None):
                arrived.set()
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """The first `count` messages, waiting up to `timeout` seconds for them to arrive."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise TimeoutError(f"the sink got {len(self.received)} of {count} messages in {timeout}s")
            return list(self.received[:count])

    def reply_to(self, message_id: str, timeout: float = 30) -> Received:
        """The first reply to `message_id`, waiting up to `timeout` seconds for it. Only its own arrival wakes
        the waiter: the bench has twenty senders waiting at once."""
        with self.changed:
            if (found := self.replies.get(message_id)) is not None:
                return found
            arrived = self.awaited.setdefault(message_id, threading.Event())
        if not arrived.wait(timeout):
            raise TimeoutError(f"no reply to {message_id} in {timeout}s")
        return self.replies[message_id]

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()

        self.loop.run(stop())
        self.loop.close()


class ServiceThread:
    """The mail service as `predbot serve` runs it, in its own loop thread, for synchronous callers.

    `argv` holds `predbot serve`'s flags; the environment is the process's, as it is for `predbot serve`.
    `shared` is the store's state shared between hosts: services on one `shared` are hosts of one predbot.
    A setting that cannot work raises the ConfigError that `serve` would stop with.
    """

    def __init__(self, answerer: Answerer, argv: list[str], shared: Shared) -> None:
        self.args = build_parser().parse_args(["serve", *argv])
        self.settings = Config.from_args(self.args).mail
        self.loop = LoopThread()
        try:
            self.service = self.loop.run(start(answerer, self.settings, shared))
        except BaseException:
            self.loop.close()
            raise
        self.port = self.service.port

    def wait_idle(self, timeout: float = 30) -> None:
        """Until every mail accepted so far is decided and every reply queued for it delivered: after it, the
        sink has every reply this service will send them."""
        spool = self.service.spool
        wait_until(lambda: not spool.incoming() and not spool.outgoing(), timeout)

    def close(self) -> None:
        self.loop.run(self.service.stop())
        self.loop.close()
