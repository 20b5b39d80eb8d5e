"""uvicorn serving the ASGI app inside `predbot serve`'s own event loop, beside mail and Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)

STOP_SECONDS = 2.0          # for requests in flight; answers being worked on have their own channels' drains


class HttpServer:
    """`await HttpServer.start(app, host, port)` listens (port 0 picks a free one; `.port` says which)."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task, host: str, port: int) -> None:
        self.server, self.task, self.host, self.port = server, task, host, port

    @classmethod
    async def start(cls, app: FastAPI, host: str, port: int, sock: socket.socket | None = None) -> HttpServer:
        """Serve `app` on host:port, or on `sock`, a listening socket shared with other processes."""
        config = uvicorn.Config(app, host=host, port=port, lifespan="off", access_log=False, log_config=None,
                                server_header=False, timeout_graceful_shutdown=STOP_SECONDS)
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None      # serve's loop has its own
        task = asyncio.create_task(server.serve(sockets=[sock] if sock else None), name="http server")
        while not server.started:
            if task.done():      # it could not listen: say why
                raise OSError(f"cannot listen on {host}:{port}") from task.exception()
            await asyncio.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        return cls(server, task, host, bound)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task
