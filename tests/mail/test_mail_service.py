"""The whole channel on loopback: real SMTP clients (smtplib, swaks) -> the real aiosmtpd server ->
spool -> Bot -> a real relay sink that captures the replies."""

from __future__ import annotations

import re
import smtplib
import ssl
import subprocess

import pytest
import shapes
from client import reply_text, send

from doubles.loop import wait_until


def test_a_plain_mail_gets_a_threaded_plain_and_html_reply(serve, sink):
    service = serve()
    send(service.port, shapes.plain(message_id="<q1@client.test>", extra={"References": "<q0@client.test>"}))
    [received] = sink.wait_for(1)
    message = received.message
    assert received.mail_from == "<>" and received.rcpt_tos == ("ann@example.com",)
    assert message["To"] == "Ann Lee <ann@example.com>" and message["From"] == "predbot <predbot@localhost>"
    assert message["Subject"] == "Re: churn question"
    assert message["In-Reply-To"] == "<q1@client.test>"
    assert message["References"] == "<q0@client.test> <q1@client.test>"
    assert message["Message-ID"].endswith(".reply@localhost>") and message["Message-ID"] != "<q1@client.test>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message.get_content_type() == "multipart/alternative"
    text = reply_text(received)
    assert "> predict: age=45, income=60000" in text and "confident)" in text and "model churn v" in text
    assert "pushes" in text and "the model filled them in: plan" in text
    page = message.get_body(("html",)).get_content()
    assert "confident)</b>" in page and "<li>⚠ Not given, so the model filled them in: plan" in page


def test_swaks_mail_gets_a_reply_and_a_wrong_recipient_gets_550(serve, sink):
    service = serve()
    base = ["swaks", "--server", "127.0.0.1", "--port", str(service.port), "--from", "bo@example.com",
            "--helo", "client.test", "--timeout", "10"]
    sent = subprocess.run([*base, "--to", "predbot@localhost", "--header", "Subject: iris",
                           "--body", "predict iris: 5.1, 3.5, 1.4, 0.2"], capture_output=True, text=True)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    [received] = sink.wait_for(1)
    assert received.rcpt_tos == ("bo@example.com",) and received.message["Subject"] == "Re: iris"
    assert "setosa" in reply_text(received)
    wrong = subprocess.run([*base, "--to", "someone@localhost"], capture_output=True, text=True)
    assert wrong.returncode == 24 and "550" in wrong.stdout     # 24: every recipient refused


@pytest.mark.parametrize("shape, expected_subject, expected_text", [
    (shapes.html_only, "Re: churn question", "> predict: age=45, income=60000"),
    (shapes.quoted_printable, "Re: churn question", "> predict: age=45, income=60000"),
    (shapes.base64_body, "Re: churn question", "setosa"),
    (shapes.latin1, "Re: déjà", "> predict: age=45, income=60000"),
    (shapes.bogus_charset, "Re: churn question", "> predict: age=45, income=60000"),
])
def test_mime_shapes_are_answered(serve, sink, shape, expected_subject, expected_text):
    send(serve().port, shape())
    [received] = sink.wait_for(1)
    assert received.message["Subject"] == expected_subject
    assert expected_text in reply_text(received) and "confident)" in reply_text(received)


def test_a_csv_attachment_comes_back_scored(serve, sink):
    send(serve().port, shapes.with_csv("predict churn\n\nThanks!"))
    [received] = sink.wait_for(1)
    assert "people.csv: 1 of 2 rows predicted" in reply_text(received)
    [result] = received.message.iter_attachments()
    assert result.get_filename() == "people-churn-predictions.csv"
    lines = result.get_content().splitlines()
    assert lines[0].startswith("id,age,income,prediction") and len(lines) == 3


def test_only_the_new_text_of_a_reply_is_answered(serve, sink):
    send(serve().port, shapes.reply_with_quote())
    text = reply_text(sink.wait_for(1)[0])
    assert "> predict: age=30, income=40000" in text and "iris" not in text


