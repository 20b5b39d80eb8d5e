"""Email channel fixtures: a capturing relay sink, the service on a free port (over the test's own `shared`, from
tests/conftest.py), a TLS certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from doubles.mail import ServiceThread, Sink


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    assert shutil.which("openssl"), "openssl is needed: `make test` installs it"
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="session")
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def sink():
    sink = Sink()
    yield sink
    sink.close()


@pytest.fixture(scope="session")
def answerer(registry):
    """The Bot behind its scoring pool and time budget, as `predbot serve` gives it to the channels."""
    from bot.answering import Answerer
    from bot.core import Bot

    answerer = Answerer(Bot(registry))
    yield answerer
    answerer.close()


@pytest.fixture
def serve(answerer, sink, shared, tmp_path):
    """Start the mail service with extra flags; replies go to `sink` unless --outbox is given."""
    started = []

    def start(*flags: str) -> ServiceThread:
        relay = [] if "--outbox" in flags else ["--relay-host", "127.0.0.1", "--relay-port", str(sink.port)]
        service = ServiceThread(answerer, ["--smtp-port", "0", "--spool", str(tmp_path / "spool"),
                                           "--rate-limit", "0", "--relay-backoff", "0.05", *relay, *flags], shared)
        started.append(service)
        return service

    yield start
    for service in started:
        service.close()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unreachable(unused_port):
    """State shared in a store that cannot be reached: a PostgreSQL server where none listens."""
    from bot.store.engine import connect
    from bot.store.shared import Shared

    engine = connect(f"postgresql://predbot@127.0.0.1:{unused_port}/predbot")
    yield Shared(engine)
    engine.dispose()
