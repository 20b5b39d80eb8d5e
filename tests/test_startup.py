"""Each command starts only what it needs: `serve` loads every model and explainer before it serves, the terminal's
commands load a model when it is first named and an explainer when drivers are first asked for, and the command
parser is read back from lark's cache."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.core import Bot
from parser import grammar
from scoring.registry import Registry


def test_serve_has_every_model_and_its_explainer_loaded_before_it_serves(demo_dir, monkeypatch):
    found = {}

    async def serving(bot, config, chat=True):
        found.update({m.name: m.explainer_built for m in bot.registry.models()})
        return 0

    monkeypatch.setattr("bot.serve.serve", serving)
    assert main(["--models", str(demo_dir), "serve", "--no-chat"]) == 0
    assert found == {"churn": True, "diabetes": True, "iris": True}


def test_the_terminal_lists_models_and_shows_a_schema_without_building_an_explainer(demo_dir):
    registry = Registry(demo_dir, lazy=True)
    registry.refresh()
    bot = Bot(registry)
    assert [m.name for m in bot.models(reasons=True).body.models] == ["churn", "diabetes", "iris"]
    assert bot.schema("iris").ok and bot.schema(None).ok
    assert [m.explainer_built for m in registry.models()] == [False, False, False]


def test_a_terminal_question_builds_the_explainer_of_its_model_only(demo_dir):
    registry = Registry(demo_dir, lazy=True)
    registry.refresh()
    answer = Bot(registry).handle("predict iris: 5.1, 3.5, 1.4, 0.2")
    assert answer.ok and answer.body.rows[0].drivers
    assert {m.name: m.explainer_built for m in registry.models()} == {"churn": False, "diabetes": False,
                                                                      "iris": True}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PREDBOT_CACHE", str(tmp_path))
    return tmp_path


COMMAND = "predict churn: age=45, plan=\"Premium Plus\"; whatif income=80k"


def test_the_built_parser_is_kept_in_the_cache_and_read_back_from_it(cache):
    built = grammar.build()
    [kept] = cache.glob("grammar-*.lark-cache")
    written = kept.stat().st_mtime_ns
    again = grammar.build()
    assert kept.stat().st_mtime_ns == written           # read, not built and written again
    assert again.parse(COMMAND) == built.parse(COMMAND) == grammar.PARSER.parse(COMMAND)


def test_a_cache_file_that_does_not_match_the_grammar_is_ignored_and_replaced(cache):
    kept = grammar.cache_file(grammar.GRAMMAR.read_text())
    with open(kept, "wb") as file:
        file.write(b"0" * 64 + b"\nnot what lark wrote")
    assert grammar.build().parse(COMMAND) == grammar.PARSER.parse(COMMAND)
    with open(kept, "rb") as file:
        assert file.readline() != b"0" * 64 + b"\n"


def test_the_parser_is_built_without_a_cache_where_none_can_be_kept(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("PREDBOT_CACHE", str(tmp_path / "file" / "predbot"))
    assert grammar.cache_file("grammar") is False
    assert grammar.build().parse(COMMAND) == grammar.PARSER.parse(COMMAND)
