"""Slash commands over loopback: predbot's Slack app vs the classic Flask `predict_proba` tutorial.

Both get the same validly signed `/predict age=45, income=60000` requests for
the same churn model, from 1, 10 and 50 concurrent people who each send the
next command once the last one is answered, in one run. predbot acks
first, then parses, validates, scores with SHAP drivers and answers through
the response_url (a local fake of Slack records when the answer lands). The
tutorial app checks the signature, calls `predict_proba` and answers in the
HTTP response itself, so its ack is its answer (and it would blow Slack's 3 s
rule as soon as scoring is slow). Each level is bounded in count and time.

Each server runs in its own process, as in production: predbot is `predbot
serve` in HTTP mode (pointed at the fake Slack, no rate limit, its store under
a temporary directory), the tutorial is this module's `--serve-tutorial` on
werkzeug's threaded server. The clients (aiohttp, one loop) and the fake Slack
(another loop thread) share this process, so their CPU time is not the
server's, though all of them still share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import aiohttp
import numpy as np
import pandas as pd
from flask import Flask, jsonify, request
from slack_sdk.signature import SignatureVerifier
from werkzeug.serving import make_server

from bench import targets
from bench.common import demo_registry, percentile
from bench.servers import Server, predbot_serve
from doubles.loop import LoopThread
from doubles.slack import Call, FakeSlack, signed

SECRET = "bench-signing-secret"
TEXT = "age=45, income=60000"
LEVELS = (1, 10, 50)
ACK_TARGET_MS = 100         # at 50 concurrent (issue 13)
PREDBOT_READY = " in HTTP mode at "          # `predbot serve`'s line for Slack, then its URL
TUTORIAL_READY = "tutorial: serving at "


@dataclass
class Run:
    name: str
    concurrency: int
    seconds: float = 0.0
    acks: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0


def tutorial(model) -> Flask:
    """The classic tutorial: parse `k=v` pairs, one DataFrame row, predict_proba, answer in the response."""
    app = Flask("tutorial")
    verifier = SignatureVerifier(os.environ["SLACK_SIGNING_SECRET"])

    @app.post("/slack/predict")
    def predict():
        if not verifier.is_valid_request(request.get_data(), dict(request.headers)):
            return "invalid signature", 401
        pairs = dict(part.strip().split("=", 1) for part in request.form["text"].split(","))
        row = {name: float(pairs[name]) if name in pairs else np.nan for name in model.schema.names}
        probabilities = model.estimator.predict_proba(pd.DataFrame([row]))[0]
        best = int(np.argmax(probabilities))
        return jsonify(response_type="ephemeral", text=f"{model.labels[best]} ({probabilities[best]:.0%})")

    return app


def serve_tutorial() -> None:
    """The tutorial on a free port with werkzeug's threaded server until SIGTERM: what `--serve-tutorial` runs, in a
    process of its own. It says where on stderr, as `predbot serve` does."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)       # no line per request
    server = make_server("127.0.0.1", 0, tutorial(demo_registry().get("churn")), threaded=True)
    print(f"{TUTORIAL_READY}http://127.0.0.1:{server.server_port}/slack/predict", file=sys.stderr, flush=True)
    server.serve_forever()


@contextmanager
def servers(fake: FakeSlack, data: str) -> Iterator[dict[str, str]]:
    """predbot's Slack app (pointed at the fake) and the tutorial, each in its own process: the URL of each."""
    with (predbot_serve(data, "--slack-port", "0", "--slack-rate-limit", "0",
                        env=fake.env(SLACK_SIGNING_SECRET=SECRET), ready=PREDBOT_READY) as predbot,
          Server([sys.executable, "-m", "bench.slack_bench", "--serve-tutorial"], TUTORIAL_READY,
                 {**os.environ, "SLACK_SIGNING_SECRET": SECRET}) as flask):
        yield {"predbot": predbot.after(PREDBOT_READY), "tutorial": flask.after(TUTORIAL_READY)}


class Answers:
    """Futures on the bench's loop, resolved when the fake Slack records a response_url hit (on its own loop)."""

    def __init__(self, fake: FakeSlack) -> None:
        self.loop = asyncio.get_running_loop()
        self.waiting: dict[str, asyncio.Future] = {}
        self.fake = fake
        fake.listeners.append(self.arrived)

    def expect(self, url: str) -> asyncio.Future:
        self.waiting[urlsplit(url).path] = future = self.loop.create_future()
        return future

    def arrived(self, call: Call) -> None:
        if call.method == "response" and (future := self.waiting.pop(call.path, None)):
            self.loop.call_soon_threadsafe(future.set_result, call.at)

    def close(self) -> None:
        self.fake.listeners.remove(self.arrived)


