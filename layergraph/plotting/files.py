"""Atomic file writes for pictures and pages: a temporary file in the target's folder, renamed."""
from __future__ import annotations

import os
import tempfile
from typing import Callable

from ..layers.errors import MException


def _cannot_write(func: str, path: str, reason: str) -> MException:
    return MException(f"layergraph:{func}:CannotWriteFile",
                      f"Cannot write the file '{path}': {reason}. Received: path='{path}'.")


def write_atomically(path: str, write: Callable[[str], None], func: str) -> None:
    """Call ``write(temporary path)`` then rename it over ``path``; MException naming ``path``.

    The old file stays intact when writing fails; an existing file keeps its permissions.
    """
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise _cannot_write(func, path, "it is a folder")
    if not os.path.isdir(folder):
        raise _cannot_write(func, path, f"the folder '{folder}' does not exist")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise _cannot_write(func, path, "the file is not writable")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".lg-", suffix=".tmp")
    except OSError as err:
        raise _cannot_write(func, path, err.strerror or str(err)) from None
    os.close(fd)
    try:
        write(temporary)
        if os.path.exists(path):
            os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except OSError as err:
        raise _cannot_write(func, path, err.strerror or str(err)) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text_atomically(path: str, text: str, func: str) -> None:
    """:func:`write_atomically` of UTF-8 text."""
    def write(temporary: str) -> None:
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
    write_atomically(path, write, func)
