"""A CSV file as people send it: what it really is, its text, a bounded header, then numbered rows.

Anything wrong with the file as a whole is a BatchError whose message says
what and what to do; no reader's own error text reaches a person. The
standard library's csv module reads the file one record at a time, so a wide
or odd file is refused at its first line, before it costs more than that.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Iterable, Iterator
from typing import IO

log = logging.getLogger(__name__)

SNIFF_BYTES = 4096              # enough to see what a file really is
MAX_HEADER_CHARS = 65_536       # a header names columns; a longer first line is not one
LATIN_1 = "predbot-latin-1"     # the decoding error handler below
# What files that are not CSV start with, what people call them, and how to get a CSV from one.
SAVE_AS_CSV = "Open it where it was made and save or export it as CSV (comma-separated values, UTF-8)."
SAVE_SHEET = "Open it in your spreadsheet program and save it as CSV UTF-8 (File > Save As)."
UNPACK = "Decompress it and send the .csv inside."
PICTURE = "Send the table itself as a CSV file, not a picture of it."
ZIP = b"PK\x03\x04"
SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls) or another Office file", SAVE_SHEET),
    (b"\x1f\x8b", "a gzip-compressed file", UNPACK),
    (b"BZh", "a bzip2-compressed file", UNPACK),
    (b"\xfd7zXZ\x00", "an xz-compressed file", UNPACK),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", UNPACK),
    (b"(\xb5/\xfd", "a zstd-compressed file", UNPACK),
    (b"%PDF-", "a PDF document", SAVE_AS_CSV),
    (b"{\\rtf", "a rich-text (RTF) document", SAVE_AS_CSV),
    (b"\x89PNG", "a PNG image", PICTURE),
    (b"\xff\xd8\xff", "a JPEG image", PICTURE),
    (b"GIF8", "a GIF image", PICTURE),
    (b"\xff\xfe", "UTF-16 text (Excel's \"Unicode Text\")", SAVE_SHEET),
    (b"\xfe\xff", "UTF-16 text", SAVE_SHEET),
)
CONTROL_BYTES = frozenset(range(0x20)) - frozenset(b"\t\n\r\f\v") | {0x7F}


class BatchError(ValueError):
    """The file as a whole cannot be scored; the message says why and what to do."""


def _latin_1(error: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 read as latin-1, so an old spreadsheet's `é` still reads as `é`."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error(LATIN_1, _latin_1)


class _Replay(io.RawIOBase):
    """The bytes already looked at, then the rest of the source, so nothing is read twice."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size], self._head = self._head[:size], self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def looks_like(head: bytes) -> tuple[str, str] | None:
    """What a file that is not text is, and how to make a CSV of it; None for text."""
    if head.startswith(ZIP):        # workbooks are zip archives; their first entries say which kind
        if b"opendocument.spreadsheet" in head:
            return "an OpenDocument spreadsheet (.ods)", SAVE_SHEET
        if b"xl/" in head or b"[Content_Types].xml" in head:
            return "an Excel workbook (.xlsx)", SAVE_SHEET
        return "a zip archive", "Unzip it and send the .csv inside."
    for magic, what, fix in SIGNATURES:
        if head.startswith(magic):
            return what, fix
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)", SAVE_AS_CSV
    if max(head[0::2].count(0), head[1::2].count(0)) * 3 > len(head):   # a zero beside every letter
        return "UTF-16 text", SAVE_SHEET
    if b"\x00" in head or sum(byte in CONTROL_BYTES for byte in head) * 10 > len(head):
        return "binary data", SAVE_AS_CSV
    return None


def open_text(source: IO[bytes]) -> io.TextIOWrapper:
    """The file as text: UTF-8 (a BOM is dropped), any byte that is not UTF-8 read as latin-1.

    A file that is really a workbook, an archive, a PDF or other binary is
    refused from its first bytes, naming what it looks like.
    """
    head = source.read(SNIFF_BYTES)
    if found := looks_like(head):
        what, fix = found
        raise BatchError(f"This file looks like {what}; a CSV file is plain text. {fix}")
    return io.TextIOWrapper(io.BufferedReader(_Replay(head, source)), encoding="utf-8-sig", errors=LATIN_1,
                            newline="")


def read_header(text: IO[str]) -> tuple[list[str], int]:
    """The column names, and how many lines they took; at most MAX_HEADER_CHARS are read.

    Blank lines before the header are skipped, and a quoted name may run onto
    the next line, as in any CSV: the csv reader takes lines one at a time,
    only as many as the header needs.
    """
    read = lines = 0

    def bounded() -> Iterator[str]:
        nonlocal read, lines
        while line := text.readline(MAX_HEADER_CHARS + 1 - read):
            read, lines = read + len(line), lines + 1
            if read > MAX_HEADER_CHARS:
                raise BatchError(f"The first line is longer than {MAX_HEADER_CHARS:,} characters, too long for "
                                 "a header that names the columns. Check that the file starts with a header "
                                 "row, and remove the columns the model does not need.")
            yield line

    header = next(records(bounded(), None, 1), None)
    if header is None:
        raise BatchError("The file is empty; it needs a header row naming the fields.")
    return header, lines


def records(lines: Iterable[str], width: int | None, first_line: int) -> Iterator[list[str]]:
    """Each record of `lines` as `width` cells (short rows end in empty cells); blank lines are skipped.

    `first_line` is the file's line number of the first of `lines`, so that a
    refusal names the line a person sees in an editor.
    """
    reader = csv.reader(lines, skipinitialspace=True, strict=True)
    end = 0  # the last line of the previous record
    try:
        for cells in reader:
            start, end = first_line + end, reader.line_num
            if cells in ([], [""]):
                continue
            if width is not None and len(cells) > width:
                raise BatchError(f"Line {start:,} has {len(cells):,} values; the header has {width:,}. "
                                 "Put quotes around values that contain commas, or name every column "
                                 "in the header.")
            yield cells if width is None else cells + [""] * (width - len(cells))
    except csv.Error as error:
        raise BatchError(unreadable(error, first_line + end)) from None


def unreadable(error: csv.Error, line: int) -> str:
    """What a csv.Error means for the person who sent the file, at the record starting on `line`."""
    reason = str(error)
    if reason.startswith("unexpected end of data"):
        return f'A quote (") opened on line {line:,} never closes. Close it, or remove it.'
    if reason.startswith("field larger than field limit"):
        return (f"Line {line:,} has a value longer than {csv.field_size_limit():,} characters. "
                'Most likely a quote (") opened there never closes; close it, or remove it.')
    if "expected after" in reason:
        return (f'Line {line:,} has text right after a closing quote, like "a"b. Put the whole value in '
                "quotes, or remove the quotes.")
    log.warning("CSV line %d unreadable: %s", line, reason)
    return f"Line {line:,} cannot be read as CSV. Check that line, or save the file as CSV again."