async def load(url: str, run: Run, count: int, budget: float, fake: FakeSlack | None) -> None:
    """`count` commands from `run.concurrency` people, each sending the next once answered; at most `budget` s."""
    answers = Answers(fake) if fake else None
    queue = iter(range(count))
    start = time.perf_counter()

    async def person(session: aiohttp.ClientSession) -> None:
        for _ in queue:
            if time.perf_counter() - start > budget:
                return
            form = fake.command(TEXT) if fake else {"command": "/predict", "text": TEXT, "user_id": "U1"}
            answered = answers.expect(form["response_url"]) if answers else None
            body = urlencode(form)
            began = time.perf_counter()
            async with session.post(url, data=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", **signed(SECRET, body)}) as response:
                await response.read()
                assert response.status == 200, response.status
            run.acks.append(time.perf_counter() - began)
            run.answers.append((await asyncio.wait_for(answered, 60) if answered else time.perf_counter()) - began)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=run.concurrency)) as session:
        await asyncio.gather(*(person(session) for _ in range(run.concurrency)))
    run.seconds = time.perf_counter() - start
    if answers:
        answers.close()


def table(runs: list[Run]) -> str:
    lines = [f"{'concurrent':>10} {'app':<9} {'req/s':>8} {'ack p50':>9} {'ack p99':>9} "
             f"{'answer p50':>11} {'answer p99':>11} {'n':>5}"]
    for run in runs:
        ms = [percentile(s, q) * 1000 for s in (run.acks, run.answers) for q in (50, 99)]
        lines.append(f"{run.concurrency:>10} {run.name:<9} {run.rate:>8.1f} {ms[0]:>7.1f}ms {ms[1]:>7.1f}ms "
                     f"{ms[2]:>9.1f}ms {ms[3]:>9.1f}ms {len(run.answers):>5}")
    return "\n".join(lines)


def ratios(runs: list[Run]) -> str:
    lines = ["predbot / tutorial:"]
    for level in sorted({r.concurrency for r in runs}):
        ours, theirs = (next(r for r in runs if (r.concurrency, r.name) == (level, name))
                        for name in ("predbot", "tutorial"))
        lines.append(f"  {level:>2} concurrent: throughput x{ours.rate / theirs.rate:.2f}, "
                     f"ack p50 x{percentile(ours.acks, 50) / percentile(theirs.acks, 50):.2f}, "
                     f"answer p50 x{percentile(ours.answers, 50) / percentile(theirs.answers, 50):.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--requests", type=int, default=200, help="per level and app (default 200)")
    options.add_argument("--budget", type=float, default=15.0, help="seconds per level and app (default 15)")
    options.add_argument("--serve-tutorial", action="store_true", help=argparse.SUPPRESS)
    args = options.parse_args(argv)
    if args.serve_tutorial:
        serve_tutorial()
        return

    background = LoopThread()
    fake = FakeSlack()
    background.run(fake.start())
    runs = []
    try:
        with tempfile.TemporaryDirectory() as data, servers(fake, data) as urls:
            for level in LEVELS:
                for name, url in urls.items():
                    slack = fake if name == "predbot" else None
                    asyncio.run(load(url, Run(name, 1), 3, args.budget, slack))         # warm up
                    run = Run(name, level)
                    asyncio.run(load(url, run, max(args.requests, level), args.budget, slack))
                    runs.append(run)
    finally:
        background.run(fake.stop())
        background.close()
    print(f"/predict {TEXT!r} on churn over loopback, valid signatures, each server in its own process; "
          "answer = response_url hit at the fake (predbot) or HTTP response (tutorial)")
    print(table(runs))
    print(ratios(runs))
    busiest = max(runs, key=lambda run: (run.name == "predbot", run.concurrency))
    ack_p99 = percentile(busiest.acks, 99) * 1000
    targets.report(f"Slack slash commands, {busiest.concurrency} concurrent, ack p99", f"{ack_p99:.0f} ms",
                   f"< {ACK_TARGET_MS} ms", ack_p99 < ACK_TARGET_MS)


if __name__ == "__main__":
    main()
