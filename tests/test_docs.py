"""The README documents what the code does: every command of the grammar, every CLI subcommand, every setting."""

from __future__ import annotations

import re
from pathlib import Path

import parser as commands
from bot.cli import build_parser

README = (Path(__file__).parents[1] / "README.md").read_text()
CONFIG = (Path(__file__).parents[1] / "bot" / "config.py").read_text()


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


def test_readme_configuration_table_has_every_flag_and_variable():
    table = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    top = build_parser()
    parsers = [top, *top._subparsers._group_actions[0].choices.values()]
    flags = {flag for parser in parsers for action in parser._actions for flag in action.option_strings
             if flag.startswith("--") and flag != "--help"}
    for flag in sorted(flags):
        assert f"`{flag}" in table, f"README's configuration table lacks {flag}"
    # our variables start with PREDBOT_, Slack's with SLACK_ (DESIGN.md); and the two of the system's we read
    variables = set(re.findall(r'"((?:PREDBOT|SLACK|XDG)_[A-Z_]+|USER)"', CONFIG))
    assert {"PREDBOT_MODELS", "SLACK_BOT_TOKEN", "PREDBOT_MAIL_ALLOWED_SENDERS", "USER"} <= variables
    for variable in sorted(variables):
        assert f"`{variable}`" in table or f"`${variable}/" in table, f"README's configuration table lacks {variable}"
