"""Files jira-chase writes beside the operator's: whole or not at all, never through a
link someone planted, and no more readable than they should be.

- The state file and its side files (`-wal`, `-shm`, `.lock`) hold summaries, names
  and emails: owner only (0600), whatever the umask.
- A report or a metrics file is meant to be read: the umask decides, and nothing here
  widens it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE = 0o600


def umask_mode() -> int:
    """The mode a new file gets from the umask (0666 less the umask)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename. The text is written to a new file in
    the same folder made by `mkstemp` (created exclusively, so a link planted under any
    name is never followed), given the umask's mode, then renamed over `path`."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def keep_private(path: Path) -> None:
    """Make the file at `path` owner-only, creating it empty when it does not exist (so
    SQLite, which gives its side files the database's mode, makes them private too). A
    file that cannot be changed (read-only, immutable) is left for SQLite to refuse."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, PRIVATE)
        os.close(fd)
    except FileExistsError:
        pass
    for target in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        try:
            if target.exists() and not target.is_symlink():
                os.chmod(target, PRIVATE)
        except OSError:
            pass
