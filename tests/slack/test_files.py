"""CSV files shared with the bot: downloaded with the bot token, scored, progress shown, results uploaded."""

from __future__ import annotations

import json

from bot.core import Bot

CSV = b"customer_id,age,income\n1,45,60000\n2,30,sixty\n3,62,41000\n"


def shared(app, files: list[dict], text: str = "", channel: str = "D1") -> dict:
    return app.dm(text, channel=channel, subtype="file_share", files=files)


def progress_message(app, channel: str):
    """The one message posted for a file share, and the texts it was edited to, in order."""
    [started] = [c for c in app.fake.calls_to("chat.postMessage") if c.body["channel"] == channel]
    edits = [c.body["text"] for c in app.fake.calls_to("chat.update") if c.body["ts"] == started.answer["ts"]]
    return started, edits


def test_a_csv_shared_in_a_dm_is_scored_and_the_results_uploaded(slack):
    event = shared(slack, [slack.fake.add_file("customers.csv", CSV)], channel="D100")
    slack.event(event)
    download = slack.fake.wait_for("download")
    assert download.headers["Authorization"] == f"Bearer {slack.fake.bot_token}"
    complete = slack.fake.wait_for("files.completeUploadExternal", channel_id="D100")
    [uploaded] = json.loads(complete.body["files"])
    assert uploaded["title"] == "customers-churn-predictions.csv"
    content = slack.fake.wait_for("upload", file_id=uploaded["id"]).body["content"].decode()
    header, *rows = content.splitlines()
    assert header.startswith("customer_id,age,income,prediction,") and len(rows) == 3
    started, [summary] = progress_message(slack, "D100")
    assert "Scoring customers.csv…" in started.body["text"]
    assert "customers.csv: 2 of 3 rows predicted; 1 not" in summary


def test_a_csv_shared_with_a_mention_is_answered_in_its_thread_with_the_named_model(slack):
    flowers = b"sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"
    event = slack.mention("predict iris", channel="C300", files=[slack.fake.add_file("flowers.csv", flowers)])
    slack.event(event)
    complete = slack.fake.wait_for("files.completeUploadExternal", channel_id="C300")
    assert complete.body["thread_ts"] == event["ts"]
    assert json.loads(complete.body["files"])[0]["title"] == "flowers-iris-predictions.csv"
    started, [summary] = progress_message(slack, "C300")
    assert started.body["thread_ts"] == event["ts"] and "flowers.csv: 2 of 2 rows predicted" in summary


def test_files_that_cannot_be_fetched_are_reported_not_downloaded(slack):
    huge = {**slack.fake.add_file("huge.csv", CSV), "size": 30 * 2**20}
    elsewhere = {**slack.fake.add_file("elsewhere.csv", CSV), "url_private_download": "https://evil.example/x.csv"}
    slack.event(shared(slack, [huge, elsewhere], channel="D101"))
    update = slack.fake.wait_for("chat.update", channel="D101")
    assert "huge.csv: not scored. The file is 30.0 MB; files up to 20 MB" in update.body["text"]
    assert "elsewhere.csv: not scored. Slack did not give a download link" in update.body["text"]
    assert not [c for c in slack.fake.calls_to("download") if c.body["id"] in (huge["id"], elsewhere["id"])]
    assert not slack.fake.calls_to("files.completeUploadExternal") or all(
        c.body["channel_id"] != "D101" for c in slack.fake.calls_to("files.completeUploadExternal"))


def test_a_file_without_a_download_link_is_looked_up_first(slack):
    file = slack.fake.add_file("linkless.csv", CSV)
    slack.event(shared(slack, [{"id": file["id"], "file_access": "check_file_info"}], channel="D102"))
    assert slack.fake.wait_for("files.info").body["file"] == file["id"]
    slack.fake.wait_for("files.completeUploadExternal", channel_id="D102")
    _, [summary] = progress_message(slack, "D102")
    assert "linkless.csv: 2 of 3 rows predicted" in summary


class SteppingBot(Bot):
    """Reports progress once and, when `shown`, waits until Slack shows it: progress without sleeping."""

    fake = None
    shown = True

    def handle(self, text, sender=None, attachments=(), progress=None, deadline=None):
        progress(5000)
        if self.shown:
            self.fake.wait_for("chat.update", where=lambda c: "5,000 rows" in c.body["text"])
        return super().handle(text, sender, attachments, deadline=deadline)


def test_progress_edits_one_message_then_it_becomes_the_summary(start_slack, registry):
    bot = SteppingBot(registry)
    app = start_slack(bot=bot, progress_interval=0.0)
    bot.fake = app.fake
    app.event(shared(app, [app.fake.add_file("customers.csv", CSV)], channel="D200"))
    app.fake.wait_for("files.completeUploadExternal", channel_id="D200")
    started, [first, last] = progress_message(app, "D200")
    assert "Scoring customers.csv…" in started.body["text"]
    assert "Scoring customers.csv… 5,000 rows so far." in first
    assert "customers.csv: 2 of 3 rows predicted" in last


def test_progress_edits_are_throttled(start_slack, registry):
    bot = SteppingBot(registry)
    bot.shown = False
    app = start_slack(bot=bot, progress_interval=3600.0)
    app.event(shared(app, [app.fake.add_file("customers.csv", CSV)], channel="D201"))
    app.fake.wait_for("files.completeUploadExternal", channel_id="D201")
    _, [summary] = progress_message(app, "D201")
    assert "2 of 3 rows predicted" in summary
