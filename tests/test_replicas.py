"""Several `predbot serve` replicas in Slack's HTTP mode, as real processes behind no balancer but the test, on one
PostgreSQL store: a Slack event and its retries, split between them, are answered once; a replica killed right
after its ack leaves the answer to another, or to itself restarted."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from doubles.loop import LoopThread, wait_until
from doubles.serve import Serve
from doubles.slack import FakeSlack, signed

SECRET = "replica-signing-secret"
LEASE = "2"                 # seconds; what a killed replica's answer waits before another takes it over
SLACK_URL = "in HTTP mode at "


class Replica(Serve):
    @property
    def events_url(self) -> str:
        return self.slack_line.split(SLACK_URL, 1)[1].strip()

    def post(self, body: str, retry: int = 0) -> int:
        """Deliver an Events API body as Slack does (signed anew each time; retries say which they are)."""
        headers = {"Content-Type": "application/json", **signed(SECRET, body)}
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        request = urllib.request.Request(self.events_url, body.encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    loop, slack = LoopThread(), FakeSlack()
    loop.run(slack.start())
    yield slack
    loop.run(slack.stop())
    loop.close()


@pytest.fixture
def replica(demo_dir: Path, tmp_path: Path, fake: FakeSlack, postgres_url: str) -> Iterator[Callable[[str], Replica]]:
    """`replica(name)` starts `predbot serve` with its own spool and port, on the test's PostgreSQL database."""
    from tests.doubles.postgres import fresh_database

    started: list[Replica] = []
    with fresh_database(postgres_url) as url:

        def start(name: str) -> Replica:
            server = Replica(demo_dir, tmp_path / name, "--slack-port", "0", "--store", url, "--slack-lease", LEASE,
                             env=fake.env(SLACK_SIGNING_SECRET=SECRET))
            server.slack_line = server.wait_for(SLACK_URL)
            started.append(server)
            return server

        yield start
        for server in started:
            server.close()


def mention(fake: FakeSlack, text: str, ts: str) -> str:
    return json.dumps(fake.event({"type": "app_mention", "text": f"<@UBOT> {text}", "user": "U1", "channel": "C1",
                                  "ts": ts}))


def answers_in(fake: FakeSlack, ts: str) -> list:
    return [call for call in fake.calls_to("chat.postMessage") if call.body.get("thread_ts") == ts]


def test_an_event_and_its_retries_split_between_two_replicas_are_answered_once(replica, fake):
    first, second = replica("a"), replica("b")
    ts = "1712000000.000100"
    body = mention(fake, "predict: age=45, income=60000", ts)
    deliveries = [(first, 0), (second, 1), (first, 2), (second, 3)]
    with ThreadPoolExecutor(len(deliveries)) as pool:
        statuses = list(pool.map(lambda delivery: delivery[0].post(body, delivery[1]), deliveries))
    assert statuses == [200] * len(deliveries), "every delivery is acknowledged, answered or not"
    [answer] = fake.wait_until(lambda calls: answers_in(fake, ts) or None, what="the answer")
    assert "for age=45, income=60000" in json.dumps(answer.body["blocks"])
    # the three deliveries not answered say so, whichever replica they reached: nothing else is on its way
    wait_until(lambda: first.count("dropping the repeat") + second.count("dropping the repeat") == 3, timeout=20)
    assert len(answers_in(fake, ts)) == 1


@pytest.mark.parametrize("finisher", ["the other replica", "the same replica, restarted"])
def test_a_replica_killed_right_after_its_ack_leaves_the_answer_to_be_finished_once(replica, fake, finisher):
    doomed = replica("a")
    other = replica("b") if finisher == "the other replica" else None
    ts = "1712000000.000200"
    fake.hold_next("chat.postMessage")      # the answer is on its way to Slack when the replica dies
    assert doomed.post(mention(fake, "predict: age=45, income=60000", ts)) == 200
    fake.wait_for("held:chat.postMessage", where=lambda call: call.body.get("thread_ts") == ts)
    doomed.process.kill()
    doomed.process.wait(10)
    assert not answers_in(fake, ts)
    finishing = other or replica("a")       # the same spool and data as the one killed
    [answer] = fake.wait_until(lambda calls: answers_in(fake, ts) or None, timeout=30, what="the finished answer")
    finishing.wait_for("acknowledged by a replica that stopped before answering it (attempt 1)")
    assert answer.body["channel"] == "C1" and "for age=45, income=60000" in json.dumps(answer.body["blocks"])
    assert len(answers_in(fake, ts)) == 1
