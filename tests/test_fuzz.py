"""Any text and any file through Bot.handle and every renderer: never an apology, a leak or a broken message.

Hypothesis writes commands from the command language's own pieces (verbs,
model names, the demo models' fields and categories, numbers with units,
numbers of hundreds of digits, quotes, separators, `->`) mixed with random
unicode, and CSV files from random bytes and odd shapes. Every answer is
rendered for the terminal, Slack and email, and `check` holds each to the
same properties; renderers are also handed any reply at all. The stress run
(tests/test_fuzz_stress.py) puts 100,000 inputs through the same
`fuzz`; here a few hundred from fixed seeds keep `make test` short and its
outcome the same on every run.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from bot import reply
from bot.core import Bot
from bot.render import email, slack, text
from doubles.slack import block_problem
from scoring.registry import Registry

SENDER = reply.Sender("U1", channel="fuzz")
ROUND = 1000            # examples per hypothesis run (see fuzz)
VERBS = ["predict:", "predict", "/predict", "whatif:", "what if", "->", "=>", "explain", "schema", "fields",
         "models", "help", "history", "show", "feedback", "PREDICT", "Predict:"]
HOSTILE = ["<!channel>", "<@U123>", "<http://x|y>", "&amp;", "&", "<script>", "</p>", "```", "*", "_", "~", "`",
           "\x00", "\u202e", "\ufeff", "%s", "{0}", "{", "}", "\\", "\\n", "'", '"', "“", "”", "‘", "’"]
SEPARATORS = [" ", "", ",", ", ", ";", "\n", "\r\n", "\t", ":", "=", " = ", "==", "  "]
MISSING = ["?", "na", "n/a", "null", "none", "missing", "NaN"]
UNITS = ["", "k", "K", "M", "B", "bn", "%", "e3", "e400", "e-400", ".", ".5"]
# What would betray the code behind an answer, unless the person typed it themselves.
LEAKS = [r"Traceback", r"File \"", r"Error tokenizing", r"C error", r"\bnp\.\w+\(", r"numpy", r"pandas",
         r"dtype", r"\b\w*Error\b", r"\b\w*Exception\b", r"\bNone\b", r"\bTrue\b", r"\bFalse\b", r"\bnan\b",
         r"\binf\b", r"object at 0x", r"<class '", r"\\x[0-9a-f]{2}", r"\.joblib\b",
         r"could not score this row", r"went wrong on our side"]
EMAIL_TAGS = {"!doctype", "html", "head", "meta", "style", "body", "p", "code", "b", "br", "ul", "li", "table",
              "tr", "th", "td", "pre", "hr"}
SIGNATURES = [b"PK\x03\x04", b"\x1f\x8b\x08", b"%PDF-1.7\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x89PNG\r\n",
              b"\xff\xfe", b"\xef\xbb\xbf", b"<!DOCTYPE html>", b"BZh91AY&SY"]


@dataclass(frozen=True)
class Vocabulary:
    """The words of the installed models, so fuzzed commands and files reach scoring, not only the parser."""

    fields: dict[str, tuple[str, ...]]      # model -> its field names and aliases
    widths: dict[str, int]                  # model -> how many fields it has
    categories: tuple[str, ...]

    @classmethod
    def of(cls, registry: Registry) -> Vocabulary:
        models = registry.models()
        return cls({m.name: tuple(k for f in m.schema.features for k in (f.name, *f.aliases)) for m in models},
                   {m.name: len(m.schema.features) for m in models},
                   tuple(sorted({c for m in models for f in m.schema.features for c in f.categories})))

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.fields)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(sorted({k for keys in self.fields.values() for k in keys}))


def numbers() -> st.SearchStrategy[str]:
    """Numbers as people and attackers write them: units, currency, exponents, and 300 to 2,000 digits."""
    small = st.integers(-10**6, 10**6).map(str)
    whole = st.one_of(small, small, small, small, st.integers(300, 2000).map(lambda n: "9" * n),
                      st.integers(300, 400).flatmap(lambda n: st.integers(10 ** (n - 1), 10**n)).map(str))
    return st.one_of(st.builds(str.__add__, whole, st.sampled_from(["", "", "", *UNITS])),
                     st.builds(lambda sign, unit, n: f"{sign}{unit}{n.lstrip('-')}", st.sampled_from(["", "-"]),
                               st.sampled_from("$€£"), whole),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr))


def plain_values(vocabulary: Vocabulary) -> st.SearchStrategy[str]:
    """Values a field may take, or nearly: numbers of every size and form, categories, missing, yes/no, text."""
    category = st.sampled_from(vocabulary.categories).map(lambda c: f'"{c}"' if " " in c else c)
    return st.one_of(numbers(), numbers(), category, st.sampled_from(MISSING),
                     st.sampled_from(["yes", "no", "true", "off", "Y"]),
                     st.text(max_size=30).map(lambda t: '"' + t.replace('"', "").replace("\\", "") + '"'))


def values(vocabulary: Vocabulary) -> st.SearchStrategy[str]:
    """Plain values, and noise: random unicode, runs of thousands of letters, markup and escapes."""
    noise = st.one_of(st.text(max_size=12), st.integers(100, 6000).map(lambda n: "x" * n), st.sampled_from(HOSTILE))
    return st.one_of(plain_values(vocabulary), plain_values(vocabulary), noise)


def commands(vocabulary: Vocabulary) -> st.SearchStrategy[str]:
    """Well-formed predictions and what-ifs with fuzzed values, and free mixes of every piece."""
    return st.one_of(predictions(vocabulary), predictions(vocabulary), whatifs(vocabulary), mixes(vocabulary))


def rows(vocabulary: Vocabulary, model: str) -> st.SearchStrategy[str]:
    """`key=value` pairs of one model's fields (or its values in order), the way people separate them."""
    own = st.sampled_from(vocabulary.fields[model])
    key = st.one_of(own, own, own.map(str.upper), st.sampled_from(vocabulary.keys))
    pair = st.builds(lambda k, eq, v: f"{k}{eq}{v}", key, st.sampled_from(["=", "=", ":", " = "]),
                     plain_values(vocabulary))
    width = vocabulary.widths[model]
    items = st.one_of(st.lists(pair, min_size=1, max_size=6), st.lists(pair, min_size=1, max_size=6),
                      st.lists(plain_values(vocabulary), min_size=width, max_size=width),
                      st.lists(plain_values(vocabulary), max_size=width + 2))
    return st.builds(lambda values, gap: gap.join(values), items, st.sampled_from([", ", ", ", " ", ","]))


