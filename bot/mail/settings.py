"""The email channel's settings: plain data, and readers for the values people write in flags and variables.

`bot.config` builds a Settings from the command line and the environment;
`service.start` makes the listener, the TLS context and the transport from it.
Passwords are kept out of `repr`, so logging a Settings never leaks them.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.mail.addresses import AddressSet

BOT_ADDRESS = "predbot@localhost"      # the bot's address when none is given
UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
         "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Settings:
    spool: Path                                 # where accepted mail waits
    outbox: Path                                # without a relay, replies are written here as .eml files
    ours: AddressSet                            # the addresses and @domains we answer
    allowed: AddressSet                         # whose mail is answered; empty: everyone's
    host: str = "127.0.0.1"
    port: int = 8025                            # 0 picks a free one
    tls_cert: Path | None = None                # offer STARTTLS with this certificate (PEM)
    tls_key: Path | None = None
    login: tuple[str, str] | None = field(default=None, repr=False)    # require AUTH (after STARTTLS)
    max_message_bytes: int = 25 * 2**20
    rate: tuple[int, float] = (30, 3600.0)      # replies per address and period (seconds); 0 for no limit
    max_commands: int = 10
    workers: int = 4                            # mails answered at once
    keep_days: float = 30.0                     # how long answered Message-IDs are remembered
    relay_host: str | None = None
    relay_port: int = 25
    relay_starttls: bool = False
    relay_login: tuple[str, str] | None = field(default=None, repr=False)
    relay_cafile: str | None = None             # None: the system's CA certificates
    relay_attempts: int = 8                     # then the reply goes to dead/
    relay_backoff: float = 30.0                 # seconds before the first retry, doubling each time


def rate_limit(text: str) -> tuple[int, float]:
    """'30/hour', '5/10min', '0' (no limit) -> (replies, seconds)."""
    if text.strip() == "0":
        return 0, 1.0
    found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*", text.lower())
    if not found or found.group(3) not in UNITS:
        raise argparse.ArgumentTypeError(f"expected a count per period like 30/hour or 5/10min, got {text!r}")
    return int(found.group(1)), int(found.group(2) or 1) * UNITS[found.group(3)]


def address_list(text: str) -> str:
    """One flag value: an address, an @domain, or a comma-separated list of them."""
    try:
        AddressSet.parse([text])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text
