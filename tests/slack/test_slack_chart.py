"""Charts in Slack: the Chart button under an answer, `/predict chart ...`, and where the picture is uploaded."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest

import bot.render.drawing
from bot.core import Bot
from bot.render.slack import chart_command
from bot.slack.incoming import SlashCommand, slash_command
from bot.store import open_store

PNG = b"\x89PNG\r\n\x1a\n"
ASKED = "predict: age=45, income=60000"


@pytest.fixture(scope="module")
def charting(start_slack, registry, tmp_path_factory):
    """One app for the module whose bot keeps its predictions, so a Chart button can bring one back by id."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('charts')}/s.db")
    yield start_slack(bot=Bot(registry, store=store))
    store.close()


def chart_button(message) -> dict | None:
    """The Chart button of a message Slack received, if it has one."""
    found = [e for b in message.body["blocks"] if b["type"] == "actions" for e in b["elements"]
             if e["action_id"] == "chart"]
    assert len(found) <= 1
    return found[0] if found else None


def click(app, button: dict, **where) -> str:
    """Click `button` as Slack posts it (where: user, channel, ephemeral, message_ts, thread_ts); its response_url."""
    payload = app.fake.click(button["action_id"], button["value"], **where)
    status, _ = app.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    return payload["response_url"]


def uploads_to(app, channel: str) -> list:
    """The files uploaded to `channel`, once every answer under way has gone out."""
    app.settle()
    return [u for u in app.fake.uploads() if u.channel == channel]


def shown(call) -> str:
    return json.dumps({"text": call.body.get("text"), "blocks": call.body.get("blocks")}, ensure_ascii=False)


def test_a_one_row_prediction_gets_a_chart_button_that_brings_it_back_and_a_refusal_gets_none(charting):
    answer = charting.response(charting.command(ASKED))
    button = chart_button(answer)
    assert button["text"]["text"] == "Chart"
    [feedback] = [b for b in answer.body["blocks"] if b.get("block_id") == "feedback"]
    assert button["value"] == f"show {feedback['elements'][0]['value'].split()[1]}"      # the prediction's id
    for refused in ("predict: age=45,, income", "predict nosuch: x=1", "predict: age=45; age=30", "models"):
        assert chart_button(charting.response(charting.command(refused))) is None, refused


def test_clicking_chart_under_a_mention_uploads_the_png_into_its_thread(charting):
    event = charting.mention(ASKED, channel="C10")
    assert charting.event(event) == 200
    post = charting.fake.wait_for("chat.postMessage", channel="C10", thread_ts=event["ts"])
    button = chart_button(post)
    url = click(charting, button, channel="C10", ephemeral=False, message_ts=post.answer["ts"],
                thread_ts=event["ts"])
    upload = charting.fake.wait_for_upload(where=lambda u: u.channel == "C10")
    assert upload.thread_ts == event["ts"] and upload.content.startswith(PNG)
    assert upload.filename == f"predbot-{button['value'].removeprefix('show ')}.png"
    assert upload.alt_txt.startswith("Predicted ") and "From a base of" in upload.alt_txt
    assert upload.title.startswith("Predicted ") and "." not in upload.title
    assert len(uploads_to(charting, "C10")) == 1
    assert not [c for c in charting.fake.calls_to("response") if url.endswith(c.path)]      # nothing else to say


def test_clicking_chart_in_a_dm_uploads_it_there(charting):
    charting.event(charting.dm("whatif: age=45, income=60000 -> income=80000", channel="D10"))
    post = charting.fake.wait_for("chat.postMessage", channel="D10")
    click(charting, chart_button(post), channel="D10", ephemeral=False, message_ts=post.answer["ts"])
    upload = charting.fake.wait_for_upload(where=lambda u: u.channel == "D10")
    assert upload.thread_ts is None and upload.content.startswith(PNG)
    assert upload.alt_txt.startswith("What if income changed from 60k to 80k")


def test_the_chart_of_a_private_answer_goes_to_the_clickers_dm(charting):
    answer = charting.response(charting.command(ASKED, user_id="U11", channel_id="C11"))
    click(charting, chart_button(answer), user="U11", channel="C11")
    assert charting.fake.wait_for("conversations.open").body["users"] == "U11"
    upload = charting.fake.wait_for_upload(where=lambda u: u.channel == "DU11")
    assert upload.thread_ts is None and upload.content.startswith(PNG)
    assert not uploads_to(charting, "C11")


def test_an_explain_answer_s_chart_button_runs_explain_again(charting):
    answer = charting.response(charting.command("public explain churn", channel_id="C12"))
    button = chart_button(answer)
    assert button["value"] == "explain churn"
    click(charting, button, channel="C12", ephemeral=False)
    upload = charting.fake.wait_for_upload(where=lambda u: u.channel == "C12")
    assert upload.filename == "predbot-explain-churn.png" and upload.content.startswith(PNG)
    assert upload.alt_txt.startswith("What drives churn overall")


def test_predict_chart_answers_as_usual_then_uploads_the_chart_in_the_same_place(charting):
    url = charting.command(f"public chart {ASKED}", channel_id="C13")
    answer = charting.response(url)
    assert answer.body["response_type"] == "in_channel" and "for age=45, income=60000" in shown(answer)
    upload = charting.fake.wait_for_upload(where=lambda u: u.channel == "C13")
    assert upload.content.startswith(PNG) and upload.thread_ts is None
    private = charting.response(charting.command("chart predict iris: 5.1, 3.5, 1.4, 0.2", user_id="U14",
                                                 channel_id="C14"))
    assert private.body["response_type"] == "ephemeral" and "setosa" in shown(private)
    assert "setosa" in charting.fake.wait_for_upload(where=lambda u: u.channel == "DU14").alt_txt
    assert not uploads_to(charting, "C14")


