"""Validated, memory-bounded reading of a network file's zip archive (docs/saving.md, Safety).

Nothing is decompressed before it has been checked: entry names and declared sizes come from
the zip's central directory; an array's ``.npy`` header (dtype, shape) is read alone, so the
loader can compare it with what the network needs before reading any array data; array data
is then streamed into one preallocated array (peak memory: the array itself), and the total
read is capped by the budget the loader sets (what the network needs).
"""
from __future__ import annotations

import json
import re
import reprlib
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..layers.errors import MException

__all__: list[str] = []

MANIFEST = "manifest.json"
ARRAY_NAME = re.compile(r"arrays/[0-9]{1,9}\.npy")
ALLOWED_DTYPE_KINDS = "biuf"
MAX_MANIFEST_BYTES = 64 << 20
MAX_ARRAY_BYTES = 16 << 30
MAX_ENTRIES = 1_000_000
MAX_COMPRESSION_RATIO = 1000
MAX_NPY_HEADER_BYTES = 10_000      # NumPy's own limit for .npy headers
READ_CHUNK_BYTES = 16 << 20

# What zipfile / zlib raise for a damaged archive (zlib.error, EOFError, a bad seek's OSError,
# NotImplementedError for a mangled compression method or version field, RuntimeError for a
# flipped "encrypted" flag).
DAMAGED_ARCHIVE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
                   ValueError, RuntimeError)

_preview = reprlib.Repr()
_preview.maxlevel, _preview.maxstring, _preview.maxother = 3, 60, 60


def preview(value: Any) -> str:
    """A short text of a manifest value, safe for any nesting depth."""
    return _preview.repr(value)[:80]


def error(func: str, reason: str, message: str) -> MException:
    return MException(f"layergraph:{func}:{reason}", message)


