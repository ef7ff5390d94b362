"""Pictures and pages are written through the package's one atomic writer (``atomic_write``)."""
from __future__ import annotations

from typing import BinaryIO, Callable

from ..atomic_write import write_file


def write_atomically(path: str, write: Callable[[BinaryIO], None], func: str) -> None:
    """Call ``write(f)`` on a binary file that then replaces ``path`` atomically
    (``atomic_write.write_file``: permissions kept, symlinks followed, read-only refused);
    MException ``layergraph:<func>:CannotWriteFile`` naming ``path``."""
    write_file(str(path), write, func)


def write_text_atomically(path: str, text: str, func: str) -> None:
    """:func:`write_atomically` of UTF-8 text."""
    write_atomically(path, lambda f: f.write(text.encode("utf-8")), func)
