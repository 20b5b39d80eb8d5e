"""`--workers N`: N-1 more processes serving the one HTTP port beside `predbot serve`'s own.

The main process binds the listening socket and runs everything (HTTP too,
mail, Socket Mode, the chat); each worker, a "spawn" process handed that
socket, loads the models and opens the store once and serves HTTP only: the
API and Slack's HTTP events. They need nothing else from each other:
everything replicas decide together is in the store. The kernel gives each
new connection to one of the processes accepting on the socket. A worker
that dies is logged and replaced; stopping sends each SIGTERM, and kills one
still running after STOP_SECONDS. A worker whose main process dies stops too.

Metrics are then kept in files under DATA/metrics (`use_directory`), so one
scrape of any process sums them all.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core import Bot
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"       # prometheus_client's own variable
STOP_SECONDS = 5.0          # within serve's STOP_SECONDS
RESTART_SECONDS = 1.0       # before a worker that died is replaced, so one that cannot start does not spin


def use_directory(directory: Path) -> None:
    """Metrics shared by every process, kept under `directory` (emptied first). Call it before prometheus_client is
    imported: it reads the variable once, then; workers inherit it."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS] = str(directory)


class Workers:
    """The worker processes, replaced when one dies until `stop`."""

    def __init__(self, config: Config, sock: socket.socket, count: int, metrics: Metrics) -> None:
        self.config, self.sock, self.count, self.metrics = config, sock, count, metrics
        self.spawning = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        self.stopping = False

    def start(self) -> None:
        for _ in range(self.count):
            self.spawn()

    def spawn(self) -> None:
        if self.stopping:
            return
        process = self.spawning.Process(target=work, args=(self.config, self.sock), name="predbot-http-worker")
        process.start()
        self.processes.append(process)
        asyncio.get_running_loop().add_reader(process.sentinel, self.ended, process)

    def ended(self, process: BaseProcess) -> None:
        asyncio.get_running_loop().remove_reader(process.sentinel)
        process.join()
        self.processes.remove(process)
        self.metrics.worker_stopped(process.pid)
        if not self.stopping:
            log.error("the HTTP worker %d ended (%s); starting another", process.pid, how_it_ended(process.exitcode))
            asyncio.get_running_loop().call_later(RESTART_SECONDS, self.spawn)

    def describe(self) -> str:
        return f"{self.count} HTTP worker processes"

    async def stop(self) -> None:
        """SIGTERM to each, then SIGKILL to any still running after STOP_SECONDS."""
        self.stopping = True
        running = list(self.processes)
        for process in running:
            process.terminate()
        await asyncio.to_thread(wait_for_all, running, STOP_SECONDS)
        for process in running:
            if process.is_alive():
                log.warning("the HTTP worker %d did not stop within %g s; killing it", process.pid, STOP_SECONDS)
                process.kill()


def wait_for_all(processes: list[BaseProcess], timeout: float) -> None:
    for process in processes:
        process.join(timeout)


def how_it_ended(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def work(config: Config, sock: socket.socket) -> None:
    """A worker process's life: HTTP only, on the socket the main process bound, until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.DEBUG if config.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from bot.cli import connect_store, load

    store = connect_store(config)
    try:
        sys.exit(asyncio.run(serve_http(load(config, store), config, sock)))
    finally:
        store.close()


async def serve_http(bot: Bot, config: Config, sock: socket.socket) -> int:
    from bot.answering import Answerer
    from bot.http.app import build_app
    from bot.http.context import Context
    from bot.http.server import HttpServer
    from bot.metrics import Metrics
    from bot.serve import batch_jobs
    from bot.slack import service as slack

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    loop.add_reader(multiprocessing.parent_process().sentinel, stopping.set)
    answerer = Answerer(bot, config.budget)
    metrics = Metrics(bot)
    http_mode = config.slack is not None and not config.slack.socket_mode     # Socket Mode is the main process's
    on_slack = await slack.launch(answerer, config.slack, bot.store.shared) if http_mode else None
    context = Context(answerer, bot.store.shared, config.http, metrics, slack=on_slack.app if on_slack else None,
                      jobs=batch_jobs(bot, config))      # for the API's routes; the main process runs them
    server = await HttpServer.start(metrics.measured(build_app(context)), config.http.host, config.http.port, sock)
    sampling = asyncio.create_task(metrics.sampling(), name="metrics sampling")
    print(f"predbot: HTTP worker {os.getpid()} serving", file=sys.stderr, flush=True)
    try:
        await stopping.wait()
    finally:
        sampling.cancel()
        await server.stop()
        if on_slack is not None:
            await on_slack.stop()
        answerer.close()
    return 0
