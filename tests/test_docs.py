"""The README documents what the code does: every command of the grammar and every CLI subcommand."""

from __future__ import annotations

import re
from pathlib import Path

import parser as commands
from bot.cli import build_parser

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_readme_shows_the_two_commands_first():
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_readme_table_has_every_command_of_the_grammar():
    documented = {m.group(1) for m in re.finditer(r"^\| `([a-z]+)", README, re.MULTILINE)}
    for doc in commands.COMMANDS:
        assert doc.name in documented, f"README's command table lacks {doc.name}"
        assert commands.parse(doc.example) is not None


def test_readme_mentions_every_cli_subcommand():
    subcommands = build_parser()._subparsers._group_actions[0].choices
    for name in subcommands:
        assert f"predbot {name}" in README, f"README never shows `predbot {name}`"
