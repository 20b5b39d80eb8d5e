"""`predbot serve` as a real process, for tests that need one: signals, kill -9, several replicas."""

from __future__ import annotations

import os
import queue
import smtplib
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from doubles.loop import wait_until

ROOT = Path(__file__).resolve().parents[2]


PORT_FLAGS = ("--port", "--slack-port")
HTTP_LINE = "predbot: serving HTTP on "


class Serve:
    """`predbot serve` with mail and HTTP on free ports (HTTP on the one given with --port, if any), its files
    (spool, outbox, store) under `where`, and no Slack variables but those in `env`; stderr is read line by line
    as it comes. With `terminal` (a pty's end) as stdin the chat joins; without, `--no-chat`."""

    def __init__(self, demo_dir: Path, where: Path, *flags: str, env: dict[str, str] | None = None,
                 terminal: int | None = None) -> None:
        self.spool, self.outbox = where / "spool", where / "outbox"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | (env or {})
        http = [] if any(flag in PORT_FLAGS for flag in flags) else ["--port", "0"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "-v", "--models", str(demo_dir), "serve",
             *(["--no-chat"] if terminal is None else []),
             "--smtp-port", "0", *http, "--data", str(where), *flags],
            cwd=ROOT, env=environment, stdin=subprocess.DEVNULL if terminal is None else terminal,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.said: list[str] = []           # every line so far, for `count`
        threading.Thread(target=self._read, daemon=True).start()
        serving = self.wait_for("predbot: serving email on ")
        self.port = int(serving.split(" on ", 1)[1].split()[0].rsplit(":", 1)[1])

    def _read(self) -> None:
        for line in self.process.stderr:
            self.said.append(line)
            self.lines.put(line)

    @property
    def http_url(self) -> str:
        """The HTTP server's base URL, as its start line says (waiting for it; no line is taken from `wait_for`)."""
        line = wait_until(lambda: self.first(HTTP_LINE), timeout=120)
        return line.removeprefix(HTTP_LINE).split()[0].removesuffix(":")

    def first(self, text: str) -> str | None:
        """The first line said so far that contains `text`."""
        return next((line for line in list(self.said) if text in line), None)

    def count(self, text: str) -> int:
        """How many of the lines said so far contain `text`."""
        return sum(text in line for line in list(self.said))

    def wait_for(self, text: str, timeout: float = 60) -> str:
        """The first stderr line from now on that contains `text`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if text in line:
                return line
        raise TimeoutError(f"serve never said {text!r}")

    def mail(self, body: str, csv: bytes | None = None) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "ann@example.com", "predbot@localhost", "scores"
        message["Message-ID"] = "<big-file@client.test>"
        message.set_content(body)
        if csv is not None:
            message.add_attachment(csv, maintype="text", subtype="csv", filename="customers.csv")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
            client.send_message(message)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
