"""`predbot serve` as a real process: it stops promptly on SIGTERM, and a slow answer is refused in time."""

from __future__ import annotations

import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser

import pytest
from doubles.loop import LoopThread, wait_until
from doubles.serve import ROOT
from doubles.slack import FakeSlack

from scoring.demo import churn_data

STOPS_WITHIN = 10.0


@pytest.fixture(scope="module")
def big_csv() -> bytes:
    """About a minute of scoring: far more than the time any test here waits."""
    frame, _ = churn_data(rows=60_000)
    return frame.to_csv(index=False).encode()


def test_sigterm_stops_serve_within_ten_seconds_while_a_file_is_being_scored(serve, big_csv):
    server = serve()
    server.mail("predict churn", big_csv)
    server.wait_for("answering a message")              # the file is being scored now
    asked = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(STOPS_WITHIN + 5) == 0
    assert time.monotonic() - asked < STOPS_WITHIN
    assert len(list((server.spool / "incoming").iterdir())) == 1, "the mail waits to be answered after a restart"


def test_sigterm_stops_serve_within_ten_seconds_while_the_relay_hangs(serve):
    """A relay that takes the connection and never answers holds smtplib for its 30 s timeout."""
    with socket.create_server(("127.0.0.1", 0)) as hung:
        server = serve("--relay-host", "127.0.0.1", "--relay-port", str(hung.getsockname()[1]))
        server.mail("predict: age=45, income=60000")
        hung.settimeout(60)
        connection, _ = hung.accept()           # the reply is on its way out, and stuck
        with connection:
            asked = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(STOPS_WITHIN + 5) == 0
            assert time.monotonic() - asked < STOPS_WITHIN
    assert len(list((server.spool / "outgoing").iterdir())) == 1, "the reply goes out after a restart"


def test_a_file_over_its_time_budget_is_answered_with_what_was_done(serve, big_csv):
    server = serve("--file-seconds", "2")
    server.mail("predict churn", big_csv)
    [reply] = wait_until(lambda: list(server.outbox.glob("*.eml")), timeout=60)
    text = BytesParser(policy=policy.default).parsebytes(reply.read_bytes()).get_body(("plain",)).get_content()
    assert re.search(r"customers\.csv: not scored\. Stopped after [\d,]+ rows", text), text


def test_a_channel_that_cannot_start_stops_serve_with_one_line_and_exit_two(demo_dir, tmp_path):
    """The email channel, started first, is stopped and does not hold up the exit; the token shows nowhere."""
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
                   "SLACK_BOT_TOKEN": "xoxb-do-not-show"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--no-chat", "--models", str(demo_dir),
                             "--smtp-port", "0", "--port", "0", "--data", str(tmp_path)], cwd=ROOT, env=environment,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and "predbot: serving email on 127.0.0.1:" in result.stderr
    assert result.stderr.endswith("\npredbot: Slack's HTTP mode needs SLACK_SIGNING_SECRET (the app's Basic "
                                  "Information page), or set SLACK_APP_TOKEN to use Socket Mode instead.\n")
    assert "Traceback" not in result.stderr and "xoxb-do-not-show" not in result.stderr


def test_serve_says_which_channels_it_serves_and_what_would_turn_on_the_others(serve):
    server = serve()            # the email line came first: Serve waited for it
    server.wait_for("predbot: not serving Slack: set SLACK_BOT_TOKEN, with SLACK_APP_TOKEN for Socket Mode or "
                    "SLACK_SIGNING_SECRET for HTTP mode (README: Slack)")
    server.wait_for("predbot: not serving the terminal chat: --no-chat")


def test_serve_says_where_slack_listens_and_that_the_chat_joins_whose_end_stops_it(serve, tmp_path):
    loop, slack = LoopThread(), FakeSlack()
    loop.run(slack.start())
    screen, terminal = pty.openpty()
    try:
        server = serve("--slack-port", "0", terminal=terminal,
                       env={**slack.env(SLACK_SIGNING_SECRET="s"), "PREDBOT_HISTORY": str(tmp_path / "history")})
        line = server.wait_for("predbot: serving Slack as @predbot in Fake in HTTP mode at http://127.0.0.1:")
        assert line.endswith("/slack/events\n")
        server.wait_for("predbot: serving the terminal chat here (Ctrl-D or `quit` ends it, and predbot with it)")
        os.write(screen, b"quit\n")
        assert server.process.wait(STOPS_WITHIN + 5) == 0
    finally:
        os.close(screen)
        os.close(terminal)
        loop.run(slack.stop())
        loop.close()
