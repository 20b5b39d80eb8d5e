"""Text a person meant as one key or one value that only quotes can make one: what a hint puts in quotes.

`predict wine: od280/od315=3.9` and `predict: contract=two year` do not parse; their hints show
`"od280/od315"=3.9` and `contract="two year"`. Where the text starts comes from the words the parser had
already read as values (the top of its value stack), where it ends from the text: the '=' or ':' after a key,
the end of the item after a value. Both scans run once over the one item, so they stay linear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from lark import Token, Tree

from parser.format import bare_key

# the rest of a key up to its '=' or ':' (a quote, ',', ';' or a line break first: no key)
KEY_REST = re.compile(r"[^,;=:\n\"'“‘]*[=:]")
# the rest of a value of words (`year`, `Plus Extra`) up to the next item: ',', ';', a line break, '->' or the end;
# `plan=Basic income 60000` is rather a missing '=', so a number ends it
VALUE_REST = re.compile(r"[^\W\d_][\w.-]*(?:[^\S\n]+[^\W\d_][\w.-]*)*[^\S\n]*(?=[,;\n]|->|$)")
BETWEEN_WORDS = re.compile(r"[^\S\n]*")
WORD_TOKENS = frozenset({"WORD", "BOOL", "MISSING"})     # the second word of a value reads as one of these
PAIR_SEPARATORS = frozenset({"EQUAL", "COLON"})


def key(text: str, pos: int, stack: Sequence[object]) -> tuple[int, int] | None:
    """The span of a key that needs quotes, around where parsing stopped (`pos`), or None.

    `od280/od315=3.9` stops at '/', after the parser read `od280` as a value; `total (usd)=4` at '(' after
    `total`; `a=1, sepal.length=5` at `sepal`.
    """
    rest = KEY_REST.match(text, pos)
    if rest is None:
        return None
    start = _words_read(text, pos, stack)
    end = start + len(text[start:rest.end() - 1].rstrip())
    typed = text[start:end]
    if not typed or "->" in typed or bare_key(typed):
        return None
    return start, end


def value(text: str, pos: int, token_type: str, stack: Sequence[object]) -> tuple[int, int] | None:
    """The span of a value of several words that needs quotes, when parsing stopped at its second word
    (`contract=two year` at `year`), or None."""
    if token_type not in WORD_TOKENS or len(stack) < 2 or _type(stack[-2]) not in PAIR_SEPARATORS:
        return None
    first = _word(stack[-1])
    rest = VALUE_REST.match(text, pos)
    if first is None or rest is None or not _spaces_only(text, first.end_pos, pos):
        return None
    return first.start_pos, pos + len(rest.group().rstrip())


def _words_read(text: str, pos: int, stack: Sequence[object]) -> int:
    """Where the bare words the parser read just before `pos`, on its line and with only spaces between
    them, start: the beginning of a key it took for values. The value after a '=' is not one of them (after a
    ':' it may be: `predict wine: od280/od315=3.9` reads `wine: od280` as a pair before it stops)."""
    start = pos
    for depth, word in _last_words(stack):
        older = len(stack) - depth - 2
        if not _spaces_only(text, word.end_pos, start) or (older >= 0 and _type(stack[older]) == "EQUAL"):
            break
        start = word.start_pos
    return start


def _last_words(stack: Sequence[object]) -> Iterator[tuple[int, Token]]:
    """The bare words at the top of the stack, newest first, with how deep in the stack each one's item is."""
    for depth, item in enumerate(reversed(stack)):
        if (word := _word(item)) is not None:
            yield depth, word
        elif isinstance(item, Tree) and item.data == "_values":
            for child in reversed(item.children):
                if (word := _word(child)) is None:
                    return
                yield depth, word
        else:
            return


def _word(item: object) -> Token | None:
    """The token of a bare word (`two`, `od280`), read as a value or not yet reduced to one."""
    if isinstance(item, Tree) and item.data in ("word", "boolean") and len(item.children) == 1:
        item = item.children[0]
    return item if isinstance(item, Token) and item.type in ("WORD", "BOOL") else None


def _type(item: object) -> str | None:
    return item.type if isinstance(item, Token) else None


def _spaces_only(text: str, start: int, end: int) -> bool:
    return start <= end and BETWEEN_WORDS.fullmatch(text, start, end) is not None
