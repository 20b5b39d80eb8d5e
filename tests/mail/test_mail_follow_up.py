"""Follow-ups by mail: a reply in a mail thread (by its References) builds on the thread's last prediction, and a
mail that starts a thread of its own has nothing to build on."""

from __future__ import annotations

import re

import shapes
from client import reply_text, send
from doubles.mail import ServiceThread

from bot.answering import Answerer
from bot.follow_up import NOTHING_YET


def test_a_whatif_in_a_reply_builds_on_the_threads_last_prediction_and_not_another_threads(remembering, sink,
                                                                                          shared, tmp_path):
    answerer = Answerer(remembering)
    service = ServiceThread(answerer, ["--smtp-port", "0", "--spool", str(tmp_path / "spool"), "--rate-limit", "0",
                                       "--relay-host", "127.0.0.1", "--relay-port", str(sink.port)], shared)
    try:
        send(service.port, shapes.plain("predict: age=45, income=60000, contract=month-to-month",
                                        message_id="<first@client.test>"))
        [asked] = sink.wait_for(1)
        [prediction_id] = re.findall(r"\bid ([0-9a-f]{12})\b", reply_text(asked))
        send(service.port, shapes.plain("whatif: income=80000", subject="Re: churn question",
                                        message_id="<second@client.test>",
                                        extra={"In-Reply-To": "<first@client.test>",
                                               "References": "<first@client.test>"}))
        send(service.port, shapes.plain("whatif: income=80000", subject="another question",
                                        message_id="<elsewhere@client.test>"))
        _, *answers = sink.wait_for(3)
        by_thread = {answer.message["In-Reply-To"]: reply_text(answer) for answer in answers}
        followed = by_thread["<second@client.test>"]
        assert f"built on {prediction_id}, the last prediction here" in followed
        assert "income" in followed and "80k" in followed
        assert " ".join(NOTHING_YET.split()) in " ".join(by_thread["<elsewhere@client.test>"].split())
    finally:
        service.close()
        answerer.close()
