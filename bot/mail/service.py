"""The email channel as a service of `predbot serve`: start, describe, stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import TYPE_CHECKING

from bot.config import ConfigError
from bot.mail.guard import Guard
from bot.mail.outbound import Outbound, Retry
from bot.mail.server import Listen, SpoolingHandler, listen
from bot.mail.settings import Settings
from bot.mail.spool import Spool, SpoolBusy
from bot.mail.transport import Outbox, Relay, Transport
from bot.mail.worker import Worker

if TYPE_CHECKING:
    from bot.answering import Answerer
    from bot.store.shared import Shared

__all__ = ["MailService", "start"]

log = logging.getLogger(__name__)


class MailService:
    def __init__(self, settings: Settings, transport: Transport, server: asyncio.Server, handler: SpoolingHandler,
                 spool: Spool, tasks: list[asyncio.Task]) -> None:
        self.settings = settings
        self.transport = transport
        self.server = server
        self.handler = handler
        self.spool = spool
        self.tasks = tasks

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    def describe(self) -> str:
        return (f"email on {self.settings.host}:{self.port} for {self.settings.ours}, "
                f"replies to {self.transport.describe()}")

    async def stop(self) -> None:
        """Stop listening and working, in about the time a reply takes to compose, however long the
        answer being scored would take: the Answerer's threads are not waited for, and whatever is
        half done is redone from the spool next start."""
        self.server.close()
        self.handler.hang_up()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError):   # a session closing slowly must not hold up shutdown
            await asyncio.wait_for(self.server.wait_closed(), 5)
        self.spool.unlock()


async def start(answerer: Answerer, settings: Settings, shared: Shared) -> MailService:
    """Listen and work, answering through `answerer` (the process's one scoring pool and time budget), deciding
    with the other hosts on `shared` which of them answers a mail and how often a sender is answered; a setting
    that cannot work is a ConfigError that names it."""
    try:
        options = listening(settings)
        spool = Spool(settings.spool)
        spool.lock()
    except (ConfigError, SpoolBusy, OSError) as error:      # OSError: the spool is not writable
        raise ConfigError(f"email: {error}") from error
    try:
        host = spool.host                   # made on the first start, where a spool that cannot keep it stops it
    except OSError as error:
        spool.unlock()
        raise ConfigError(f"email: {error}") from error
    log.info("the spool %s is host %s to the store's claims", spool.root, host)
    try:
        spool.prune(settings.keep_days * 86400)
        transport = replies(settings)
        outbound = Outbound(spool, transport, Retry(settings.relay_attempts, settings.relay_backoff))
        guard = Guard(settings.ours, settings.allowed, settings.rate, shared)
        worker = Worker(answerer, spool, guard, shared, settings.keep_days * 86400, settings.max_commands,
                        outbound.wake.set, settings.workers)
        handler = SpoolingHandler(spool, settings.ours, worker.wake.set)
        server = await listen(handler, options)
    except OSError as error:
        spool.unlock()
        raise ConfigError(f"email: cannot listen on {settings.host}:{settings.port}: "
                          f"{error.strerror or error}") from error
    except BaseException:
        spool.unlock()
        raise
    tasks = [asyncio.create_task(stage.run(), name=f"mail {name}")
             for name, stage in (("worker", worker), ("outbound", outbound))]
    for task in tasks:
        task.add_done_callback(report_crash)
    return MailService(settings, transport, server, handler, spool, tasks)


def listening(settings: Settings) -> Listen:
    """The SMTP server's options, with the TLS context that STARTTLS offers when a certificate is given."""
    tls = None
    if settings.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            tls.load_cert_chain(settings.tls_cert, settings.tls_key)
        except OSError as error:            # ssl.SSLError too: not a PEM certificate, or the key does not match
            raise ConfigError(f"cannot load the certificate {settings.tls_cert}: {error.strerror or error}") from None
    if settings.login and tls is None:
        raise ConfigError("PREDBOT_SMTP_USER asks for SMTP AUTH, which needs STARTTLS: "
                          "give --smtp-tls-cert and --smtp-tls-key too")
    return Listen(settings.host, settings.port, settings.ours.any_domain(), settings.max_message_bytes, tls,
                  settings.login)


def replies(settings: Settings) -> Transport:
    """Where replies go: the relay, when one is given, else the outbox directory."""
    if settings.relay_host:
        return Relay(settings.relay_host, settings.relay_port, settings.relay_starttls, settings.relay_login,
                     settings.relay_cafile)
    return Outbox(settings.outbox)


def report_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped; mail waits in the spool until a restart", task.get_name(),
                  exc_info=task.exception())
