"""The email channel's flags and environment variables, and the settings they make."""

from __future__ import annotations

import argparse
import os
import re
import ssl
from dataclasses import dataclass
from pathlib import Path

from bot.mail.addresses import AddressSet
from bot.mail.outbound import Retry
from bot.mail.server import Listen
from bot.mail.transport import Outbox, Relay, Transport

UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
         "d": 86400, "day": 86400}


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and why."""


def rate_limit(text: str) -> tuple[int, float]:
    """'30/hour', '5/10min', '0' (no limit) -> (replies, seconds)."""
    if text.strip() == "0":
        return 0, 1.0
    found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*", text.lower())
    if not found or found.group(3) not in UNITS:
        raise argparse.ArgumentTypeError(f"expected a count per period like 30/hour or 5/10min, got {text!r}")
    return int(found.group(1)), int(found.group(2) or 1) * UNITS[found.group(3)]


def address_list(text: str) -> str:
    try:
        AddressSet.parse([text])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    add = parser.add_argument
    add("--smtp-host", default="127.0.0.1", help="address the SMTP server listens on (default 127.0.0.1)")
    add("--smtp-port", type=int, default=8025, help="SMTP port (default 8025; 0 picks a free one)")
    add("--bot-address", action="append", type=address_list, metavar="ADDRESS",
        help="address or @domain the bot answers; repeat or comma-separate (default predbot@localhost)")
    add("--smtp-tls-cert", metavar="FILE", help="certificate (PEM) to offer STARTTLS with")
    add("--smtp-tls-key", metavar="FILE", help="its private key (PEM)")
    add("--max-message-bytes", type=int, default=25 * 2**20, help="larger mail is refused with 552 (default 25 MiB)")
    add("--allow-senders", action="append", type=address_list, metavar="ADDRESS",
        help="answer only these addresses or @domains; others get no reply (default: everyone)")
    add("--rate-limit", type=rate_limit, default=rate_limit("30/hour"),
        help="replies per address and period, e.g. 30/hour or 5/10min; 0 for none (default 30/hour)")
    add("--max-commands", type=int, default=10, help="commands answered per mail (default 10)")
    add("--spool", type=Path, default=Path("var/spool"), help="where accepted mail waits (default var/spool)")
    add("--spool-keep-days", type=float, default=30.0,
        help="how long the record of answered mail is kept to stop duplicates (default 30)")
    add("--outbox", type=Path, default=Path("var/outbox"),
        help="without --relay-host, replies are written here as .eml files (default var/outbox)")
    add("--relay-host", help="SMTP relay that sends the replies")
    add("--relay-port", type=int, default=25, help="relay port (default 25)")
    add("--relay-starttls", action="store_true", help="use STARTTLS with the relay")
    add("--relay-cafile", metavar="FILE", help="CA certificates to verify the relay with (default: the system's)")
    add("--relay-attempts", type=int, default=8, help="delivery attempts before a reply goes to dead/ (default 8)")
    add("--relay-backoff", type=float, default=30.0,
        help="seconds before the first retry, doubling each time (default 30)")


@dataclass(frozen=True)
class Settings:
    listen: Listen
    ours: AddressSet
    allowed: AddressSet
    rate: tuple[int, float]
    max_commands: int
    spool: Path
    keep_seconds: float
    transport: Transport
    retry: Retry


def from_env(user_var: str, password_var: str) -> tuple[str, str] | None:
    user, password = os.environ.get(user_var), os.environ.get(password_var)
    return (user, password or "") if user else None


def settings(args: argparse.Namespace) -> Settings:
    """Settings from parsed flags; credentials only from the environment, so they never show in `ps`."""
    ours = AddressSet.parse(args.bot_address or ["predbot@localhost"])
    login = from_env("PREDBOT_SMTP_USER", "PREDBOT_SMTP_PASSWORD")
    tls = None
    if args.smtp_tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.smtp_tls_cert, args.smtp_tls_key)
    if login and tls is None:
        raise ConfigError("PREDBOT_SMTP_USER asks for SMTP AUTH, which needs STARTTLS: "
                          "give --smtp-tls-cert and --smtp-tls-key too")
    transport: Transport = Outbox(args.outbox)
    if args.relay_host:
        transport = Relay(args.relay_host, args.relay_port, args.relay_starttls,
                          from_env("PREDBOT_RELAY_USER", "PREDBOT_RELAY_PASSWORD"), args.relay_cafile)
    return Settings(
        listen=Listen(args.smtp_host, args.smtp_port, ours.any_domain(), args.max_message_bytes, tls, login),
        ours=ours, allowed=AddressSet.parse(args.allow_senders or []), rate=args.rate_limit,
        max_commands=args.max_commands, spool=args.spool, keep_seconds=args.spool_keep_days * 86400,
        transport=transport, retry=Retry(args.relay_attempts, args.relay_backoff))
