"""Sets of mail addresses written as `name@host` or whole domains as `@host`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def normalize(address: str) -> str:
    """An address as compared here: no angle brackets or spaces, lower case.

    Local parts are case-sensitive in theory and never in practice; comparing
    them exactly would let `PredBot@` slip past the loop guard.
    """
    return address.strip().strip("<>").strip().lower()


@dataclass(frozen=True)
class AddressSet:
    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, values: Iterable[str]) -> AddressSet:
        """From flag values, each one address or domain or a comma-separated list of them."""
        items = [normalize(item) for value in values for item in value.split(",") if item.strip()]
        bad = [item for item in items if "@" not in item]
        if bad:
            raise ValueError(f"not an address or @domain: {', '.join(bad)}")
        return cls(frozenset(i for i in items if not i.startswith("@")),
                   frozenset(i[1:] for i in items if i.startswith("@")))

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        address = normalize(address)
        return address in self.addresses or address.rpartition("@")[2] in self.domains

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains)

    def __str__(self) -> str:
        return ", ".join(sorted(self.addresses) + sorted(f"@{d}" for d in self.domains))

    def any_domain(self) -> str:
        """A domain of ours, for Message-IDs and the SMTP greeting."""
        return next(iter(sorted(self.domains)), None) or \
            next((a.rpartition("@")[2] for a in sorted(self.addresses)), "localhost")
