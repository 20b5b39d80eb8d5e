"""A CSV file as people send it: what it really is, its text and layout, a bounded header, then numbered rows.

Anything wrong with the file as a whole is a BatchError whose message says
what and what to do; no reader's own error text reaches a person. The
standard library's csv module reads the file one record at a time, so a wide
or odd file is refused at its first line, before it costs more than that.

The layout is sniffed from the first SNIFF_BYTES: what separates values
(`,` `;` tab `|`, csv.Sniffer), and whether numbers use a decimal comma, as
Excel writes CSV where the comma is the decimal mark (`12,5` in a file
separated by `;`).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from parser import values

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
SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}   # what may separate values, and names
SIGNS = str.maketrans("", "", "$€£% ")                                      # what may stand around a number
# Numbers in the sniffed lines that can only be read one way: `12,5` and `1.234,5` have a decimal comma,
# `12.5` a decimal point; `1,234` and `1.234` could be either, so they do not count.
DECIMAL_COMMA = re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+")
DECIMAL_POINT = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d+)?\.\d+")
GROUPED = re.compile(r"[-+]?\d{1,3}([.,]\d{3})+")
SWAPPED = str.maketrans(",.", ".,")


class BatchError(ValueError):
    """The file as a whole cannot be scored; the message says why and what to do."""


@dataclass(frozen=True)
class Layout:
    """How a file writes its table: what separates values, and the decimal mark of its numbers."""

    delimiter: str = ","
    decimal: str = "."

    @property
    def tried(self) -> str:
        """How the file was read, for a refusal: the first thing to check when a read fails."""
        return (f"(It was read with {SEPARATORS[self.delimiter]} between values and '{self.decimal}' as the decimal "
                "mark, after looking for commas, semicolons, tabs and '|'.)")

    def number(self, cell: str) -> str | int | float:
        """A number field's cell: the number it writes with this decimal mark (with a decimal comma, `.` groups
        thousands: `1.200,5` is 1200.5), else the cell as it is, for the value reader and any refusal."""
        if self.decimal == "." or ("," not in cell and "." not in cell):
            return cell
        read = values.read(cell.translate(SWAPPED))
        return read if isinstance(read, (int, float)) and not isinstance(read, bool) else cell


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


def open_csv(source: IO[bytes], decimal: str | None = None) -> tuple[io.TextIOWrapper, Layout]:
    """The file as text, and its layout sniffed from its first bytes (`decimal` None: sniff that too).

    Text is UTF-8 (a BOM is dropped), any byte that is not UTF-8 read as
    latin-1. A file that is really a workbook, an archive, a PDF or other
    binary is refused from its first bytes, naming what it looks like.
    """
    head = source.read(SNIFF_BYTES)
    if found := looks_like(head):
        what, fix = found
        raise BatchError(f"This file looks like {what}; a CSV file is plain text. {fix}")
    text = io.TextIOWrapper(io.BufferedReader(_Replay(head, source)), encoding="utf-8-sig", errors=LATIN_1,
                            newline="")
    return text, sniff(head.decode("utf-8-sig", errors=LATIN_1), decimal)


def sniff(sample: str, decimal: str | None = None) -> Layout:
    """The layout of the lines in `sample`: csv.Sniffer's separator, else the one the first line has most of
    (a comma if none: one column); and a decimal comma when the file is not comma-separated and its numbers
    are written `12,5`, none `12.5`."""
    lines = sample[:sample.rfind("\n") + 1] or sample      # whole lines, unless the first is longer than the sample
    try:
        delimiter = csv.Sniffer().sniff(lines, "".join(SEPARATORS)).delimiter
    except csv.Error:       # too few lines, or lines that differ (short rows), to tell
        first = next((line for line in lines.splitlines() if line.strip()), "")
        delimiter = max(SEPARATORS, key=first.count)
    if decimal is None:
        decimal = "," if delimiter != "," and _decimal_commas(lines, delimiter) else "."
    return Layout(delimiter, decimal)


def _decimal_commas(lines: str, delimiter: str) -> bool:
    """Do the numbers of these lines (after the first, the header) have decimal commas, and none a point?"""
    rows = list(csv.reader(lines.splitlines(keepends=True), delimiter=delimiter))[1:]
    cells = [cell.translate(SIGNS) for row in rows for cell in row]
    unambiguous = [cell for cell in cells if not GROUPED.fullmatch(cell)]
    return (any(DECIMAL_COMMA.fullmatch(cell) for cell in unambiguous)
            and not any(DECIMAL_POINT.fullmatch(cell) for cell in unambiguous))


def read_header(text: IO[str], layout: Layout) -> tuple[list[str], int]:
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

    header = next(records(bounded(), None, 1, layout), None)
    if header is None:
        raise BatchError("The file is empty; it needs a header row naming the fields.")
    return header, lines


def records(lines: Iterable[str], width: int | None, first_line: int, layout: Layout) -> Iterator[list[str]]:
    """Each record of `lines` as `width` cells (short rows end in empty cells); blank lines are skipped.

    `first_line` is the file's line number of the first of `lines`, so that a
    refusal names the line a person sees in an editor, and says how the file
    was read.
    """
    reader = csv.reader(lines, delimiter=layout.delimiter, skipinitialspace=True, strict=True)
    end = 0  # the last line of the previous record
    try:
        for cells in reader:
            start, end = first_line + end, reader.line_num
            if cells in ([], [""]):
                continue
            if width is not None and len(cells) > width:
                raise BatchError(f"Line {start:,} has {len(cells):,} values; the header has {width:,}. "
                                 f"Put quotes around values that contain {SEPARATORS[layout.delimiter]}, or "
                                 f"name every column in the header. {layout.tried}")
            yield cells if width is None else cells + [""] * (width - len(cells))
    except csv.Error as error:
        raise BatchError(f"{unreadable(error, first_line + end)} {layout.tried}") from None


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
