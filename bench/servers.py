"""The servers a bench measures, each in its own process as in production: the bench's clients and doubles (a fake
Slack, a relay sink) never share its interpreter, so what it times is the server's work, not theirs."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from scoring.demo import demo_models_dir

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 120.0       # imports and model loading, on a busy machine
STOP_SECONDS = 30.0         # `predbot serve` exits within 10 s of SIGTERM


class Server:
    """A server process started from `argv`, ready once a stderr line contains `ready`; `line` is that line.
    stderr is drained from then on (its last lines kept, to explain a failure), so the server never blocks on it."""

    def __init__(self, argv: list[str], ready: str, env: dict[str, str] | None = None) -> None:
        self.ready = ready
        self.line: str | None = None
        self.said: collections.deque[str] = collections.deque(maxlen=40)
        self.started = threading.Event()
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.started.wait(START_SECONDS) or self.line is None:
            self.stop()
            raise RuntimeError(f"`{' '.join(argv[1:])}` never said {ready!r}; its last words:\n{''.join(self.said)}")

    def _read(self) -> None:
        for line in self.process.stderr:
            self.said.append(line)
            if self.line is None and self.ready in line:
                self.line = line
                self.started.set()
        self.started.set()          # it ended: wake the waiter either way

    def after(self, text: str) -> str:
        """The word after `text` in the ready line: the URL or address the server announced."""
        return self.line.split(text, 1)[1].split()[0]

    def stop(self) -> None:
        """SIGTERM, as an operator would stop it, and wait; kill it if it does not go."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def predbot_serve(data: Path | str, *flags: str, env: dict[str, str] | None = None,
                  ready: str = "serving email on ") -> Server:
    """`predbot serve --no-chat` on the demo models, mail and HTTP on free ports (HTTP on the one `flags` give with
    --port, if they do), its files under `data`; Slack only with the Slack variables in `env` (none of this
    environment's)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | (env or {})
    http = [] if any(flag in ("--port", "--slack-port") for flag in flags) else ["--port", "0"]
    return Server([sys.executable, "-m", "bot.cli", "--models", str(demo_models_dir()), "serve", "--no-chat",
                   "--smtp-port", "0", *http, "--data", str(data), *flags], ready, environment)
