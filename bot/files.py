"""A file written whole or not at all: `predbot score -o` and `predbot export -o` never leave half a file."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Replacement:
    path: Path              # write here
    keep: bool = True       # set False to leave the target as it was


@contextmanager
def replaced(target: Path) -> Iterator[Replacement]:
    """A new file beside `target` to write, renamed over it when the block ends well (and `keep` holds), removed
    otherwise, Ctrl-C included.

    Beside it, so that the rename is atomic; through a symbolic link, so that the link stays and its file is
    replaced. The new file gets the permissions `open` gives a new file (0666 less the umask, not tempfile's
    0600); one that replaces a file keeps that file's.
    """
    target = target.resolve()
    while True:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    replacement = Replacement(temporary)
    try:
        yield replacement
        if replacement.keep:
            if target.exists():
                shutil.copymode(target, temporary)
            os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)       # gone already once renamed
