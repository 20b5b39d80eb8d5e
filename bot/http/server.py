"""uvicorn serving the ASGI app inside `predbot serve`'s own event loop, beside mail and Socket Mode.

We bind the listening socket ourselves (`listening`), so a port in use is an
OSError for `serve` to turn into one line, and so `--workers` can hand the
same socket to other processes. uvicorn's `Server.serve` would take SIGINT
and SIGTERM for itself with `signal.signal` and stop the HTTP server alone;
`Server` here leaves them to serve's loop, which stops every channel in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)

STOP_SECONDS = 2.0          # for requests in flight; answers being worked on have their own channels' drains
BACKLOG = 2048


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Signals are serve's (and a worker's) own loop's: they stop everything, this server among them."""
        yield


def listening(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0 picks a free one); OSError when it cannot, e.g. the port is taken.

    Made with its protocol named, IPPROTO_TCP: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    connections of such a socket, and with it on, a response written in two parts waits for the client's delayed
    ACK, 40 ms a request."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class HttpServer:
    """`await HttpServer.start(app, host, port)` listens (port 0 picks a free one; `.port` says which)."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task, host: str, port: int) -> None:
        self.server, self.task, self.host, self.port = server, task, host, port

    @classmethod
    async def start(cls, app: ASGIApp, host: str, port: int, sock: socket.socket | None = None) -> HttpServer:
        """Serve `app` on host:port, or on `sock`, a listening socket shared with other processes; OSError when it
        cannot listen."""
        sock = sock or listening(host, port)
        config = uvicorn.Config(app, lifespan="off", access_log=False, log_config=None, server_header=False,
                                timeout_graceful_shutdown=STOP_SECONDS, backlog=BACKLOG)
        server = Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="http server")
        while not server.started:
            if task.done():      # it could not serve on the socket: say why
                raise OSError(f"cannot serve HTTP on {host}:{port}") from task.exception()
            await asyncio.sleep(0.01)
        return cls(server, task, host, sock.getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def describe(self) -> str:
        return f"HTTP on {self.url}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task
