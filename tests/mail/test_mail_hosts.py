"""Several hosts of one predbot, each with its own spool, sharing one store: a mail delivered to more than one
of them is answered once, and a sender's rate limit counts the replies of them all. On SQLite and on a real
PostgreSQL server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest
import shapes
from client import send

from bot.mail.spool import Spool, message_key
from bot.store import Store, open_store
from doubles.loop import wait_until
from doubles.mail import ServiceThread

ELSEWHERE = "answered by another host"


@pytest.fixture(params=["sqlite", "postgresql"])
def one_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store the hosts share: a new SQLite file, or a new database on the run's PostgreSQL server."""
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'shared.db'}")
        yield store
        store.close()
        return
    from tests.doubles.postgres import fresh_database

    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        store = open_store(url)
        yield store
        store.close()


@pytest.fixture
def hosts(answerer, sink, one_store, tmp_path):
    """Start `count` mail services on `one_store`, each with its own spool and port, all replying to `sink`."""
    started: list[ServiceThread] = []

    def start(count: int, *flags: str) -> list[ServiceThread]:
        for _ in range(count):
            spool = tmp_path / f"spool{len(started)}"
            started.append(ServiceThread(answerer, ["--smtp-port", "0", "--spool", str(spool), "--rate-limit", "0",
                                                    "--relay-host", "127.0.0.1", "--relay-port", str(sink.port),
                                                    "--relay-backoff", "0.05", *flags], one_store.shared))
        return started[-count:]

    yield start
    for service in started:
        service.close()


def files(service: ServiceThread, stage: str) -> list[Path]:
    return sorted((service.settings.spool / stage).iterdir())


def finished(service: ServiceThread) -> bool:
    """Whether every mail the host took is decided and every reply it queued delivered: incoming/ first, as a
    reply is queued before its mail leaves incoming/."""
    return not files(service, "incoming") and not files(service, "outgoing")


def test_the_same_mail_delivered_to_two_hosts_at_once_is_answered_once(hosts, sink, caplog):
    pair = hosts(2)
    raw = shapes.plain(message_id="<both@client.test>")
    together = Barrier(2)

    def deliver(host: ServiceThread) -> None:
        together.wait(10)
        send(host.port, raw)

    with caplog.at_level(logging.INFO, logger="bot.mail.worker"), ThreadPoolExecutor(2) as clients:
        list(clients.map(deliver, pair))                # raises what a client met
        wait_until(lambda: all(finished(host) for host in pair))
    [reply] = sink.received
    assert reply.in_reply_to == "<both@client.test>"
    assert sorted(len(files(host, "sent")) for host in pair) == [0, 1]
    assert not any(files(host, "settled") for host in pair)
    [dropped] = [r.getMessage() for r in caplog.records if ELSEWHERE in r.getMessage()]
    assert dropped.startswith("mail <both@client.test> is answered by another host")


def test_a_mail_one_host_answered_is_not_answered_by_another_later(hosts, sink, caplog):
    first, second = hosts(2)
    raw = shapes.plain(message_id="<once@client.test>")
    send(first.port, raw)
    sink.reply_to("<once@client.test>")
    with caplog.at_level(logging.INFO, logger="bot.mail.worker"):
        send(second.port, raw)
        send(second.port, shapes.plain(message_id="<next@client.test>"))
        sink.reply_to("<next@client.test>")            # mail is answered in arrival order: the copy's turn has passed
    assert [r.in_reply_to for r in sink.received] == ["<once@client.test>", "<next@client.test>"]
    assert [r.getMessage() for r in caplog.records if ELSEWHERE in r.getMessage()] == [
        "mail <once@client.test> is answered by another host; dropping this copy"]


def test_the_rate_limit_counts_the_replies_of_every_host(hosts, sink):
    first, second = hosts(2, "--rate-limit", "1/hour")
    send(first.port, shapes.plain(message_id="<r1@client.test>"))
    sink.reply_to("<r1@client.test>")
    send(second.port, shapes.plain(message_id="<r2@client.test>"))
    wait_until(lambda: finished(second))
    [settled] = files(second, "settled")
    assert settled.name == message_key("<r2@client.test>", b"")
    assert settled.read_text() == "rate limit of 1 replies per 3600s reached"
    assert not files(second, "sent") and [r.in_reply_to for r in sink.received] == ["<r1@client.test>"]


def test_a_host_still_answers_a_mail_it_claimed_before_a_restart(serve, shared, sink, tmp_path):
    """A claim made before a crash is the host's own after it; a claim of another host is not."""
    host = Spool(tmp_path / "spool").host                   # the spool `serve` starts on
    assert shared.claim(f"mail:{message_key('<mine@client.test>', b'')}", host, 3600)
    assert shared.claim(f"mail:{message_key('<theirs@client.test>', b'')}", "another host", 3600)
    service = serve()
    send(service.port, shapes.plain(message_id="<theirs@client.test>"))
    send(service.port, shapes.plain(message_id="<mine@client.test>"))
    sink.reply_to("<mine@client.test>")
    assert [r.in_reply_to for r in sink.received] == ["<mine@client.test>"]


def test_a_store_that_cannot_be_reached_costs_the_checks_not_the_answers(answerer, sink, unreachable, tmp_path,
                                                                          caplog):
    service = ServiceThread(answerer, ["--smtp-port", "0", "--spool", str(tmp_path / "spool"),
                                       "--rate-limit", "1/hour", "--relay-host", "127.0.0.1",
                                       "--relay-port", str(sink.port)], unreachable)
    try:
        with caplog.at_level(logging.WARNING):
            for n in (1, 2):
                send(service.port, shapes.plain(message_id=f"<down{n}@client.test>"))
                sink.reply_to(f"<down{n}@client.test>")
    finally:
        service.close()
    warnings = [r.getMessage().split(": the store cannot be reached")[0] for r in caplog.records
                if r.levelno == logging.WARNING]
    assert warnings == [f"answering mail <down{n}@client.test> {without}" for n in (1, 2)
                        for without in ("without the cross-host check", "from ann@example.com without the rate limit")]
