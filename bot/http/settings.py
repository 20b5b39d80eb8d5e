"""The HTTP server's settings: plain data that `bot.config` builds from our flags and variables.

One server answers Slack's HTTP mode, the /v1 API, /metrics and the health
checks. An API key is kept only as the sha256 of its text, so neither a
Settings nor its repr can leak one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024


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
