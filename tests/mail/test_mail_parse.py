"""Raw bytes -> Mail for every MIME shape the channel must survive; no shape raises."""

from __future__ import annotations

import pytest
import shapes
from hypothesis import given, settings, strategies as st

from bot.mail.body import html_to_text, own_words
from bot.mail.headers import Unclean, mailbox
from bot.mail.parse import MAX_DEPTH, MAX_PARTS, MAX_REFERENCES, MAX_TEXT_CHARS, parse


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


def test_a_long_thread_keeps_its_first_message_id_and_the_latest_ones():
    ids = [f"<m{n}@x>" for n in range(30)]
    mail = parse(shapes.plain(extra={"References": " ".join(ids)}), "ann@example.com")
    assert mail.references == (ids[0], *ids[-(MAX_REFERENCES - 1):])


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


@pytest.mark.parametrize("written, name, address", [
    ("ann@example.com", "", "ann@example.com"),
    ("ann@example.com (Ann Lee)", "Ann Lee", "ann@example.com"),
    ("Ann Lee <ann@example.com>", "Ann Lee", "ann@example.com"),
    ('"Lee, Ann" <ann@example.com>', "Lee, Ann", "ann@example.com"),
    ("=?utf-8?q?J=C3=B6s=C3=A9?= <jose@example.com>", "Jösé", "jose@example.com"),
    ("Jösé <jösé@exämple.com>", "Jösé", "jösé@exämple.com"),
    ("ann@example.com <predbot@localhost>", "ann@example.com", "predbot@localhost"),
    ("Ann\r\n Lee <ann@example.com>", "Ann Lee", "ann@example.com"),          # folded
])
def test_a_mailbox_is_read_from_its_angle_brackets_or_alone(written, name, address):
    assert mailbox(written) == (name, address)


@pytest.mark.parametrize("written, why", [
    ("=?utf-8?q?a=0d=0aBcc:_victim@evil.com?= <ann@example.com>", "hides a control character"),
    ("=?utf-8?q?x=0D=0A_victim@evil.com?=", "not one plain address"),
    ("=?utf-8?q?x?=@evil.com", "an encoded word where the address should be"),
    ("ann@example.com, bo@example.com", "not one plain address"),
    ("Ann <ann@example.com> <bo@example.com>", "not one <address>"),
    ("Ann <ann@example.com> trailing", "not one <address>"),
    ('some"one <ann@example.com>', "an unclosed quote"),
    ("(" * 1500, "an unclosed comment"),
    ('"' * 2001, "characters long"),
    ("Ann\x00 <ann@example.com>", "a control character"),
    ("<\udcff\udcfe@example.com>", "not UTF-8"),
    ("undisclosed-recipients:;", "not one plain address"),
])
def test_a_mailbox_that_is_not_clean_is_refused_with_a_reason(written, why):
    with pytest.raises(Unclean, match=why):
        mailbox(written)


def test_an_unclean_from_leaves_no_one_to_answer_and_says_why():
    mail = parse(shapes.plain(sender="=?utf-8?q?a=0d=0aBcc:_victim@evil.com?= <ann@example.com>"))
    assert (mail.sender, mail.answer_to) == ("", "")
    assert mail.unclean == "From: an encoded word in the name hides a control character"
    assert parse(shapes.plain(extra={"From": "bo@example.com"})).unclean == "From: 2 of them"


def test_every_value_of_a_repeated_header_is_kept():
    mail = parse(shapes.plain(extra={"Auto-Submitted": "no", "Precedence": "bulk"}).replace(
        b"Precedence", b"Auto-Submitted: auto-replied\r\nPrecedence"))
    assert mail.headers["auto-submitted"] == ("no", "auto-replied")


def multipart(levels: int) -> bytes:
    parts = "".join(f"--b{n}\r\nContent-Type: multipart/mixed; boundary=b{n + 1}\r\n\r\n" for n in range(1, levels))
    return (f"From: ann@example.com\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n{parts}"
            f"--b{levels}\r\n\r\npredict: age=4\r\n").encode()


def test_deep_nesting_and_many_parts_are_not_read_and_say_why():
    assert parse(multipart(MAX_DEPTH)).text.strip() == "predict: age=4"
    too_deep = parse(multipart(MAX_DEPTH + 2))
    assert (too_deep.text, too_deep.sender) == ("", "ann@example.com")
    assert f"nested more than {MAX_DEPTH} deep" in too_deep.problem
    for mail in (parse(multipart(5000)),
                 parse(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\n\r\nx\r\n" * 10_000)):
        assert f"more than {MAX_PARTS} MIME parts" in mail.problem and mail.attachments == ()


def test_attachment_names_lose_line_breaks_nuls_and_folders():
    raw = shapes.with_csv().replace(b'filename="people.csv"', b"filename*=utf-8''..%2Fetc%2Fpeo%0D%0Aple%00.csv")
    [attachment] = parse(raw).attachments
    assert attachment.filename == "peo ple .csv"
    encoded = shapes.with_csv().replace(b'filename="people.csv"', b'filename="=?utf-8?q?gr=C3=BC=C3=9Fe.csv?="')
    assert parse(encoded).attachments[0].filename == "grüße.csv"


def test_only_the_first_100_000_characters_of_a_body_are_read_in_whole_lines():
    lines = "\n".join(f"predict: age={n % 90}" for n in range(MAX_TEXT_CHARS // 10))
    text = parse(shapes.plain(lines)).text
    assert len(text) <= MAX_TEXT_CHARS and text.endswith(tuple(f"age={n}" for n in range(90)))
    huge = "a=1 " * (MAX_TEXT_CHARS // 2)           # one line longer than that is kept whole, for the core to refuse
    assert parse(shapes.plain(huge + "\nmodels")).text == huge


def test_html_without_closing_brackets_quotes_or_ends_is_read_as_text():
    assert html_to_text("<p>models</p><a <a <a") == "models\n<a <a <a"
    assert html_to_text("<p>models<!-- never closed <p>predict: no") == "models"
    assert html_to_text("<script>if (a<b) x = '</div>'</script><p>models</p>") == "models"
    # one pass: a tag ends at its first '>', even inside quotes, and the rest of such a tag shows as text
    assert html_to_text('<div class="x gmail_quote">old</div><p title="a>b">models</p>') == 'b">models'
    assert html_to_text("<p>&#" + "1" * 5000 + ";</p><p>&#65;&lt;</p>") == "\ufffd;\nA<"
