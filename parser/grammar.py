"""The command language's parser, built once from grammar.lark."""

from lark import Lark

PARSER = Lark.open("grammar.lark", rel_to=__file__, parser="lalr", maybe_placeholders=True)
