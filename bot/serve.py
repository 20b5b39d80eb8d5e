"""`predbot serve`: every configured channel in one asyncio loop.

Email always runs (replies go to an outbox directory when no relay is set);
so does the HTTP server (the API, /metrics, the health checks, and Slack's
events in HTTP mode; with `--workers N`, N processes share its port: see
bot.http.workers); Slack runs when its tokens are in the environment; the
terminal chat joins when stdin is a terminal. On start it says, one stderr line per channel,
which run and where, and what would turn on the others. A watcher reloads
model files that change. All
channels share one Answerer: one pool of scoring threads and one time budget
per answer. Ctrl-C or SIGTERM stops them all within STOP_SECONDS; what was
half done waits in the spool. Then the store writes what the answers
recorded, within STORE_SECONDS (what it cannot write, it logs).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot.answering import Answerer
from bot.config import ConfigError
from bot.http import workers
from bot.http.app import build_app
from bot.http.context import Context
from bot.http.server import HttpServer, listening
from bot.mail import service as mail
from bot.slack import service as slack

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core import Bot
    from bot.jobs import Jobs
    from bot.store.shared import Shared

log = logging.getLogger(__name__)

STOP_SECONDS = 7.0          # for every channel to stop, side by side; SIGTERM to exit stays under 10 s
PRUNE_SECONDS = 600.0       # how often the store forgets what ran out
STORE_SECONDS = 2.0         # then for the store to write what is queued: 9 s in all
SLACK_OFF = ("set SLACK_BOT_TOKEN, with SLACK_APP_TOKEN for Socket Mode or SLACK_SIGNING_SECRET for HTTP mode "
             "(README: Slack)")


async def serve(bot: Bot, config: Config, chat: bool = True) -> int:
    """Serve until Ctrl-C or SIGTERM; with `chat`, the terminal chat joins when stdin is a terminal. The bot has
    a store: it is also where the channels share what replicas decide together."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    if config.http.workers > 1:
        workers.use_directory(config.data / "metrics")      # before prometheus_client is imported
    from bot.metrics import Metrics

    metrics = Metrics(bot)
    answerer = Answerer(bot, config.budget)
    jobs = batch_jobs(bot, config)
    watcher = bot.registry.watch(interval=2.0)      # model files are (re)loaded here, never by a request
    background = [asyncio.create_task(prune(bot.store.shared), name="store pruning"),
                  asyncio.create_task(metrics.sampling(), name="metrics sampling"),
                  asyncio.create_task(jobs.serve(config.http.batch_tick), name="batch jobs")]
    services = []
    try:
        # one by one, so a failure stops those started; replicas share the store's decisions
        services.append(on_mail := await mail.start(answerer, config.mail, bot.store.shared))
        metrics.spool = on_mail.spool
        say(f"serving {on_mail.describe()}")
        if (on_slack := await slack.start(answerer, config.slack, bot.store.shared)) is not None:
            services.append(on_slack)
        http_mode = on_slack if isinstance(on_slack, slack.HttpMode) else None
        services.extend(await start_http(Context(answerer, bot.store.shared, config.http, metrics, jobs=jobs),
                                         config, http_mode))
        say(f"serving {on_slack.describe()}" if on_slack is not None else f"not serving Slack: {SLACK_OFF}")
        say(f"serving {http_line(services[-1].url, config, http_mode)}")
        if not chat:
            say("not serving the terminal chat: --no-chat")
        elif not sys.stdin.isatty():
            say("not serving the terminal chat: stdin is not a terminal")
        else:
            say("serving the terminal chat here (Ctrl-D or `quit` ends it, and predbot with it)")
            threading.Thread(target=chat_then_stop, args=(bot, config, loop, stopping), daemon=True).start()
        await stopping.wait()
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)      # a batch run stops after its chunk
        watcher.stop(timeout=1.0)
        await stop_all(services)
        answerer.close()
        bot.store.close(STORE_SECONDS)
    return 0


def batch_jobs(bot: Bot, config: Config) -> Jobs:
    """The batch jobs of the store, which this process runs when they are due (so may any replica)."""
    from bot.jobs import Jobs

    return Jobs(bot.store, bot.registry, config.http.batch_input, config.http.batch_output)


async def start_http(context: Context, config: Config, http_mode: slack.HttpMode | None) -> list:
    """The HTTP server for `context`, on a socket bound here that `--workers` more processes share; a port in use
    is a ConfigError. The server comes last in the list: it says where it listens."""
    settings, metrics = config.http, context.metrics
    try:
        sock = listening(settings.host, settings.port)
    except OSError as error:
        why = os.strerror(error.errno) if error.errno else str(error)     # create_server's own text names the address
        raise ConfigError(f"HTTP: cannot listen on {settings.host}:{settings.port}: {why}") from None
    context.slack = http_mode.app if http_mode is not None else None
    server = await HttpServer.start(metrics.measured(build_app(context)), settings.host, settings.port, sock)
    if http_mode is not None:
        http_mode.served_at(server.url)
    if settings.workers == 1:
        return [server]
    more = workers.Workers(config, sock, settings.workers - 1, metrics)
    more.start()
    return [more, server]


def http_line(url: str, config: Config, http_mode: slack.HttpMode | None) -> str:
    """Where the HTTP server listens and what it serves, saying when the API is for this machine only."""
    settings = config.http
    keys = f"{len(settings.keys)} API key{'s' if len(settings.keys) != 1 else ''}"
    api = f"the API ({keys})" if settings.keyed else "the API (loopback only: no API keys configured)"
    processes = f" in {settings.workers} processes" if settings.workers > 1 else ""
    events = f"; Slack events at {slack.EVENTS_PATH}" if http_mode is not None else ""
    return f"HTTP on {url}{processes}: {api}, /metrics, /docs{events}"


async def prune(shared: Shared) -> None:
    """Now and then, let the store forget the deliveries and rate slots that ran out (no decision needs it)."""
    while True:
        try:
            await asyncio.to_thread(shared.prune)
        except SQLAlchemyError as error:
            log.warning("could not prune the store's shared state (%s); trying again later", type(error).__name__)
        await asyncio.sleep(PRUNE_SECONDS)


def say(line: str) -> None:
    """What serve is doing, for the operator: on stderr, so the chat's stdout stays the chat's."""
    print(f"predbot: {line}", file=sys.stderr, flush=True)


async def stop_all(services: list) -> None:
    """Stop the channels side by side, giving up on any still stopping after STOP_SECONDS."""
    if not services:
        return
    stops = {asyncio.create_task(service.stop()): service for service in services}
    _, late = await asyncio.wait(stops, timeout=STOP_SECONDS)
    for task in late:
        log.warning("%s did not stop within %g s; leaving it", stops[task].describe(), STOP_SECONDS)
        task.cancel()


def chat_then_stop(bot: Bot, config: Config, loop: asyncio.AbstractEventLoop, stopping: asyncio.Event) -> None:
    """The terminal chat, in a daemon thread so a blocked input() never holds up shutdown."""
    from bot.terminal import chat

    chat(bot, history=config.history, user=config.user)
    loop.call_soon_threadsafe(stopping.set)
