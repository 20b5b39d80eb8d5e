"""What `predbot serve` counts and times, for Prometheus to scrape at /metrics.

Measured where it happens, never estimated:

    predbot_answers_total{medium,command,status}        every command the core answered (Bot.observers)
    predbot_stage_seconds{stage}                         parse, score, total: the core's own timings of each answer
                                                         (rendering and the store's writes are not timed per answer:
                                                         the HTTP request time holds the API's rendering)
    predbot_http_requests_total{route,method,status}     every HTTP request, by its route's template
    predbot_http_request_seconds{route,method}           from its first byte read to its last byte sent
    predbot_process_http_requests[{pid}]                 requests each serving process answered (with --workers,
                                                         one series per live process: how evenly they share)
    predbot_model_info{model,version}                    1 for each model version serving (0 once replaced)
    predbot_mail_spool{stage}                            mail waiting in the spool: incoming, outgoing
    predbot_store_queue                                  predictions waiting for the store's writer
    predbot_store_entries{outcome}                       the writer's recorded, dropped, failed, retried

The gauges are read when a scrape comes and every SAMPLE_SECONDS, so with
several worker processes (`--workers`) each has its own. Then the counters,
histograms and gauges live in files under PROMETHEUS_MULTIPROC_DIR, which
must be set before prometheus_client is first imported
(`bot.http.workers.use_directory`), and one scrape of any worker sums them. Imported by `serve` and the HTTP app only:
`predbot --help` never loads prometheus_client.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

from bot.http.workers import MULTIPROCESS

if TYPE_CHECKING:
    from bot.core import Bot, Observation
    from bot.mail.spool import Spool
    from bot.store import Store
    from scoring.registry import Registry

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 5.0
UNMATCHED = "unmatched"         # requests no route took: one label, whatever the path, so no one can grow the series

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


def multiprocessing() -> bool:
    """Whether this process writes its values for a scrape that sums every worker's."""
    return bool(os.environ.get(MULTIPROCESS))


class Metrics:
    """One per process: the metrics above, and what the gauges are read from."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, bot: Bot, spool: Spool | None = None) -> None:
        self.registry: Registry = bot.registry
        self.store: Store | None = bot.store
        self.spool = spool
        self.own = CollectorRegistry()
        self.answers = Counter("predbot_answers", "Commands answered, by medium, command and reply status",
                               ["medium", "command", "status"], registry=self.own)
        self.stages = Histogram("predbot_stage_seconds", "Seconds each stage of an answer took",
                                ["stage"], registry=self.own)
        self.requests = Counter("predbot_http_requests", "HTTP requests, by route template, method and status",
                                ["route", "method", "status"], registry=self.own)
        self.request_seconds = Histogram("predbot_http_request_seconds", "Seconds an HTTP request took",
                                         ["route", "method"], registry=self.own)
        self.answered = Gauge("predbot_process_http_requests", "HTTP requests this process answered",
                              registry=self.own, multiprocess_mode="liveall")
        self.models = Gauge("predbot_model_info", "1 for each model version serving, 0 once replaced",
                            ["model", "version"], registry=self.own, multiprocess_mode="livemax")
        self.spooled = Gauge("predbot_mail_spool", "Mail waiting in the spool, by stage", ["stage"],
                             registry=self.own, multiprocess_mode="mostrecent")
        self.queue = Gauge("predbot_store_queue", "Predictions waiting for the store's writer",
                           registry=self.own, multiprocess_mode="livesum")
        self.entries = Gauge("predbot_store_entries", "What the store's writer did with entries, by outcome",
                             ["outcome"], registry=self.own, multiprocess_mode="livesum")
        self.shown: set[tuple[str, str]] = set()
        bot.observers.append(self.observe)

    def observe(self, observation: Observation) -> None:
        """Bot.observers: one command answered."""
        self.answers.labels(observation.medium, observation.command, observation.status).inc()
        for stage, seconds in observation.seconds.items():
            self.stages.labels(stage).observe(seconds)

    def sample(self) -> None:
        """Read the gauges: the models serving, the spool, the store's writer."""
        serving = {(model.name, model.version) for model in self.registry.models()}
        for gone in self.shown - serving:
            self.models.labels(*gone).set(0)
        for current in serving:
            self.models.labels(*current).set(1)
        self.shown |= serving
        if self.spool is not None:
            self.spooled.labels("incoming").set(len(self.spool.incoming()))
            self.spooled.labels("outgoing").set(len(self.spool.outgoing()))
        if self.store is not None:
            self.queue.set(self.store.waiting)
            for outcome, count in self.store.stats.items():
                self.entries.labels(outcome).set(count)

    async def sampling(self) -> None:
        """Sample now and then, so a scrape answered by another process sees this one's gauges too."""
        while True:
            await asyncio.to_thread(self.sample_or_log)
            await asyncio.sleep(SAMPLE_SECONDS)

    def sample_or_log(self) -> None:
        try:
            self.sample()
        except Exception:  # noqa: BLE001 - a gauge that cannot be read must not stop the others, or serving
            log.exception("could not read the metrics' gauges")

    def exposition(self) -> bytes:
        """The scrape: this process's metrics, or with workers every process's, summed."""
        self.sample_or_log()
        if not multiprocessing():
            return generate_latest(self.own)
        every = CollectorRegistry()
        multiprocess.MultiProcessCollector(every)
        return generate_latest(every)

    def measured(self, app: Asgi) -> Asgi:
        """`app` as an ASGI app whose HTTP requests are counted and timed by their route's template."""

        async def measuring(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started, status = time.perf_counter(), 500

            async def sending(message: dict) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                route = getattr(scope.get("route"), "path", UNMATCHED)
                self.requests.labels(route, scope["method"], str(status)).inc()
                self.request_seconds.labels(route, scope["method"]).observe(time.perf_counter() - started)
                self.answered.inc()

        return measuring

    def worker_stopped(self, pid: int) -> None:
        """A worker process has ended: its live gauges no longer count (its counters still do)."""
        if multiprocessing():
            multiprocess.mark_process_dead(pid)