def predictions(vocabulary: Vocabulary) -> st.SearchStrategy[str]:
    return st.one_of(*(st.builds(lambda start, lines, gap: start + gap.join(lines),
                                 st.sampled_from([f"predict {model}: ", f"{model}: "] +
                                                 (["predict: ", ""] if model == "churn" else [])),
                                 st.lists(rows(vocabulary, model), min_size=1, max_size=4),
                                 st.sampled_from(["; ", "\n", ";"]))
                       for model in vocabulary.models))


def whatifs(vocabulary: Vocabulary) -> st.SearchStrategy[str]:
    return st.one_of(*(st.builds(lambda model, base, arrow, changes: f"whatif {model}: {base} {arrow} {changes}",
                                 st.just(model), rows(vocabulary, model), st.sampled_from(["->", "=>", "-", ""]),
                                 rows(vocabulary, model))
                       for model in vocabulary.models))


def mixes(vocabulary: Vocabulary) -> st.SearchStrategy[str]:
    """A verb or none, a model or none, then pieces: key=value pairs, bare values, tokens, noise."""
    key = st.one_of(st.sampled_from(vocabulary.keys), st.text(min_size=1, max_size=8))
    pair = st.builds(lambda k, eq, v: f"{k}{eq}{v}", key, st.sampled_from(["=", ":", "=="]), values(vocabulary))
    token = st.one_of(st.sampled_from(VERBS), st.sampled_from(vocabulary.models), st.sampled_from(HOSTILE),
                      st.text(max_size=6))
    piece = st.builds(str.__add__, st.one_of(pair, values(vocabulary), token), st.sampled_from(SEPARATORS))
    head = st.builds(lambda verb, model, colon: f"{verb} {model}{colon} ".lstrip(),
                     st.sampled_from(["predict", "whatif", "", "explain", "schema", "help", "/predict"]),
                     st.sampled_from([*vocabulary.models, "", "chrun"]), st.sampled_from([":", ""]))
    return st.builds(lambda start, pieces: start + "".join(pieces), head, st.lists(piece, max_size=24))