def _size_text(nbytes: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 1 << shift:
            return f"{nbytes / (1 << shift):.1f} {unit}"
    return f"{nbytes} bytes"


@dataclass(frozen=True)
class ArrayHeader:
    """What an ``arrays/<n>.npy`` entry declares, from its header alone."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    offset: int          # bytes before the data

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=object)) * self.dtype.itemsize

    def describe(self) -> str:
        return f"{'x'.join(map(str, self.shape)) or 'scalar'} {self.dtype} ({_size_text(self.nbytes)})"


class Archive:
    """Checked access to the entries of an opened network file."""

    def __init__(self, zf: zipfile.ZipFile):
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise error("loadNetwork", "TooManyEntries",
                        f"The file has {len(infos)} entries (at most {MAX_ENTRIES} allowed).")
        self.zf = zf
        self.infos: dict[str, zipfile.ZipInfo] = {}
        self.headers: dict[str, ArrayHeader] = {}
        self.budget: int | None = None          # bytes of array data still allowed
        for info in infos:
            if info.filename != MANIFEST and not ARRAY_NAME.fullmatch(info.filename):
                raise error("loadNetwork", "UnexpectedEntry",
                            f"The file holds an unexpected entry {info.filename!r}; only "
                            f"'{MANIFEST}' and 'arrays/<n>.npy' are allowed.")
            limit = MAX_MANIFEST_BYTES if info.filename == MANIFEST else MAX_ARRAY_BYTES
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limit or (info.file_size > (1 << 20)
                                          and ratio > MAX_COMPRESSION_RATIO):
                raise error("loadNetwork", "EntryTooLarge",
                            f"Entry {info.filename!r} declares {info.file_size} bytes "
                            f"(limit {limit}, compression ratio {ratio:.0f}).")
            self.infos[info.filename] = info

    def _info(self, name: str) -> zipfile.ZipInfo:
        if name not in self.infos:
            raise error("loadNetwork", "MissingEntry", f"The file has no entry {name!r}.")
        return self.infos[name]

    def _damaged(self, name: str, err: BaseException) -> MException:
        return error("loadNetwork", "CorruptEntry",
                     f"Entry {name!r} cannot be read (the file is damaged): "
                     f"{type(err).__name__}: {err}")

    def manifest(self) -> dict:
        """The parsed manifest.json (any JSON error, deep nesting included: CorruptManifest)."""
        info = self._info(MANIFEST)
        try:
            with self.zf.open(info) as f:
                data = f.read(info.file_size + 1)
        except DAMAGED_ARCHIVE as err:     # bad CRC, bad deflate stream, bad local header, ...
            raise self._damaged(MANIFEST, err) from None
        if len(data) != info.file_size:
            raise error("loadNetwork", "CorruptEntry",
                        f"Entry {MANIFEST!r} does not hold the {info.file_size} bytes it declares.")
        try:
            return json.loads(data.decode("utf-8"), parse_constant=lambda c: float("nan"))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            what = ("nests lists or objects too deeply" if isinstance(err, RecursionError)
                    else f"is not valid JSON: {err}")
            raise error("loadNetwork", "CorruptManifest", f"{MANIFEST} {what}.") from None

    def header(self, name: str) -> ArrayHeader:
        """The entry's .npy header, checked (numeric dtype; size consistent with the entry)."""
        if name not in self.headers:
            info = self._info(name)
            try:
                with self.zf.open(info) as f:
                    header = self._read_header(name, f)
            except MException:
                raise
            except DAMAGED_ARCHIVE as err:
                raise self._damaged(name, err) from None
            if header.offset + header.nbytes != info.file_size:
                raise error("loadNetwork", "CorruptArray",
                            f"Entry {name!r} declares shape {header.shape} ({header.nbytes} bytes) "
                            f"but holds {info.file_size - header.offset} bytes of data.")
            self.headers[name] = header
        return self.headers[name]

    @staticmethod
    def _read_header(name: str, f: Any) -> ArrayHeader:
        try:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unsupported .npy version {version}")
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read(f, max_header_size=MAX_NPY_HEADER_BYTES)
        except ValueError as err:
            raise error("loadNetwork", "CorruptArray",
                        f"Entry {name!r} is not a .npy array: {err}") from None
        if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject:
            raise error("loadNetwork", "UnsupportedArray",
                        f"Entry {name!r} has dtype {dtype}; only numeric and logical arrays "
                        "are allowed.")
        return ArrayHeader(name, tuple(int(n) for n in shape), dtype, bool(fortran), f.tell())

    def array(self, name: str) -> np.ndarray:
        """The entry's array, streamed into one preallocated buffer, within the budget."""
        header = self.header(name)
        if self.budget is not None:
            if header.nbytes > self.budget:
                raise error("loadNetwork", "ExceedsNetworkSize",
                            f"Entry {name!r} ({_size_text(header.nbytes)}) would take the array "
                            "data read past what the network needs.")
            self.budget -= header.nbytes
        try:
            data = np.empty(header.nbytes, np.uint8)
        except MemoryError:
            raise error("loadNetwork", "OutOfMemory",
                        f"Not enough memory for entry {name!r} ({header.describe()}).") from None
        try:
            with self.zf.open(self.infos[name]) as f:
                if self._read_header(name, f) != header:     # the file changed meanwhile
                    raise zipfile.BadZipFile("the array header changed while loading")
                got = 0
                while got < header.nbytes:
                    chunk = f.read(min(READ_CHUNK_BYTES, header.nbytes - got))
                    if not chunk:
                        break
                    data[got:got + len(chunk)] = np.frombuffer(chunk, np.uint8)
                    got += len(chunk)
                if got != header.nbytes or f.read(1):       # reading to the end checks the CRC
                    raise zipfile.BadZipFile(f"{got} data bytes where {header.nbytes} are declared")
        except MException:
            raise
        except DAMAGED_ARCHIVE as err:
            raise self._damaged(name, err) from None
        return data.view(header.dtype).reshape(header.shape, order="F" if header.fortran else "C")