def test_predict_chart_skips_answers_without_a_chart(charting):
    url = charting.command("chart models\npredict: age=45; age=30", channel_id="C15", user_id="U15")
    charting.fake.wait_until(lambda calls: len([c for c in calls if url.endswith(c.path)]) == 2 or None)
    assert not uploads_to(charting, "DU15")
    assert all(c.body["users"] != "U15" for c in charting.fake.calls_to("conversations.open"))


def test_a_click_on_someone_else_s_prediction_elsewhere_is_refused_privately_and_uploads_nothing(charting):
    event = charting.mention(ASKED, channel="C16", user="U1")
    charting.event(event)
    post = charting.fake.wait_for("chat.postMessage", channel="C16", thread_ts=event["ts"])
    refused = charting.response(click(charting, chart_button(post), user="U2", channel="C17"))
    assert refused.body["response_type"] == "ephemeral"
    assert "was asked by someone else, somewhere else" in shown(refused)
    assert not uploads_to(charting, "C17") and not uploads_to(charting, "C16")
    assert all(c.body["users"] != "U2" for c in charting.fake.calls_to("conversations.open"))


@pytest.fixture
def unable_to_draw(monkeypatch):
    """Pillow fails as it writes the PNG, as a missing font or a full disk would make it."""

    def broken(drawn):
        raise RuntimeError("the canvas fell over")

    monkeypatch.setattr(bot.render.drawing, "png", broken)


def test_a_chart_that_fails_to_draw_is_apologised_for_privately_logged_and_not_uploaded(charting, unable_to_draw,
                                                                                        caplog):
    event = charting.mention(ASKED, channel="C18")
    charting.event(event)
    post = charting.fake.wait_for("chat.postMessage", channel="C18", thread_ts=event["ts"])
    with caplog.at_level(logging.ERROR, logger="bot.render.chart"):
        sorry = charting.response(click(charting, chart_button(post), channel="C18", ephemeral=False,
                                        message_ts=post.answer["ts"], thread_ts=event["ts"]))
    assert sorry.body["response_type"] == "ephemeral"
    assert "Sorry, I could not draw that chart; the answer itself stands." in shown(sorry)
    assert not uploads_to(charting, "C18")
    [record] = [r for r in caplog.records if r.name == "bot.render.chart"]
    assert record.exc_info and "the canvas fell over" in str(record.exc_info[1])


def test_predict_chart_that_fails_to_draw_still_answers(charting, unable_to_draw):
    url = charting.command(f"public chart {ASKED}", channel_id="C19")
    charting.fake.wait_until(lambda calls: len([c for c in calls if url.endswith(c.path)]) == 2 or None)
    answer, sorry = [c for c in charting.fake.calls_to("response") if url.endswith(c.path)]
    assert answer.body["response_type"] == "in_channel" and "for age=45, income=60000" in shown(answer)
    assert sorry.body["response_type"] == "ephemeral" and "could not draw that chart" in shown(sorry)
    assert not uploads_to(charting, "C19")


def test_a_chart_slack_will_not_take_is_explained_privately(charting):
    charting.fake.fail_next("files.completeUploadExternal", "not_in_channel")
    url = charting.command(f"public chart {ASKED}", channel_id="C20")
    charting.fake.wait_until(lambda calls: len([c for c in calls if url.endswith(c.path)]) == 2 or None)
    answer, sorry = [c for c in charting.fake.calls_to("response") if url.endswith(c.path)]
    assert "for age=45, income=60000" in shown(answer)
    assert sorry.body["response_type"] == "ephemeral" and "invite me first (`/invite @predbot`)" in shown(sorry)
    assert not uploads_to(charting, "C20")


def test_answers_that_show_no_chart_draw_none(charting, monkeypatch):
    drawn = []
    monkeypatch.setattr(bot.render.drawing, "drawing_of", lambda picture: drawn.append(picture))
    event = charting.mention(ASKED, channel="C21")
    charting.event(event)
    charting.response(charting.command(f"public {ASKED}", channel_id="C21"))
    charting.fake.wait_for("chat.postMessage", channel="C21", thread_ts=event["ts"])
    charting.settle()
    assert drawn == [] and not uploads_to(charting, "C21")


@pytest.mark.parametrize("text, asked", [
    ("chart age=45", SlashCommand("age=45", chart=True)),
    ("public chart: explain churn", SlashCommand("explain churn", public=True, chart=True)),
    ("Chart PUBLIC models", SlashCommand("models", public=True, chart=True)),
    ("public age=45", SlashCommand("age=45", public=True)),
    ("chart", SlashCommand("", chart=True)),
    ("charts=2", SlashCommand("charts=2")), ("chart=1", SlashCommand("chart=1")),
    ("age=45 chart", SlashCommand("age=45 chart")),
])
def test_public_and_chart_are_prefix_words_in_either_order(text, asked):
    assert slash_command(text) == asked


def test_the_chart_command_brings_back_a_kept_answer_or_explains_again(registry, remembering):
    kept = remembering.handle(ASKED)
    assert chart_command(kept, kept=True) == f"show {kept.prediction_id}"
    assert chart_command(remembering.handle(f"show {kept.prediction_id}"), kept=True) == f"show {kept.prediction_id}"
    assert chart_command(kept, kept=False) is None                      # nothing to bring it back from
    assert chart_command(Bot(registry).handle("explain iris"), kept=False) == "explain iris"
    assert chart_command(Bot(registry).handle("models"), kept=True) is None
