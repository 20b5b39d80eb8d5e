"""The command language's parser, built once from grammar.lark."""

import re

from lark import Lark

PARSER = Lark.open("grammar.lark", rel_to=__file__, parser="lalr", maybe_placeholders=True)


def terminal(name: str) -> re.Pattern[str]:
    """A terminal of grammar.lark as a regular expression, so that code outside the parser shares its definition."""
    return re.compile(PARSER.get_terminal(name).pattern.to_regexp())