def test_every_command_line_is_answered_up_to_the_limit(serve, sink):
    body = "Hi!\npredict: age=45\nage=50, income=70000\n\nexplain churn\npredict: age==45\nmodels\nBye"
    send(serve("--max-commands", "3").port, shapes.plain(body))
    received = sink.wait_for(1)[0]
    text = reply_text(received)
    assert text.startswith("Your mail has 4 commands; I answered the first 3.")
    assert "> predict: age=45\n> age=50, income=70000\n1. age=45" in text
    assert "What drives this model" in text and "iris" not in text
    page = received.message.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert "<pre>predict: age==45\n" in page and "^</pre>" in page


def test_a_mail_without_a_command_gets_the_help(serve, sink):
    send(serve().port, shapes.plain("Hello, can you help me with my numbers?"))
    text = reply_text(sink.wait_for(1)[0])
    assert text.startswith("I found no command in your mail") and "predict" in text


AUTO = [
    ("<>", {}),
    ("MAILER-DAEMON@mx.example.com", {"sender": "MAILER-DAEMON@mx.example.com"}),
    ("ann@example.com", {"extra": {"Auto-Submitted": "auto-replied"}}),
    ("ann@example.com", {"extra": {"Precedence": "bulk"}}),
    ("ann@example.com", {"extra": {"List-Id": "<stats.example.com>"}}),
    ("ann@example.com", {"extra": {"X-Auto-Response-Suppress": "All"}}),
    ("ann@example.com", {"extra": {"Content-Type": "multipart/report; report-type=delivery-status; boundary=x"}}),
    ("predbot@localhost", {"sender": "predbot@localhost"}),
]


def test_robots_get_no_answer_and_people_after_them_do(serve, sink):
    service = serve()
    for mail_from, kw in AUTO:
        send(service.port, shapes.plain(**kw), mail_from=mail_from)
    send(service.port, shapes.plain(message_id="<person@client.test>"))
    [received] = sink.wait_for(1)       # mail is answered in arrival order, so the robots' turn has passed
    assert received.message["In-Reply-To"] == "<person@client.test>"
    assert len(list((service.args.spool / "settled").iterdir())) == len(AUTO)


def test_oversize_mail_is_refused_with_552_whether_or_not_the_client_says_its_size(serve):
    service = serve("--max-message-bytes", "2000")
    big = shapes.plain("predict: age=45\n" + "x" * 3000)
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(service.port, big)                                     # smtplib sends SIZE=: refused at MAIL
    assert refused.value.smtp_code == 552
    with smtplib.SMTP("127.0.0.1", service.port, timeout=10) as client:
        client.ehlo("client.test")
        client.mail("ann@example.com")
        client.rcpt("predbot@localhost")
        assert client.data(big)[0] == 552                           # no SIZE: refused after DATA


def test_a_wrong_recipient_is_refused_at_rcpt_with_550(serve):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(serve().port, shapes.plain(), to="someone@elsewhere.test")
    assert refused.value.recipients["someone@elsewhere.test"][0] == 550


def test_bot_domains_accept_any_address_there_and_reply_from_it(serve, sink):
    send(serve("--bot-address", "@bots.test").port, shapes.plain(), to="Churn@bots.test")
    assert sink.wait_for(1)[0].message["From"] == "predbot <Churn@bots.test>"


def test_the_same_message_id_is_answered_once(serve, sink):
    service = serve()
    twice = shapes.plain(message_id="<again@client.test>")
    send(service.port, twice)
    send(service.port, twice)
    send(service.port, shapes.plain(message_id="<after@client.test>"))
    service.wait_idle()
    assert sorted(r.message["In-Reply-To"] for r in sink.received) == ["<after@client.test>", "<again@client.test>"]


def test_when_the_spool_cannot_keep_a_mail_the_answer_is_451(serve, sink):
    service = serve()
    keep = service.service.spool.accept

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    service.service.spool.accept = disk_full
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(service.port, shapes.plain())
    assert refused.value.smtp_code == 451
    service.service.spool.accept = keep
    send(service.port, shapes.plain())
    assert len(sink.wait_for(1)) == 1


