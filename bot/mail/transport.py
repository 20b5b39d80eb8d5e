"""Where replies go: an SMTP relay, or `.eml` files in an outbox directory.

A transport opens a session and delivers one message at a time, so the
caller can record each delivery the moment it is acknowledged.
"""

from __future__ import annotations

import contextlib
import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.mail.spool import Envelope, write_durably

Deliver = Callable[[str, Envelope, bytes], None]    # (name, envelope, message); raises a failure below


class TemporaryFailure(Exception):
    """Try again later: the relay is down, busy, or said 4xx."""


class ConnectionLost(TemporaryFailure):
    """The session is over; the messages after this one were not tried."""


class PermanentFailure(Exception):
    """Trying again will not help: the relay said 5xx."""


class Transport(Protocol):
    def session(self) -> AbstractContextManager[Deliver]:
        """A delivery session; opening it raises TemporaryFailure when the destination is unreachable."""

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Relay:
    host: str
    port: int = 25
    starttls: bool = False
    login: tuple[str, str] | None = None
    cafile: str | None = None
    timeout: float = 30.0

    def describe(self) -> str:
        extras = [name for name, on in (("STARTTLS", self.starttls), ("AUTH", self.login)) if on]
        return f"relay {self.host}:{self.port}" + (f" ({', '.join(extras)})" if extras else "")

    @contextlib.contextmanager
    def session(self) -> Iterator[Deliver]:
        """One SMTP connection for many messages."""
        try:
            client = self.connect()
        except (OSError, smtplib.SMTPException) as error:
            raise classify(error) from error
        try:
            yield lambda name, envelope, raw: send(client, envelope, raw)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()
            client.close()

    def connect(self) -> smtplib.SMTP:
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname="localhost")
        try:
            if self.starttls:
                client.starttls(context=ssl.create_default_context(cafile=self.cafile))
            if self.login:
                client.login(*self.login)
        except BaseException:
            client.close()
            raise
        return client


def send(client: smtplib.SMTP, envelope: Envelope, raw: bytes) -> None:
    options = [] if all(a.isascii() for a in envelope.rcpt_tos) else ["SMTPUTF8"]
    try:
        client.sendmail(envelope.mail_from, list(envelope.rcpt_tos), raw, mail_options=options)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
        raise classify(error) from error          # sendmail has reset the session; the next message may go
    except (OSError, smtplib.SMTPException) as error:
        raise ConnectionLost(f"{type(error).__name__}: {error}") from error


def classify(error: Exception) -> Exception:
    """A relay's answer as permanent (5xx) or temporary (4xx, network, anything else)."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = min(c for c, _ in error.recipients.values())
    kind = PermanentFailure if isinstance(code, int) and 500 <= code < 600 else TemporaryFailure
    return kind(f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class Outbox:
    """Replies as files, for running without a mail server: `<directory>/<key>.eml`."""

    directory: Path

    def describe(self) -> str:
        return f"outbox {self.directory}"

    @contextlib.contextmanager
    def session(self) -> Iterator[Deliver]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TemporaryFailure(str(error)) from error
        yield self.write

    def write(self, name: str, envelope: Envelope, raw: bytes) -> None:
        try:
            write_durably(self.directory / f"{name}.eml", raw,
                          self.directory / f".{name}.{secrets.token_hex(4)}.tmp")
        except OSError as error:
            raise TemporaryFailure(str(error)) from error
