"""Charts in the reply mail: inline in the HTML part as `cid:` images, only for answers that show one, at most
MAX_CHARTS a mail, and a chart that fails to draw costs nothing but itself."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html import escape

import pytest
import shapes
from client import send

from bot.core import Bot
from bot.mail.compose import compose
from bot.mail.parse import parse
from bot.render import chart
from bot.render.email import MAX_CHARTS, Answer
from bot.reply import Attachment

IRIS = "predict iris: 5.1, 3.5, 1.4, 0.2"
WHATIF = "whatif: age=45, income=60000 -> income=80000"
KEY = "c" * 40


@pytest.fixture(scope="module")
def bot(registry) -> Bot:
    return Bot(registry)


def mail_of(*commands: str):
    return parse(shapes.plain("\n".join(commands), message_id="<q1@client.test>"), "ann@example.com")


def composed(bot: Bot, *commands: str) -> EmailMessage:
    answers = [Answer(command, bot.handle(command)) for command in commands]
    _, raw = compose(mail_of(*commands), "predbot@localhost", KEY, answers)
    return BytesParser(policy=policy.default).parsebytes(raw)


def images(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_type() == "image/png"]


def cids_in(page: str) -> list[str]:
    return re.findall(r'<img src="cid:([^"]+)"', page)


def page_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def test_the_reply_to_a_one_row_prediction_shows_its_chart_inline_in_the_html(serve, sink):
    send(serve().port, shapes.plain(IRIS, subject="iris"))
    [received] = sink.wait_for(1)
    message = received.message
    [image] = images(message)
    related = next(part for part in message.walk() if part.get_content_type() == "multipart/related")
    assert image in related.iter_parts() and related.get_param("type") == "text/html"
    assert image.get_content_disposition() == "inline" and image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert re.fullmatch(r"<[0-9a-f]{40}\.chart0@localhost>", image["Content-ID"])
    assert image.get_filename().endswith(".png")
    page = page_of(message)
    assert cids_in(page) == [image["Content-ID"][1:-1]]
    alt = re.search(r'<img src="cid:[^"]+" alt="([^"]*)"', page).group(1)
    assert "setosa" in alt
    assert page.index("setosa") < page.index("<img") < page.index('<p class="foot">predbot')
    text = message.get_body(("plain",)).get_content()
    assert "setosa" in text and "cid:" not in text and "<img" not in text


def test_the_alt_text_is_the_charts_own_words_and_the_png_its_own_bytes(bot):
    answer = bot.handle(IRIS)
    picture = chart.chart_of(answer)
    assert picture is not None
    _, raw = compose(mail_of(IRIS), "predbot@localhost", KEY, [Answer(IRIS, answer)])
    message = BytesParser(policy=policy.default).parsebytes(raw)
    [image] = images(message)
    assert image.get_content() == picture.png and image.get_filename() == picture.filename
    assert f'alt="{escape(picture.alt)}"' in page_of(message)


def test_composing_the_reply_again_gives_the_same_mail(bot):
    answers = [Answer(IRIS, bot.handle(IRIS)), Answer("explain churn", bot.handle("explain churn"))]
    first, second = (BytesParser(policy=policy.default).parsebytes(
        compose(mail_of(IRIS, "explain churn"), "predbot@localhost", KEY, answers)[1]) for _ in range(2))
    assert first["Message-ID"] == second["Message-ID"] == f"<{KEY}.reply@localhost>"
    assert [image["Content-ID"] for image in images(first)] == [image["Content-ID"] for image in images(second)] \
        == [f"<{KEY}.chart0@localhost>", f"<{KEY}.chart1@localhost>"]
    assert [image.get_content() for image in images(first)] == [image.get_content() for image in images(second)]
    assert page_of(first) == page_of(second)
    assert [part.get_content_type() for part in first.walk()] == [part.get_content_type() for part in second.walk()]


def test_each_chart_sits_with_its_own_answer_and_answers_without_one_are_never_drawn(bot, monkeypatch):
    commands = [IRIS, "models", WHATIF, "predict nosuch: a=1", "explain diabetes"]
    drawn = []
    draw = chart.chart_of
    monkeypatch.setattr(chart, "chart_of", lambda answer: drawn.append(answer) or draw(answer))
    message = composed(bot, *commands)
    assert [type(answer.body).__name__ for answer in drawn] == ["Prediction", "WhatIf", "Importances"]
    page = page_of(message)
    assert cids_in(page) == [f"{KEY}.chart{place}@localhost" for place in (0, 2, 4)]
    asked = [page.index(f"<code>{escape(command)}</code>") for command in commands]
    images_at = [page.index(f"cid:{KEY}.chart{place}@") for place in (0, 2, 4)]
    assert asked[0] < images_at[0] < asked[1] < asked[2] < images_at[1] < asked[3] < asked[4] < images_at[2]
    assert len(images(message)) == 3


def test_a_reply_with_no_answer_that_shows_a_chart_has_no_image_and_draws_nothing(bot, monkeypatch):
    monkeypatch.setattr(chart, "chart_of", lambda answer: pytest.fail(f"drew a chart for {answer.body}"))
    message = composed(bot, "models", "predict nosuch: a=1", "predict: age==45", "predict: age=45; age=30")
    assert images(message) == [] and "<img" not in page_of(message)
    assert message.get_content_type() == "multipart/alternative"


def test_a_chart_that_fails_to_draw_leaves_the_mail_as_it_is_without_charts(bot, monkeypatch):
    answers = [Answer(IRIS, bot.handle(IRIS)), Answer(WHATIF, bot.handle(WHATIF))]
    monkeypatch.setattr(chart, "draws", lambda answer: False)
    _, without = compose(mail_of(IRIS, WHATIF), "predbot@localhost", KEY, answers)
    monkeypatch.undo()
    monkeypatch.setattr(chart, "chart_of", lambda answer: None)
    _, failed = compose(mail_of(IRIS, WHATIF), "predbot@localhost", KEY, answers)
    plain, broken = (BytesParser(policy=policy.default).parsebytes(raw) for raw in (without, failed))
    assert images(broken) == [] and broken.get_content_type() == plain.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in broken.walk()] == [part.get_content_type() for part in plain.walk()]
    assert page_of(broken) == page_of(plain) and "setosa" in page_of(broken)
    assert broken.get_body(("plain",)).get_content() == plain.get_body(("plain",)).get_content()


def test_a_mail_shows_at_most_max_charts_and_says_how_many_it_left_out(bot):
    message = composed(bot, *[IRIS] * (MAX_CHARTS + 2))
    assert len(images(message)) == MAX_CHARTS
    page = page_of(message)
    assert cids_in(page) == [f"{KEY}.chart{place}@localhost" for place in range(MAX_CHARTS)]
    assert f"2 more answers have charts not shown here: a reply shows at most {MAX_CHARTS}." in page
    assert "not shown here" not in message.get_body(("plain",)).get_content()


def test_charts_sit_in_the_html_beside_result_files_that_stay_attachments(bot):
    mail = parse(shapes.with_csv(f"predict churn\n{IRIS}"), "ann@example.com")
    people = Attachment("people.csv", b"age,income\n45,60000\n")
    answers = [Answer("predict churn", bot.handle("predict churn", attachments=[people])),
               Answer(IRIS, bot.handle(IRIS))]
    message = BytesParser(policy=policy.default).parsebytes(compose(mail, "predbot@localhost", KEY, answers)[1])
    assert message.get_content_type() == "multipart/mixed"
    [result] = message.iter_attachments()
    assert result.get_filename() == "people-churn-predictions.csv"
    [image] = images(message)
    assert cids_in(page_of(message)) == [image["Content-ID"][1:-1]]
