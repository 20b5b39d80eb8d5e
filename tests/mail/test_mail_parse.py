"""Raw bytes -> Mail for every MIME shape the channel must survive; no shape raises."""

from __future__ import annotations

import shapes
from hypothesis import given, settings, strategies as st

from bot.mail.body import html_to_text, own_words
from bot.mail.parse import parse


def test_plain_mail_gives_body_addresses_and_threading_ids():
    mail = parse(shapes.plain(message_id="<m1@client.test>",
                              extra={"References": "<a@x> <b@x>", "Reply-To": "team@example.com"}),
                 "ann@example.com")
    assert mail.text.strip() == shapes.PREDICT
    assert (mail.sender, mail.name, mail.reply_to, mail.answer_to) == \
        ("ann@example.com", "Ann Lee", "team@example.com", "team@example.com")
    assert mail.thread_id == "<m1@client.test>"
    assert mail.references == ("<a@x>", "<b@x>")
    assert mail.subject == "churn question"


def test_html_only_is_converted_to_text():
    assert parse(shapes.html_only()).text.splitlines() == ["Hello bot,", "predict: age=45, income=60000",
                                                           "Thanks & regards"]


def test_plain_part_is_preferred_over_html():
    from email.message import EmailMessage

    message = EmailMessage()
    message.set_content("predict: age=1")
    message.add_alternative("<p>predict: age=2</p>", subtype="html")
    assert parse(message.as_bytes()).text.strip() == "predict: age=1"


def test_quoted_printable_and_base64_are_decoded():
    assert parse(shapes.quoted_printable()).text.splitlines() == ["Grüße!", shapes.PREDICT]
    assert parse(shapes.base64_body()).text.strip() == "predict iris: 5.1, 3.5, 1.4, 0.2"


def test_iso_8859_1_body_and_encoded_subject():
    mail = parse(shapes.latin1())
    assert mail.text.splitlines()[0] == "Bonjour, voilà:"
    assert mail.subject == "déjà"


def test_a_bogus_charset_label_falls_back_to_what_decodes():
    assert parse(shapes.bogus_charset()).text.splitlines() == ["Grüße", shapes.PREDICT]


def test_csv_attachment_is_kept_as_bytes():
    [attachment] = parse(shapes.with_csv()).attachments
    assert attachment.filename == "people.csv"
    assert attachment.content == b"id,age,income\n1,45,60000\n2,50,lots\n"


def test_missing_headers_and_broken_mime_still_parse():
    mail = parse(b"Content-Type: multipart/mixed\r\n\r\nno boundary at all\r\npredict: age=4\r\n")
    assert (mail.sender, mail.message_id, mail.thread_id) == ("", "", None)
    mail = parse(b"From: not an address\r\nMessage-ID: garbage\r\n\r\npredict: age=4\r\n")
    assert (mail.sender, mail.thread_id, mail.text.strip()) == ("", None, "predict: age=4")


def test_eight_bit_garbage_in_headers_becomes_text():
    mail = parse(b"From: \xff\xfe <x@example.com>\r\nSubject: \xe9t\xe9\r\n\r\nhi\r\n")
    assert mail.sender == "x@example.com"
    assert "\ufffd" in mail.subject


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: ("Content-Type: multipart/mixed; "
                                                                       "boundary=b\r\n\r\n--b\r\n" + t).encode(
                                                                           "utf-8", "surrogatepass")))
def test_no_input_makes_parse_raise(data):
    parse(data)


def test_quoted_reply_and_signature_are_not_the_writers_words():
    text = ("predict: age=30\n\nOn Mon, 23 Nov 2026, predbot wrote:\n> predict iris: 1, 2, 3, 4\n")
    assert own_words(text) == "predict: age=30"
    assert own_words("models\n> help\nexplain churn\n-- \nAnn\npredict: age=1") == "models\nexplain churn"
    assert own_words("help\n-----Original Message-----\nFrom: x@y\npredict: age=1") == "help"
    assert own_words("help\nSent from my phone") == "help"


def test_an_attribution_without_quote_is_kept():
    assert own_words("On second thought:\npredict: age=30") == "On second thought:\npredict: age=30"


def test_html_quotes_scripts_and_entities():
    html = ('<div>models</div><script>predict: no</script><blockquote>predict: quoted</blockquote>'
            '<div class="gmail_quote">On Mon <b>x</b> wrote: predict: old</div><p>a&nbsp;&lt;b&gt;</p>')
    assert html_to_text(html).splitlines() == ["models", "a <b>"]