def test_a_mail_that_cannot_be_read_is_set_aside_without_a_reply_and_the_queue_goes_on(serve, sink, caplog):
    service = serve()
    (service.args.spool / "incoming" / "00000000000000000000-broken.msg").write_bytes(b"not an envelope")
    send(service.port, shapes.plain())
    assert len(sink.wait_for(1)) == 1
    assert [p.name for p in (service.args.spool / "failed").iterdir()] == ["00000000000000000000-broken.msg"]
    assert "attempt 1 at answering" in caplog.text and "attempt 2 at answering" in caplog.text
    assert "cannot be read well enough to reply to" in caplog.text


def failing(times: int):
    """Worker.answers raising for a mail whose subject is `boom`, the first `times` times."""
    from bot.mail.worker import Worker

    answers, calls = Worker.answers, []

    async def sometimes(self, mail, *rest):
        if mail.subject == "boom" and len(calls) < times:
            calls.append(mail)
            raise RuntimeError("a bug")
        return await answers(self, mail, *rest)

    return sometimes


def test_a_mail_whose_answering_fails_once_is_answered_on_the_second_attempt(serve, sink, monkeypatch):
    from bot.mail.worker import Worker

    monkeypatch.setattr(Worker, "answers", failing(times=1))
    service = serve()
    send(service.port, shapes.plain(subject="boom", message_id="<boom@client.test>"))
    assert "confident)" in reply_text(sink.reply_to("<boom@client.test>"))
    assert not any((service.args.spool / "failed").iterdir())


def test_a_mail_whose_answering_fails_twice_is_set_aside_with_a_reply_once(serve, sink, monkeypatch):
    from bot.mail.worker import SET_ASIDE, Worker

    monkeypatch.setattr(Worker, "answers", failing(times=2))
    service = serve()
    boom = shapes.plain(subject="boom", message_id="<boom@client.test>")
    send(service.port, boom)
    text = reply_text(sink.reply_to("<boom@client.test>"))
    assert SET_ASIDE in text and sink.received[0].message["Subject"] == "Re: boom"
    spool = service.args.spool
    # the reply can go out before the mail is moved and its count cleared
    wait_until(lambda: any((spool / "failed").iterdir()) and not any((spool / "attempts").iterdir()))
    assert len(list((spool / "failed").iterdir())) == 1
    send(service.port, boom)                                # the same mail again is not answered twice
    send(service.port, shapes.plain(message_id="<after@client.test>"))
    sink.reply_to("<after@client.test>")
    assert [r.in_reply_to for r in sink.received] == ["<boom@client.test>", "<after@client.test>"]


def test_a_relay_that_fails_for_a_while_gets_the_reply_later(serve, sink):
    sink.fail_first = 2
    send(serve().port, shapes.plain())
    assert len(sink.wait_for(1)) == 1


def test_without_a_relay_replies_land_in_the_outbox(serve, tmp_path):
    outbox = tmp_path / "outbox"
    send(serve("--outbox", str(outbox)).port, shapes.plain(message_id="<o1@client.test>"))
    wait_until(lambda: list(outbox.glob("*.eml")))
    [eml] = outbox.glob("*.eml")
    assert b"In-Reply-To: <o1@client.test>" in eml.read_bytes()


def test_allow_list_and_rate_limit_leave_mail_unanswered_without_a_bounce(serve, sink):
    service = serve("--allow-senders", "@example.com", "--rate-limit", "1/hour")
    send(service.port, shapes.plain(sender="eve@evil.test"), mail_from="eve@evil.test")
    send(service.port, shapes.plain(message_id="<ann1@client.test>"))
    send(service.port, shapes.plain(message_id="<ann2@client.test>"))
    send(service.port, shapes.plain(sender="bo@example.com", message_id="<bo@client.test>"), mail_from="bo@example.com")
    service.wait_idle()
    assert sorted(r.message["In-Reply-To"] for r in sink.received) == ["<ann1@client.test>", "<bo@client.test>"]
    assert all(r.rcpt_tos != ("eve@evil.test",) for r in sink.received)


