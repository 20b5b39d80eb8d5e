"""The reply mail: addressing, threading, loop-safety headers, plain + HTML parts, charts, result files.

An answer that shows a chart (bot.render.chart) has it inline in the HTML
part: the HTML and its image/png parts make a multipart/related, and the
plain part stays as it is. Only those answers are drawn, at most MAX_CHARTS
of them; one that fails to draw is answered without its chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, localtime

from bot import reply
from bot.mail.parse import Mail
from bot.mail.spool import Envelope
from bot.render import chart
from bot.render import email as render

BOT_NAME = "predbot"
SEVEN_BIT = policy.SMTP.clone(cte_type="7bit")    # any relay takes it; SMTPUTF8 only for non-ASCII addresses


def subject(original: str) -> str:
    original = original.strip()
    if original.lower().startswith("re:"):
        return original
    return f"Re: {original}" if original else "Re: your message to predbot"


def compose(mail: Mail, bot_address: str, key: str, answers: Sequence[render.Answer],
            notes: Sequence[str] = ()) -> tuple[Envelope, bytes]:
    """The reply to `mail`, sent from the bot address it was written to.

    The Message-ID comes from the inbound key, so the reply is the same mail
    however often a crash makes us compose or send it; the envelope sender is
    null (RFC 3834) so nothing bounces back to the bot.
    """
    message = EmailMessage(policy=SEVEN_BIT if mail.answer_to.isascii() else policy.SMTPUTF8)
    message["From"] = formataddr((BOT_NAME, bot_address))
    message["To"] = to_header(mail)
    message["Subject"] = subject(mail.subject)
    message["Date"] = format_datetime(localtime())
    domain = bot_address.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{key}.reply@{domain}>"
    if mail.thread_id:
        message["In-Reply-To"] = mail.thread_id
        message["References"] = " ".join([*mail.references, mail.thread_id])
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"     # asks Exchange not to answer us with an out-of-office
    message.set_content(render.plain(answers, notes))
    shown, drawn, left_out = with_charts(answers, key, domain)
    message.add_alternative(render.html(shown, notes, left_out), subtype="html")
    page = message.get_body(("html",))
    for cid, picture in drawn:
        page.add_related(picture.png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline",
                         filename=picture.filename)
    if drawn:
        page.set_param("type", "text/html")         # RFC 2387: a related part names its root's type
    for file in files(answers):
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(file.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=file.filename)
    return Envelope("", (mail.answer_to,)), message.as_bytes()


def with_charts(answers: Sequence[render.Answer], key: str, domain: str,
                ) -> tuple[list[render.Answer], list[tuple[str, chart.Chart]], int]:
    """The answers, each drawn one with its Image; the charts drawn, by Content-ID; and how many answers that show
    a chart were left out by MAX_CHARTS.

    A Content-ID comes from the reply's key and the answer's place in the mail, as the Message-ID does, so that
    a reply composed again is the same mail. Only answers that show a chart are drawn.
    """
    showing = [place for place, answer in enumerate(answers) if chart.draws(answer.reply)]
    shown, drawn = list(answers), []
    for place in showing[:render.MAX_CHARTS]:
        if (picture := chart.chart_of(answers[place].reply)) is not None:
            cid = f"{key}.chart{place}@{domain}"
            shown[place] = replace(answers[place], image=render.Image(cid, picture.alt))
            drawn.append((cid, picture))
    return shown, drawn, max(0, len(showing) - render.MAX_CHARTS)


def to_header(mail: Mail) -> str:
    """To: with the writer's name when we answer the From address; a bare address for Reply-To."""
    name = mail.name if not mail.reply_to else ""
    try:
        return str(Address(display_name=name, addr_spec=mail.answer_to))
    except (ValueError, IndexError):
        return mail.answer_to


def files(answers: Sequence[render.Answer]) -> list[reply.File]:
    return [file for answer in answers for file in answer.reply.files]