def csv_files(vocabulary: Vocabulary, keys: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    """CSV text with columns named from `keys`, plain and odd, in several encodings; random bytes;
    and files that start like a workbook, an archive, a PDF or a picture."""
    odd = st.sampled_from(['"', '""', 'a"b', '"x"y', '"open', ",", "", "\n", "=cmd()"])
    cell = st.one_of(values(vocabulary), values(vocabulary), odd)
    name = st.one_of(st.sampled_from(keys), st.sampled_from(keys), st.sampled_from(keys), st.text(max_size=8),
                     st.sampled_from(HOSTILE))
    header = st.one_of(st.lists(name, min_size=1, max_size=12), st.lists(name, min_size=1, max_size=12),
                       st.integers(100, 3000).map(lambda n: [keys[0], *(f"c{i}" for i in range(n))]))
    table = header.flatmap(lambda names: st.tuples(
        st.just(names), st.lists(st.lists(cell, min_size=len(names), max_size=len(names)), min_size=1, max_size=12)))
    quoted = st.builds(written, table, st.sampled_from(["\n", "\r\n"]))
    raw = st.builds(lambda rows, end: end.join(",".join(row) for row in [rows[0], *rows[1]]) + end,
                    table, st.sampled_from(["\n", "\r\n", "\r"]))
    encoded = st.builds(lambda text, codec: text.encode(codec, "replace"), st.one_of(quoted, quoted, raw),
                        st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return st.one_of(encoded, encoded, encoded, encoded, st.binary(max_size=3000),
                     st.builds(bytes.__add__, st.sampled_from(SIGNATURES), st.binary(max_size=300)))


def written(rows: tuple[list[str], list[list[str]]], end: str) -> str:
    """A table as a spreadsheet writes it: quoted where a cell needs it."""
    out = io.StringIO()
    csv.writer(out, lineterminator=end).writerows([rows[0], *rows[1]])
    return out.getvalue()


def attachments(vocabulary: Vocabulary, keys: tuple[str, ...]) -> st.SearchStrategy[tuple[reply.Attachment, ...]]:
    name = st.one_of(st.just("data.csv"), st.text(max_size=40).map(lambda t: f"{t}.csv"))
    return st.lists(st.builds(reply.Attachment, name, csv_files(vocabulary, keys)), min_size=1, max_size=2).map(tuple)


def typed_commands(vocabulary: Vocabulary) -> st.SearchStrategy[tuple[str, tuple[reply.Attachment, ...]]]:
    return commands(vocabulary).map(lambda said: (said, ()))


def sent_files(vocabulary: Vocabulary) -> st.SearchStrategy[tuple[str, tuple[reply.Attachment, ...]]]:
    """Files for a named model with its own columns, mostly; any file with any words, too."""
    for_a_model = st.one_of(*(st.tuples(st.just(f"predict {model}"), attachments(vocabulary, vocabulary.fields[model]))
                              for model in vocabulary.models))
    said = st.sampled_from(["", "predict", "churn", "predict: iris", "chrun", "a b", "<!channel>"])
    return st.one_of(for_a_model, for_a_model, st.tuples(said, attachments(vocabulary, vocabulary.keys)))


def replies() -> st.SearchStrategy[reply.Reply]:
    """Any reply a renderer may be handed, every text field drawn from hostile text and random unicode."""
    words = st.one_of(st.text(max_size=60), st.sampled_from(HOSTILE), st.integers(1, 5000).map(lambda n: "<&>" * n))
    said = words.filter(bool)           # a refusal or help always says something
    amount = st.floats(-1e40, 1e40)
    share = st.floats(0, 1)
    scale = st.sampled_from(["probability", "log-odds", "raw score", "target", ""])
    driver = st.builds(reply.Factor, words, words, amount, st.sampled_from(["up", "down", "none"]))
    ok_row = st.builds(reply.Row, inputs=words, prediction=words, value=st.none() | amount,
                       confidence=st.none() | share, probabilities=st.dictionaries(words, share, max_size=14),
                       drivers=st.lists(driver, max_size=12).map(tuple),
                       warnings=st.lists(words, max_size=4).map(tuple))
    failed_row = st.builds(reply.Row, inputs=words, reason=words, warnings=st.lists(words, max_size=4).map(tuple))
    row = ok_row | failed_row
    field = st.builds(reply.Field, words, words, words, words, words, st.lists(words, max_size=3).map(tuple),
                      st.booleans())
    scored = st.builds(reply.ScoredFile, words, st.integers(0, 10**6), st.integers(0, 10**6),
                       st.dictionaries(words, st.integers(0, 10**6), max_size=5),
                       st.lists(words, max_size=200).map(tuple), error=st.none() | words, result=st.none() | words)
    whatif = st.builds(reply.WhatIf, row, row,
                       st.lists(st.builds(reply.Change, words, words, words), max_size=5).map(tuple),
                       st.lists(driver, max_size=12).map(tuple), scale, words)
    live = st.lists(st.builds(reply.LiveAccuracy, words, st.integers(0, 10**6), st.none() | share,
                              st.none() | amount), max_size=4).map(tuple)
    at = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
    remembered = st.builds(reply.Remembered, words, at, words, words, words,
                           st.builds(reply.Prediction, st.lists(row, max_size=4).map(tuple), scale) | whatif,
                           st.lists(st.builds(reply.Outcome, st.integers(1, 60), words), max_size=4).map(tuple))
    body = st.one_of(
        st.builds(reply.Prediction, st.lists(row, max_size=60).map(tuple), scale),
        whatif,
        st.builds(reply.Importances, st.lists(st.builds(reply.Importance, words, share), max_size=40).map(tuple),
                  scale, st.integers(0, 10**6), live),
        st.builds(reply.SchemaInfo, st.lists(field, max_size=40).map(tuple), words, words, words),
        st.builds(reply.Models, st.lists(st.builds(reply.ModelInfo, words, words, words, words, words, st.booleans(),
                                                   live), max_size=30).map(tuple)),
        st.builds(reply.Batch, st.lists(scored, max_size=5).map(tuple)),
        st.builds(reply.Help, said),
        st.builds(reply.Unanswered, said, words, words, words),
        st.builds(reply.History, st.lists(remembered, max_size=50).map(tuple), st.none() | words,
                  st.integers(1, 10**4)),
        remembered,
        st.builds(reply.Noted, words, st.integers(1, 60), st.integers(1, 60), words, words, st.none() | st.booleans(),
                  st.none() | amount, st.none() | live.map(lambda lives: lives[0] if lives else None)))
    return st.builds(reply.Reply, st.sampled_from(list(reply.Status)), body, st.none() | words, st.none() | words,
                     st.none() | words)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)

    def handle_decl(self, decl: str) -> None:
        self.tags.add("!" + decl.split()[0].lower())


def slack_texts(message: dict) -> list[str]:
    found = [message["text"]]
    for block in message["blocks"]:
        found += [block["text"]["text"]] if "text" in block else []
        found += [f["text"] for f in block.get("fields", ())]
        found += [e["text"] for e in block.get("elements", ()) if e["type"] == "mrkdwn"]
    return found


@dataclass(frozen=True)
class Answered:
    seconds: float          # how long handle() took
    kind: str               # the reply's status, or its problem's label: "ok", "syntax", "too_long", "internal"


def check(bot: Bot, said: str, files: Sequence[reply.Attachment] = ()) -> Answered:
    """Answer one message, render it everywhere, and hold every property."""
    start = time.perf_counter()
    answer = bot.handle(said, SENDER, files)
    seconds = time.perf_counter() - start
    sent = "\n".join([said, *(f.filename for f in files), *(f.content.decode("latin-1") for f in files)])
    shown = text.render(answer)
    assert not (isinstance(answer.body, reply.Unanswered) and answer.body.label == "internal"), shown
    for leak in LEAKS:
        if not re.search(leak, sent):
            assert not re.search(leak, shown), f"{leak!r} in {shown[:2000]!r}"
    assert str(bot.registry.directory) not in shown
    # Linear in what was sent: a long message may be echoed, never multiplied.
    assert len(shown) <= 40_000 + 2 * len(sent)
    assert len(email.plain([email.Answer(said, answer)])) <= 40_000 + 3 * len(sent)
    assert len(email.html([email.Answer(said, answer)])) <= 60_000 + 6 * len(sent)
    renders_safely(answer, said)
    return Answered(seconds, answer.body.label if isinstance(answer.body, reply.Unanswered) else str(answer.status))


def renders_safely(answer: reply.Reply, said: str) -> None:
    """Every channel renders `answer`: Slack within Block Kit's limits, nothing a person wrote left unescaped."""
    text.render(answer)
    message = slack.render(answer, share=said)
    assert block_problem(message["blocks"]) is None
    for part in slack_texts(message):
        assert len(part) <= slack.MAX_SECTION
        assert "<" not in part and ">" not in part, part
        assert re.sub(r"&(amp|lt|gt);", "", part).count("&") == 0, part
    mail = [email.Answer(said, answer)]
    email.plain(mail)
    tags = Tags()
    tags.feed(email.html(mail))
    assert tags.tags <= EMAIL_TAGS, tags.tags - EMAIL_TAGS


@dataclass
class Fuzzed:
    seconds: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    def add(self, answered: Answered) -> None:
        self.seconds.append(answered.seconds)
        self.kinds[answered.kind] += 1


def fuzz(bot: Bot, messages: st.SearchStrategy[tuple[str, tuple[reply.Attachment, ...]]], count: int,
         first_seed: int) -> Fuzzed:
    """`check` on `count` messages drawn by hypothesis, in rounds of ROUND seeded from `first_seed`.

    One hypothesis run remembers every example it drew (about 50 MB per thousand
    here), so a long run is many short ones: memory stays flat, and a seed
    reproduces any round.
    """
    fuzzed = Fuzzed()
    for offset in range(0, count, ROUND):
        @seed(first_seed + offset)
        @settings(max_examples=min(ROUND, count - offset), database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(messages)
        def run(message: tuple[str, tuple[reply.Attachment, ...]]) -> None:
            fuzzed.add(check(bot, *message))

        run()
    return fuzzed


@pytest.fixture(scope="module")
def bot(registry: Registry) -> Bot:
    return Bot(registry)


@pytest.fixture(scope="module")
def vocabulary(registry: Registry) -> Vocabulary:
    return Vocabulary.of(registry)


def test_any_command_is_answered_without_apology_leak_or_broken_message(bot, vocabulary):
    fuzzed = fuzz(bot, typed_commands(vocabulary), 300, first_seed=0)
    assert len(fuzzed.seconds) == 300
    assert fuzzed.kinds["ok"] + fuzzed.kinds["not_predicted"] >= 60     # a fifth reach the scorer


def test_any_file_is_answered_without_apology_leak_or_broken_message(bot, vocabulary):
    fuzzed = fuzz(bot, sent_files(vocabulary), 100, first_seed=0)
    assert len(fuzzed.seconds) == 100
    assert fuzzed.kinds["ok"] > 10


@pytest.mark.parametrize("said", [
    "predict: age=" + "9" * 400,
    "predict: autopay=" + "9" * 309 + ", region=" + "9" * 400,
    "predict iris: " + "9" * 500 + ", 1, 1, 1",
    "whatif: age=45 -> income=" + "9" * 400,
    "predict: plan=" + "x" * 5000,
    "predict " + "m" * 3000 + ": age=5",
    'predict: plan="<!channel> & <b>", region=north',
])
def test_known_hostile_commands_hold_every_property(bot, said):
    check(bot, said)


def test_a_value_of_5000_characters_is_never_echoed_whole(bot):
    answer = bot.handle("predict: plan=" + "x" * 5000 + ", age=40", SENDER)
    shown = text.render(answer)
    assert "plan has no category 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… (5,000 characters)'" in shown
    for rendered in (shown, json.dumps(slack.render(answer)), email.html([email.Answer("", answer)])):
        assert "x" * 300 not in rendered


@given(replies(), st.text(max_size=300))
@settings(max_examples=100, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_renderer_takes_any_reply(answer, said):
    renders_safely(answer, said)


class Canned:
    """A bot that always gives one reply, to show that `check` fails on what it must catch."""

    def __init__(self, answer: reply.Reply, registry: Registry) -> None:
        self.answer, self.registry = answer, registry

    def handle(self, *_: object) -> reply.Reply:
        return self.answer


@pytest.mark.parametrize("problem", [
    reply.Unanswered("Sorry, something went wrong on our side while answering that.", label="internal"),
    reply.Unanswered("income expects a number, got np.float64(1.0).", label="wrong_type"),
    reply.Unanswered("Error tokenizing data. C error: Expected 3 fields in line 7, saw 4", label="unreadable"),
    reply.Unanswered("plan has no category None.", label="unknown_category"),
])
def test_check_fails_on_an_apology_or_a_leak(registry, problem):
    with pytest.raises(AssertionError):
        check(Canned(reply.Reply(reply.Status.REFUSED, problem), registry), "predict: age=45")


def test_check_fails_on_a_model_path(registry):
    leak = reply.Unanswered(f"cannot open {registry.directory}/churn.pkl", label="refused")
    with pytest.raises(AssertionError):
        check(Canned(reply.Reply(reply.Status.REFUSED, leak), registry), "predict: age=45")
