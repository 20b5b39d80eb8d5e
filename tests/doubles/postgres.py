"""A real PostgreSQL server for the tests and the benchmarks, on 127.0.0.1 in a temporary directory.

Debian keeps the server's programs in /usr/lib/postgresql/<version>/bin, off
PATH; `make tools` installs them (`apt-get install postgresql`). initdb
refuses to run as root, so as root (CI) the server runs as the `postgres`
user the package creates, in a directory it owns. Each server has its own
port and socket directory, so several runs on one machine never meet.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

MISSING = "PostgreSQL is not installed: `make tools` installs it (on Debian: apt-get install postgresql)"
FAST = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")   # tests need no durability


class PostgresMissing(RuntimeError):
    pass


def programs() -> Path:
    """The directory of the newest installed server's programs."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3].split(".")[0]))
    if found:
        return found[-1].parent
    if on_path := shutil.which("postgres"):
        return Path(on_path).resolve().parent
    raise PostgresMissing(MISSING)


@contextmanager
def running_postgres(durable: bool = False) -> Iterator[str]:
    """A server started for the block; yields the SQLAlchemy URL of a database on it. `durable` keeps
    PostgreSQL's own fsync settings (for benchmarks); tests turn them off."""
    bin_dir = programs()
    home = Path(tempfile.mkdtemp(prefix="predbot-pg-"))
    as_owner = owner_of(home)
    data, sockets, log = home / "data", home / "sockets", home / "server.log"
    try:
        run([*as_owner, "mkdir", str(sockets)])
        run([*as_owner, str(bin_dir / "initdb"), "-D", str(data), "-U", "predbot", "-A", "trust", "-E", "UTF8",
             "--locale=C", "--no-sync"])
        port = start(as_owner, bin_dir / "pg_ctl", data, sockets, log, "" if durable else FAST)
        try:
            server = f"postgresql+psycopg://predbot@127.0.0.1:{port}/postgres"
            yield create_database(server, "predbot")
        finally:
            run([*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(home, ignore_errors=True)


def owner_of(home: Path) -> list[str]:
    """The command prefix that runs a program as the server's owner: none, or runuser to `postgres` for root."""
    if os.geteuid() != 0:
        return []
    try:
        postgres = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresMissing(f"{MISSING}; it creates the `postgres` user that runs the server as root") from None
    os.chown(home, postgres.pw_uid, postgres.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def start(as_owner: list[str], pg_ctl: Path, data: Path, sockets: Path, log: Path, settings: str) -> int:
    """Start the server on a free loopback port; another is tried if one is taken between looking and binding."""
    for _ in range(3):
        port = free_port()
        options = f"-h 127.0.0.1 -p {port} -k {sockets} {settings}"
        started = subprocess.run([*as_owner, str(pg_ctl), "-D", str(data), "-l", str(log), "-o", options, "-w",
                                  "-t", "60", "start"], capture_output=True, text=True, check=False)
        if started.returncode == 0:
            return port
    raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log.read_text(errors='replace')[-2000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")


def create_database(url: str, name: str) -> str:
    """A new, empty database on the server `url` points at; its URL."""
    administer(url, f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    administer(url, f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)')


def administer(url: str, statement: str) -> None:
    """A statement that runs outside any transaction, on the server's `postgres` database."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A database of its own for one test on the session's server, dropped after it."""
    url = create_database(server_url, f"test_{uuid.uuid4().hex[:12]}")
    try:
        yield url
    finally:
        drop_database(url)
