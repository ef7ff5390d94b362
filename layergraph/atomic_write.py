"""Atomic file writes: every file the package writes goes through :func:`write_file`.

The content is written to a short-named temporary file in the target's folder, flushed and
``fsync``-ed, then renamed over the target (``os.replace``), and the folder is ``fsync``-ed:
an interrupted or failed save (disk full, an exception, Ctrl-C) leaves the old file intact
and removes the temporary.  Beyond the rename:

* the target keeps its permission bits (a 0600 file stays 0600) and, when the writer may,
  its owner and group; a new file gets the usual ``0666 & ~umask``;
* a symbolic link is written through: its (final) target is replaced, the link stays;
* a target the user may not write is refused (``os.access``; for the super-user, who may
  write anything, a file whose owner-write bit is clear counts as read-only), as are folders
  and other non-regular files;
* the temporary name (``.lg-<8 hex>.tmp``) does not grow with the target's name, so any
  name the file system accepts (255 bytes) can be written.

:func:`write_new_file` publishes under the first free name of a sequence with ``os.link``,
which never replaces an existing file (checkpoints of two runs started in the same second).
"""
from __future__ import annotations

import os
import secrets
import stat
from typing import BinaryIO, Callable, Iterable

from .layers.errors import MException

__all__: list[str] = []

Writer = Callable[[BinaryIO], None]


def _cannot_write(func: str, path: str, why: str) -> MException:
    return MException(f"layergraph:{func}:CannotWriteFile",
                      f"Cannot write the file {path!r}: {why}.")


def _target(path: str, func: str) -> tuple[str, os.stat_result | None]:
    """The real file a write to ``path`` must replace (symlinks followed) and its stat."""
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise _cannot_write(func, path, err.strerror or str(err)) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _cannot_write(func, path, "it is a folder")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise _cannot_write(func, path, "it is not a regular file")
    if not os.path.isdir(os.path.dirname(target)):
        raise _cannot_write(func, path, "its folder does not exist")
    if st is not None and not _user_may_write(target, st):
        raise _cannot_write(func, path, f"it is read-only (mode {stat.filemode(st.st_mode)}); "
                            "make it writable or choose another name")
    return target, st


def _user_may_write(target: str, st: os.stat_result) -> bool:
    if not os.access(target, os.W_OK):
        return False
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return not is_root or bool(st.st_mode & stat.S_IWUSR)


def _write_temporary(folder: str, write: Writer, like: os.stat_result | None) -> str:
    """Write a fresh temporary file in ``folder`` (content synced to disk); return its path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = os.path.join(folder, f".lg-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temp, flags, 0o666 if like is None else 0o600)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            if like is not None:
                _copy_mode_and_owner(f.fileno(), like)
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _remove(temp)
        raise
    return temp


def _copy_mode_and_owner(fd: int, like: os.stat_result) -> None:
    if hasattr(os, "fchown"):
        try:
            os.fchown(fd, like.st_uid, like.st_gid)
        except OSError:
            pass   # only the super-user may give a file away; the group may still fail
    if os.chmod in os.supports_fd:
        os.chmod(fd, stat.S_IMODE(like.st_mode))


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (best effort: not every system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file(path: str, write: Writer, func: str) -> str:
    """Atomically replace (or create) ``path`` with what ``write(f)`` writes to a binary file.

    Returns the path written (the symlink's target for a symlink).  Raises MException
    ``layergraph:<func>:CannotWriteFile`` for a target that cannot be written and for any
    OSError while writing (disk full, ...); other exceptions from ``write`` (and Ctrl-C)
    propagate unchanged.  In every case the old file stays as it was.
    """
    target, st = _target(path, func)
    folder = os.path.dirname(target)
    try:
        temp = _write_temporary(folder, write, st)
        try:
            os.replace(temp, target)
        except BaseException:
            _remove(temp)
            raise
    except OSError as err:
        raise _cannot_write(func, path, err.strerror or str(err)) from None
    _sync_folder(folder)
    return target


def write_new_file(paths: Iterable[str], write: Writer, func: str) -> str:
    """Write a new file under the first name in ``paths`` that does not exist yet; never
    replaces a file, even one created by another process meanwhile.  Returns that name."""
    temp, path = None, "<no candidate name>"
    try:
        for path in paths:
            target, st = _target(path, func)
            if st is not None:
                continue
            if temp is None:
                folder = os.path.dirname(target)
                temp = _write_temporary(folder, write, None)
            if _publish(temp, target):
                _sync_folder(folder)
                return target
        raise _cannot_write(func, path, "every candidate name is taken")
    except OSError as err:
        raise _cannot_write(func, str(path), err.strerror or str(err)) from None
    finally:
        if temp is not None:
            _remove(temp)


def _publish(temp: str, target: str) -> bool:
    """Hard-link ``temp`` as ``target``; False if ``target`` exists (never replaced)."""
    try:
        os.link(temp, target)
        return True
    except FileExistsError:
        return False
    except OSError:
        # No hard links on this file system (FAT, some network shares): exclusive create.
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            return False
        os.replace(temp, target)
        return True
