"""The durable spool: every hand-over between stages is a file renamed into a directory.

    tmp/        files being written; anything here after a crash is garbage
    incoming/   accepted mail, one file each, before any answer exists
    outgoing/   composed replies waiting for delivery, named by the inbound key
    sent/       delivered replies: with settled/, the record of what was answered
    settled/    mail deliberately left unanswered (loop guard, allow-list, rate limit)
    dead/       replies that could not be delivered
    failed/     mail whose answering failed twice, set aside for the bot's owner
    attempts/   per incoming mail, how many attempts at answering it were begun and not completed

An attempt is counted on disk before it begins and uncounted only by a
graceful stop, so a mail that kills the process, or raises, twice is set
aside instead of being tried forever.

A file is written, fsynced, renamed into place and its directory fsynced, so
after a crash or power loss it is either complete or absent. Only one process
may use a spool at a time (an flock on `lock`).

The spool is the host's own, as an MTA's queue is: what several hosts decide
together (which of them answers a mail, how many replies a sender may get)
lives in the store, where each host is known by the random id in `host`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

STAGES = ("tmp", "incoming", "outgoing", "sent", "settled", "dead", "failed", "attempts")


class SpoolBusy(RuntimeError):
    """Another process holds the spool."""


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    received: float = 0.0
    peer: str = ""


def message_key(message_id: str, raw: bytes) -> str:
    """What makes two deliveries the same mail: its Message-ID, else its exact bytes."""
    basis = f"message-id:{message_id.strip()}".encode() if message_id.strip() else b"raw:" + raw
    return hashlib.sha256(basis).hexdigest()[:40]


def write_durably(target: Path, data: bytes, tmp: Path, stamp: int | None = None) -> Path:
    """Write `tmp`, fsync it, rename it to `target`, fsync the directory: all or nothing, even on power loss.
    `stamp`, if given, is its modification time in nanoseconds."""
    with open(tmp, "xb") as file:
        file.write(data)
        file.flush()
        if stamp is not None:
            os.utime(file.fileno(), ns=(stamp, stamp))
        os.fsync(file.fileno())
    os.replace(tmp, target)
    fsync_dir(target.parent)
    return target


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for stage in STAGES:
            (self.root / stage).mkdir(parents=True, exist_ok=True)
        self._lock: int | None = None
        self._stamped = 0           # the newest reply's stamp: see queue_reply

    def lock(self) -> None:
        """Claim the spool for this process (released by the kernel when it dies) and clear tmp/."""
        fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SpoolBusy(f"another predbot is using the spool {self.root}") from None
        self._lock = fd
        for leftover in (self.root / "tmp").iterdir():
            leftover.unlink()
        for count in (self.root / "attempts").iterdir():     # of mail answered just before a crash
            if not (self.root / "incoming" / count.name).exists():
                count.unlink()

    @cached_property
    def host(self) -> str:
        """Who this spool's host is to the store: a random id made the first time it is asked for and kept in the
        spool, so that a restart is the same host and another spool another host."""
        path = self.root / "host"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            made = secrets.token_hex(16)
            write_durably(path, made.encode(), self.root / "tmp" / f"host.{secrets.token_hex(4)}")
            return made

    def unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def accept(self, envelope: Envelope, raw: bytes) -> Path:
        """Keep an inbound mail durably; the SMTP server says 250 only after this returns."""
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.msg"
        return self._write("incoming", name, pack(envelope, raw))

    def queue_reply(self, key: str, envelope: Envelope, raw: bytes) -> Path:
        """Queue a reply, stamped later than every reply queued before it (file times alone are as coarse as the
        kernel's clock tick, and two replies of one thread can be queued within one)."""
        self._stamped = max(time.time_ns(), self._stamped + 1)
        return self._write("outgoing", f"{key}.msg", pack(envelope, raw), self._stamped)

    def settle(self, key: str, why: str) -> None:
        self._write("settled", key, why.encode())

    def answered(self, key: str) -> bool:
        """Whether this mail was already answered or deliberately left unanswered."""
        return any((self.root / stage / name).exists() for stage, name in
                   (("outgoing", f"{key}.msg"), ("sent", f"{key}.msg"), ("dead", f"{key}.msg"),
                    ("settled", key)))

    def incoming(self) -> list[Path]:
        return sorted((self.root / "incoming").iterdir())

    def outgoing(self) -> list[Path]:
        """Replies waiting, in the order they were queued: one thread's replies go out in the order answered."""
        return sorted((self.root / "outgoing").iterdir(), key=queued_at)

    def attempts(self, path: Path) -> int:
        """How many attempts at answering this incoming mail were begun and not completed."""
        try:
            return int(self._count(path).read_bytes())
        except (FileNotFoundError, ValueError):
            return 0

    def begin(self, path: Path) -> int:
        """Count one more attempt at this incoming mail, on disk, before it starts; the count with it."""
        tries = self.attempts(path) + 1
        self._write("attempts", path.name, str(tries).encode())
        return tries

    def interrupted(self, path: Path) -> None:
        """A graceful stop cut the current attempt short: it does not count."""
        tries = self.attempts(path) - 1
        if tries > 0:
            self._write("attempts", path.name, str(tries).encode())
        else:
            self._count(path).unlink(missing_ok=True)

    def done(self, path: Path) -> None:
        """The incoming mail is answered (or deliberately not): forget it and its attempts."""
        path.unlink()
        fsync_dir(path.parent)
        self._count(path).unlink(missing_ok=True)

    def set_aside(self, path: Path) -> Path:
        """Keep an incoming mail that could not be answered in failed/, for the bot's owner."""
        kept = self.move(path, "failed")
        self._count(path).unlink(missing_ok=True)
        return kept

    def move(self, path: Path, stage: str) -> Path:
        """Move a file to another stage: `sent`, `dead` or `failed`."""
        target = self.root / stage / path.name
        os.replace(path, target)
        fsync_dir(target.parent)
        fsync_dir(path.parent)
        return target

    def prune(self, max_age: float) -> int:
        """Forget answers older than max_age seconds; their mail could then be answered again."""
        cutoff = time.time() - max_age
        old = [p for stage in ("sent", "settled") for p in (self.root / stage).iterdir()
               if p.stat().st_mtime < cutoff]
        for path in old:
            path.unlink()
        return len(old)

    def _count(self, path: Path) -> Path:
        """Where the attempts at an incoming mail are counted."""
        return self.root / "attempts" / path.name

    def _write(self, stage: str, name: str, data: bytes, stamp: int | None = None) -> Path:
        return write_durably(self.root / stage / name, data, self.root / "tmp" / f"{name}.{secrets.token_hex(4)}",
                             stamp)


def queued_at(path: Path) -> tuple[int, str]:
    """When a file was written (renaming it into its stage keeps that time), then its name. Only the spool's one
    process moves its files, so none goes while it is sorted."""
    return path.stat().st_mtime_ns, path.name


def pack(envelope: Envelope, raw: bytes) -> bytes:
    """One file per mail: the envelope as a JSON line, then the message exactly as received."""
    return json.dumps(asdict(envelope)).encode() + b"\n" + raw


def unpack(path: Path) -> tuple[Envelope, bytes]:
    head, _, raw = path.read_bytes().partition(b"\n")
    fields = json.loads(head)
    return Envelope(fields["mail_from"], tuple(fields["rcpt_tos"]), fields.get("received", 0.0),
                    fields.get("peer", "")), raw
