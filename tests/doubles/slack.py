"""A local stand-in for Slack, for tests and benchmarks.

One aiohttp server on 127.0.0.1 plays every part of Slack the bot talks to:
the Web API under /api/ (point SLACK_API_URL at `api_url`), response_urls,
file downloads and upload URLs, and the Socket Mode websocket that
apps.connections.open hands out. Every request is recorded as a Call (a file
upload's three calls are joined back into one `Upload` by `uploads`), and
`wait_for` blocks (from any thread) until a matching one arrives, so tests
wait on what Slack received instead of sleeping. Like Slack, it rejects a bad
token, and blocks that break Block Kit's limits (`invalid_blocks`).

It also builds what Slack sends: slash-command, button and Events API
payloads, and the signature headers for delivering them over HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")
BOT_USER = "UBOT"
TEAM = "TFAKE"
# Slack's own limits, stated here independently of the renderer so the fake can catch it out.
SLACK_MAX_BLOCKS, SLACK_MAX_TEXT, SLACK_MAX_FIELD, SLACK_MAX_FIELDS = 50, 3000, 2000, 10


@dataclass(frozen=True)
class Call:
    method: str                    # a Web API method, or "response", "download", "upload", "socket.ack"
    body: dict[str, Any]
    path: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    at: float = 0.0                # time.perf_counter() when it arrived
    answer: Mapping[str, Any] = field(default_factory=dict)   # what the fake answered a Web API call


@dataclass(frozen=True)
class Upload:
    """A file uploaded with files_upload_v2, as Slack put it together: where it went, its names and content."""

    channel: str
    thread_ts: str | None
    filename: str
    title: str
    alt_txt: str | None
    content: bytes


class FakeSlack:
    def __init__(self, bot_token: str = "xoxb-fake", app_token: str = "xapp-fake") -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.calls: list[Call] = []
        self.listeners: list[Callable[[Call], None]] = []     # told of each call, on the fake's loop
        self.files: dict[str, tuple[dict, bytes]] = {}
        self.failures: dict[str, str] = {}
        self.holding: set[str] = set()
        self.stopping: asyncio.Event | None = None
        self.changed = threading.Condition()
        self.sockets: list[web.WebSocketResponse] = []
        self.counter = itertools.count(1)
        self.root = ""
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.stopping = asyncio.Event()
        server = web.Application()
        server.add_routes([web.route("*", "/api/{method}", self.web_api), web.post("/respond/{n}", self.response),
                           web.get("/files/{id}/{name}", self.download), web.post("/upload/{id}", self.upload),
                           web.get("/socket", self.socket)])
        self.runner = web.AppRunner(server, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.root = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        self.stopping.set()
        for ws in self.sockets:
            await ws.close()
        await self.runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.root}/api/"

    def env(self, **more: str) -> dict[str, str]:
        """The environment that points predbot at this fake."""
        return {"SLACK_BOT_TOKEN": self.bot_token, "SLACK_API_URL": self.api_url, **more}

    # --- what the test arranges ---------------------------------------------------------

    def response_url(self) -> str:
        return f"{self.root}/respond/{next(self.counter)}"

    def add_file(self, name: str, content: bytes, mimetype: str = "text/csv") -> dict:
        """Host a file and return its Slack file object, as a file_share event carries it."""
        file_id = f"F{next(self.counter):06d}"
        info = {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "filetype": name.rsplit(".")[-1],
                "size": len(content), "url_private_download": f"{self.root}/files/{file_id}/{name}"}
        self.files[file_id] = (info, content)
        return info

    def fail_next(self, method: str, error: str) -> None:
        self.failures[method] = error

    def hold_next(self, method: str) -> None:
        """Take the next call to `method` and never answer it (until the fake stops): it is recorded as
        `held:METHOD`, not as a call Slack acted on, as when its caller dies before Slack is done."""
        self.holding.add(method)

    # --- what the test checks -----------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self.changed:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, timeout: float = 20.0, where: Callable[[Call], bool] = lambda c: True,
                 **body: Any) -> Call:
        """The first call to `method` whose body has these values (and `where` holds), waiting if need be."""

        def found(calls: list[Call]) -> Call | None:
            return next((c for c in calls if c.method == method and where(c)
                         and all(c.body.get(k) == v for k, v in body.items())), None)

        return self.wait_until(found, timeout, f"{method} {body or ''}")

    def uploads(self) -> list[Upload]:
        """Every file uploaded and shared so far (files.getUploadURLExternal, the upload, then
        files.completeUploadExternal naming where), in the order they were shared."""
        with self.changed:
            calls = list(self.calls)
        asked = {c.answer["file_id"]: c.body for c in calls if c.method == "files.getUploadURLExternal"}
        content = {c.body["file_id"]: c.body["content"] for c in calls if c.method == "upload"}
        return [Upload(complete.body["channel_id"], complete.body.get("thread_ts"), asked[file["id"]]["filename"],
                       file.get("title", ""), asked[file["id"]].get("alt_txt"), content[file["id"]])
                for complete in calls if complete.method == "files.completeUploadExternal" and complete.answer["ok"]
                for file in json.loads(complete.body["files"])]

    def wait_for_upload(self, timeout: float = 20.0, where: Callable[[Upload], bool] = lambda u: True) -> Upload:
        """The first upload for which `where` holds, waiting if need be."""
        return self.wait_until(lambda _: next((u for u in self.uploads() if where(u)), None), timeout, "upload")

    def wait_until(self, ready: Callable[[list[Call]], T | None], timeout: float = 20.0, what: str = "") -> T:
        """Block the calling thread (never the fake's loop) until `ready(calls)` gives something."""
        with self.changed:
            if not self.changed.wait_for(lambda: ready(self.calls) is not None, timeout):
                seen = ", ".join(c.method for c in self.calls)
                raise TimeoutError(f"no {what or 'match'} within {timeout}s; Slack received: {seen}")
            return ready(self.calls)

    def record(self, call: Call) -> None:
        with self.changed:
            self.calls.append(call)
            self.changed.notify_all()
        for listener in self.listeners:
            listener(call)

    # --- what Slack sends -----------------------------------------------------------------

    def command(self, text: str, user: str = "U1", channel: str = "C1", **more: str) -> dict[str, str]:
        """A /predict slash-command payload (form fields over HTTP, JSON in Socket Mode)."""
        return {"command": "/predict", "text": text, "user_id": user, "user_name": "someone", "channel_id": channel,
                "team_id": TEAM, "response_url": self.response_url(), "trigger_id": "1.2.3", **more}

    def share_click(self, command: str, user: str = "U1", channel: str = "C1") -> dict:
        """A block_actions payload: the Share button on an ephemeral answer."""
        return self.click("share", command, user, channel)

    def click(self, action: str, value: str, user: str = "U1", channel: str = "C1", ephemeral: bool = True,
              message_ts: str = "1700000000.999999", thread_ts: str | None = None) -> dict:
        """A block_actions payload: a button clicked on an ephemeral answer, or on a message posted at
        `message_ts` (in the thread `thread_ts`, when given), which Slack then sends along."""
        container = {"type": "message", "channel_id": channel, "is_ephemeral": ephemeral}
        payload = {"type": "block_actions", "user": {"id": user, "username": "someone", "team_id": TEAM},
                   "team": {"id": TEAM}, "channel": {"id": channel}, "response_url": self.response_url(),
                   "trigger_id": "1.2.3", "container": container,
                   "actions": [{"type": "button", "action_id": action, "block_id": action, "value": value}]}
        if not ephemeral:
            container["message_ts"] = message_ts
            payload["message"] = {"type": "message", "ts": message_ts, "user": BOT_USER}
            if thread_ts:
                container["thread_ts"] = payload["message"]["thread_ts"] = thread_ts
        return payload

    def event(self, event: dict, event_id: str | None = None) -> dict:
        """An Events API event_callback payload."""
        return {"type": "event_callback", "team_id": TEAM, "api_app_id": "AFAKE", "event": event,
                "event_id": event_id or f"Ev{next(self.counter):08d}", "event_time": int(time.time())}

    # --- the server -------------------------------------------------------------------------

    async def web_api(self, request: web.Request) -> web.Response:
        method, at = request.match_info["method"], time.perf_counter()
        body = {**request.query, **await read_body(request)}
        if method in self.holding:
            self.holding.discard(method)
            self.record(Call(f"held:{method}", body, request.path, dict(request.headers), at))
            await self.stopping.wait()
            return web.json_response({"ok": False, "error": "fake_stopped"})
        token = self.app_token if method == "apps.connections.open" else self.bot_token
        if request.headers.get("Authorization") != f"Bearer {token}":
            answer = {"ok": False, "error": "invalid_auth"}
        elif error := self.failures.pop(method, None) or block_problem(body.get("blocks")):
            answer = {"ok": False, "error": error}
        else:
            answer = {"ok": True, **self.result(method, body)}
        self.record(Call(method, body, request.path, dict(request.headers), at, answer))
        return web.json_response(answer)

    def result(self, method: str, body: dict) -> dict:
        ts = f"1700000000.{next(self.counter):06d}"
        match method:
            case "auth.test":
                return {"user_id": BOT_USER, "user": "predbot", "bot_id": "BBOT", "team_id": TEAM, "team": "Fake"}
            case "chat.postMessage" | "chat.update":
                return {"channel": body.get("channel"), "ts": body.get("ts", ts), "message": body}
            case "chat.postEphemeral":
                return {"message_ts": ts}
            case "files.info":
                return {"file": self.files[body["file"]][0]}
            case "files.getUploadURLExternal":
                file_id = f"F{next(self.counter):06d}"
                return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
            case "files.completeUploadExternal":
                return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in json.loads(body["files"])]}
            case "conversations.open":
                return {"channel": {"id": f"D{body['users']}"}}
            case "apps.connections.open":
                return {"url": f"{self.root.replace('http', 'ws', 1)}/socket"}
        return {}

    async def response(self, request: web.Request) -> web.Response:
        self.record(Call("response", await request.json(), request.path, dict(request.headers), time.perf_counter()))
        return web.Response(text="ok")

    async def download(self, request: web.Request) -> web.Response:
        self.record(Call("download", {"id": request.match_info["id"]}, request.path, dict(request.headers)))
        if request.headers.get("Authorization") != f"Bearer {self.bot_token}":
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        info, content = self.files[request.match_info["id"]]
        return web.Response(body=content, content_type=info["mimetype"])

    async def upload(self, request: web.Request) -> web.Response:
        content = await request.read()
        self.record(Call("upload", {"file_id": request.match_info["id"], "content": content}, request.path))
        return web.Response(text=f"OK - {len(content)}")

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        self.record(Call("socket.connect", {}, request.path))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.record(Call("socket.ack", json.loads(message.data), request.path))
        return ws

    async def deliver(self, envelope: dict) -> None:
        """Send a Socket Mode envelope down the newest connection."""
        await self.sockets[-1].send_json(envelope)


def signed(secret: str, body: str | bytes, timestamp: int | str | None = None) -> dict[str, str]:
    """The headers Slack signs a request with; an old `timestamp` makes a stale request.

    Signs the bytes as sent, so bodies that are not UTF-8 can be signed too, and
    any `timestamp` text, so a forger's `abc` carries a signature that matches it.
    """
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


async def read_body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    return dict(await request.post())


def block_problem(blocks: Any) -> str | None:
    """Block Kit's limits, as Slack enforces them (`invalid_blocks`)."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not blocks:
        return None
    texts, fields = [], []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"].get("text"))
        texts += [e.get("text") for e in block.get("elements", ()) if e.get("type") == "mrkdwn"]
        fields.append([f.get("text") for f in block.get("fields", ())])
    broken = (len(blocks) > SLACK_MAX_BLOCKS
              or any(not t or len(t) > SLACK_MAX_TEXT for t in texts)
              or any(len(f) > SLACK_MAX_FIELDS or any(not t or len(t) > SLACK_MAX_FIELD for t in f) for f in fields))
    return "invalid_blocks" if broken else None
