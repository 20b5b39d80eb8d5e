"""Where a job's input file is, and whether it may be read: checked when the job is added and again at each run.

A caller of the API names a path under the input directory: relative,
without `..`, and still inside the directory once every symbolic link is
followed (a link out of it is refused at every run, not only when added).
No message names the server's directories: only the path as the caller wrote it.
An uploaded file is kept under the output directory, beside the job's
results. At the terminal the operator may name any file.

A file is a CSV or Parquet file by its name, and its first bytes must agree:
a workbook called .csv is refused with scoring's words for what it is.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath

from bot.jobs.job import JobError
from scoring.csvfile import SNIFF_BYTES, looks_like
from scoring.problems import shorten

FORMATS = {".csv": "csv", ".parquet": "parquet"}
PARQUET_MAGIC = b"PAR1"
NAME_CHARS = 100                                    # of an uploaded file's name, as kept
UNSAFE = re.compile(r"[^\w.\- ]+")
DIGEST_BLOCK = 1 << 20


def under(directory: Path | None, given: str) -> Path:
    """The file `given` names under `directory`, every link followed; a JobError if it is not in there."""
    if directory is None:
        raise JobError("This server takes no input paths: send the file itself (a multipart upload named `file`), "
                       "or ask its owner to set an input directory (--batch-input).", "no_input_directory")
    path = PurePosixPath(given.replace("\\", "/"))
    if not given.strip() or "\x00" in given or path.is_absolute() or ".." in path.parts or re.match(r"^\w:", given):
        raise JobError(f"The path {shorten(given)!r} must name a file inside the input directory, relative to it "
                       "and without '..', like daily/customers.csv.", "path_outside")
    root = directory.resolve()
    found = (root / path).resolve()
    if not found.is_relative_to(root):
        raise JobError(f"The path {shorten(given)!r} leads outside the input directory (through a symbolic link); "
                       "name a file inside it.", "path_outside")
    return found


def format_of(name: str) -> str:
    """csv or parquet, by the file's name."""
    kind = FORMATS.get(PurePosixPath(name.lower()).suffix)
    if kind is None:
        raise JobError(f"{shorten(name)!r} is not a CSV or Parquet file: a batch scores files whose names end in "
                       ".csv or .parquet.", "not_a_table")
    return kind


def check_contents(path: Path, name: str) -> None:
    """Refuse a file whose first bytes say it is not what its name says (or that cannot be read)."""
    try:
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
    except IsADirectoryError:
        raise JobError(f"{shorten(name)!r} is a directory; name a CSV or Parquet file.", "not_a_table") from None
    except OSError as error:
        raise JobError(f"{shorten(name)!r} cannot be read: {error.strerror}.", "unreadable") from None
    if format_of(name) == "parquet":
        if not head.startswith(PARQUET_MAGIC):
            raise JobError(f"{shorten(name)!r} is not a Parquet file (it does not start as one). Save it as Parquet, "
                           "or as CSV with a name ending in .csv.", "not_a_table")
    elif found := looks_like(head):
        what, fix = found
        raise JobError(f"{shorten(name)!r} looks like {what}; a CSV file is plain text. {fix}", "not_a_table")


def upload_name(filename: str) -> str:
    """An uploaded file's name as kept and shown: its last part, without characters a path could misread."""
    name = UNSAFE.sub("_", re.split(r"[\\/]", filename)[-1]).strip(" .")
    if len(name) > NAME_CHARS:
        stem, suffix = os.path.splitext(name)
        name = stem[:NAME_CHARS - len(suffix)] + suffix
    return name or "upload"


def digest(path: Path) -> str | None:
    """The sha256 of the file, or None when it cannot be read (the run says why)."""
    hashed = hashlib.sha256()
    try:
        with path.open("rb") as file:
            for block in iter(lambda: file.read(DIGEST_BLOCK), b""):
                hashed.update(block)
    except OSError:
        return None
    return hashed.hexdigest()
