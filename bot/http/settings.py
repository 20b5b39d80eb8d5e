"""The HTTP server's settings: plain data that `bot.config` builds from our flags and variables.

One server answers Slack's HTTP mode, the /v1 API, /metrics and the health
checks. An API key is kept only as the sha256 of its text, so neither a
Settings nor its repr can leak one; `key_file` and `environment_keys` read
the two ways an owner gives keys (a file of digests, or the keys themselves
in the environment), and what they refuse never quotes a key or a digest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")
DIGEST = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class ApiKey:
    """Who may call the API: a name people and logs use, the sha256 (hex) of the key, the models it may use."""

    name: str
    digest: str = field(repr=False)
    models: frozenset[str] = frozenset()        # empty: every model

    def may_use(self, model: str) -> bool:
        return not self.models or model.lower() in {m.lower() for m in self.models}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3000                            # 0 picks a free one
    workers: int = 1                            # processes serving the port side by side
    keys: tuple[ApiKey, ...] = ()               # none: the API answers loopback clients only
    rate: tuple[int, float] = (600, 60.0)       # requests per key and period, across replicas; 0 for no limit
    max_body_bytes: int = 1 * MIB               # a JSON request
    max_rows: int = 1000                        # rows per predict request
    max_upload_bytes: int = 100 * MIB           # a batch's uploaded file
    cors_origins: tuple[str, ...] = ()          # none: no CORS headers at all
    batch_input: Path | None = None             # the directory a batch may name its input file under
    batch_output: Path = Path("var/batches")    # where batch results are written
    batch_tick: float = 5.0                     # seconds between looks for batches that are due

    @property
    def keyed(self) -> bool:
        """With keys every API request needs one; without, the API answers this machine's requests only."""
        return bool(self.keys)


def key_file(text: str) -> tuple[ApiKey, ...]:
    """The keys of an --api-keys file: a line per key, `NAME SHA256 [MODEL,MODEL...]`, `#` comments, blank lines.

    A line that is not one raises ValueError naming its number, never its text: it may hold a key's digest, or a
    key pasted by mistake where its digest belongs."""
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) not in (2, 3):
            raise ValueError(f"line {number}: expected NAME SHA256 [MODEL,MODEL...], got {len(fields)} fields")
        name, digest = fields[0], fields[1]
        if not NAME.fullmatch(name):
            raise ValueError(f"line {number}: a key's name is letters, digits and _ . @ -")
        if not DIGEST.fullmatch(digest):
            raise ValueError(f"line {number}: the second field must be the key's sha256, 64 hex digits "
                             "(`printf %s KEY | sha256sum`), not the key itself")
        keys.append(ApiKey(name, digest.lower(), models(fields[2].split(",") if len(fields) == 3 else ())))
    return unique(keys)


def environment_keys(text: str) -> tuple[ApiKey, ...]:
    """The keys of $PREDBOT_API_KEYS: `NAME=KEY` comma-separated, a key restricted as `NAME=KEY:MODEL+MODEL`.

    A key has no `,` or `:` in it; what is kept is its sha256. A malformed entry raises ValueError naming its
    position and name, never its key."""
    keys = []
    for number, entry in enumerate(text.split(","), 1):
        if not entry.strip():
            continue
        name, equals, rest = entry.strip().partition("=")
        key, _, allowed = rest.partition(":")
        name, key = name.strip(), key.strip()
        if not equals or not NAME.fullmatch(name):
            raise ValueError(f"entry {number}: expected NAME=KEY or NAME=KEY:MODEL+MODEL, where a name is letters, "
                             "digits and _ . @ -")
        if not key:
            raise ValueError(f"entry {number} ({name}): the key is empty")
        keys.append(ApiKey(name, hashlib.sha256(key.encode()).hexdigest(), models(allowed.split("+"))))
    return unique(keys)


def models(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.strip() for name in names if name.strip())


def unique(keys: Iterable[ApiKey]) -> tuple[ApiKey, ...]:
    """The keys, refusing two of one name: logs, the store's rate limits and predictions know a key by its name."""
    found: dict[str, ApiKey] = {}
    for key in keys:
        if key.name.lower() in found:
            raise ValueError(f"two keys are named {key.name!r}; each needs a name of its own")
        found[key.name.lower()] = key
    return tuple(found.values())
