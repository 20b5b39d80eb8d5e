"""The command language's parser, built once from grammar.lark.

Building it takes lark a tenth of a second, which every start of predbot
would pay, so lark keeps what it builds in predbot's cache directory (as the
environment names it: the parser is built before any --cache flag is read).
Lark uses the file only if the hash of the grammar, the options, its own
version and Python's, written in its first line, matches, and builds the
parser anew (rewriting the file) otherwise, or if the file cannot be read;
the file's name carries a hash of the same, so checkouts with different
grammars keep a file each. The file is a pickle, trusted as the demo models
beside it are: the directory is the user's own.
"""

import hashlib
import os
import re
import sys
from pathlib import Path

import lark
from lark import Lark

GRAMMAR = Path(__file__).with_name("grammar.lark")


def cache_directory() -> Path:
    """$PREDBOT_CACHE, else $XDG_CACHE_HOME/predbot, else ~/.cache/predbot, as bot.config reads them."""
    if given := os.environ.get("PREDBOT_CACHE"):
        return Path(given)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "predbot"


def cache_file(grammar: str) -> str | bool:
    """Where lark keeps the parser built from `grammar`; False (no cache) where the directory cannot be made."""
    try:
        directory = cache_directory()
        directory.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):     # RuntimeError: no home directory to be found
        return False
    key = hashlib.sha256(f"{grammar}{lark.__version__}{sys.version_info[:2]}".encode()).hexdigest()[:16]
    return str(directory / f"grammar-{key}.lark-cache")


def build() -> Lark:
    grammar = GRAMMAR.read_text()
    return Lark(grammar, parser="lalr", maybe_placeholders=True, cache=cache_file(grammar))


PARSER = build()


def terminal(name: str) -> re.Pattern[str]:
    """A terminal of grammar.lark as a regular expression, so that code outside the parser shares its definition."""
    return re.compile(PARSER.get_terminal(name).pattern.to_regexp())