def test_smtputf8_addresses_and_headers(serve, sink):
    raw = shapes.plain(sender="Jösé <jösé@exämple.com>", subject="Grüße")     # raw UTF-8 headers
    send(serve().port, raw, mail_from="jösé@exämple.com", mail_options=["SMTPUTF8"])
    [received] = sink.wait_for(1)
    assert received.rcpt_tos == ("jösé@exämple.com",) and received.message["Subject"] == "Re: Grüße"


def test_starttls_and_auth_when_configured(serve, sink, certificate, monkeypatch):
    monkeypatch.setenv("PREDBOT_SMTP_USER", "ann")
    monkeypatch.setenv("PREDBOT_SMTP_PASSWORD", "pw")
    service = serve("--smtp-tls-cert", str(certificate[0]), "--smtp-tls-key", str(certificate[1]))
    with smtplib.SMTP("127.0.0.1", service.port, timeout=10) as client:
        code, _ = client.mail("ann@example.com")
        assert code == 530                                         # STARTTLS first
        client.starttls(context=ssl.create_default_context(cafile=str(certificate[0])))
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("ann", "wrong")
        client.login("ann", "pw")
        client.sendmail("ann@example.com", ["predbot@localhost"], shapes.plain())
    assert len(sink.wait_for(1)) == 1


# --- Predictions remembered, by mail --------------------------------------------------------------------------

@pytest.fixture
def remembering(registry, sink, store, tmp_path):
    """The mail service over a bot that records its predictions in a SQLite store; replies go to `sink`."""
    from bot.answering import Answerer
    from bot.core import Bot
    from doubles.mail import ServiceThread

    answerer = Answerer(Bot(registry, store=store))
    service = ServiceThread(answerer, ["--smtp-port", "0", "--spool", str(tmp_path / "spool"), "--rate-limit", "0",
                                       "--relay-host", "127.0.0.1", "--relay-port", str(sink.port)], store.shared)
    yield service
    service.close()
    answerer.close()


def asked(service, sink, body: str, sender: str = "Ann Lee <ann@example.com>", **headers: str) -> str:
    """Mail `body` and return the plain text of its reply."""
    message_id = shapes.new_id()
    send(service.port, shapes.plain(body, sender=sender, message_id=message_id, extra=headers),
         mail_from=sender.split("<")[-1].rstrip(">"))
    return reply_text(sink.reply_to(message_id))


def test_a_history_mail_after_a_predict_mail_gets_the_first_prediction_back(remembering, sink):
    answered = asked(remembering, sink, "predict: age=45, income=60000")
    [prediction_id] = re.findall(r"· id ([0-9a-f]{12})\]", answered)
    listed = asked(remembering, sink, "history")
    assert "Your last prediction, newest first:" in listed
    assert re.search(rf"^  {prediction_id}  20\d\d-\d\d-\d\d \d\d:\d\d UTC  churn  age=45, income=60000 -> "
                     r"(churns|stays) \(\d+% confident\)$", listed, re.MULTILINE)
    shown = asked(remembering, sink, f"show {prediction_id}")
    assert "Asked 20" in shown and ": predict: age=45, income=60000" in shown and "confident)" in shown


def test_show_by_mail_answers_the_people_of_the_thread_the_prediction_was_made_in(remembering, sink):
    first = shapes.new_id()
    send(remembering.port, shapes.plain("predict iris: 5.1, 3.5, 1.4, 0.2", message_id=first))
    [prediction_id] = re.findall(r"· id ([0-9a-f]{12})\]", reply_text(sink.reply_to(first)))
    in_thread = asked(remembering, sink, f"show {prediction_id}", "Bo <bo@example.com>", References=first)
    assert "setosa" in in_thread
    elsewhere = asked(remembering, sink, f"show {prediction_id}", "Bo <bo@example.com>")
    assert "was asked by someone else, somewhere else" in elsewhere and "setosa" not in elsewhere
    noted = asked(remembering, sink, f"feedback {prediction_id} actual=Setosa", "Bo <bo@example.com>",
                  References=f"{first} <{shapes.new_id()[1:-1]}>")
    assert f"Noted: {prediction_id} was setosa; predicted setosa, so it was right." in noted
