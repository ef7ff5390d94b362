"""File-based datastores: ``imageDatastore`` and ``fileDatastore``.

``location`` is a folder, a file, a wildcard pattern (``"data/*.npy"``, ``"**"`` with
IncludeSubfolders) or a list of them. Files are listed sorted by path; a folder contributes
the files whose extension is in ``FileExtensions``. ``ReadFcn(filename)`` reads one file;
without it the reader is picked by extension (layergraph.data.readers).
"""
from __future__ import annotations

import glob
import os
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import readers
from ._common import (error, logical_scalar, parse_name_value, positive_integer,
                      validatestring)
from .datastore import Datastore

__all__ = ["imageDatastore", "fileDatastore"]


def list_files(location: Any, include_subfolders: bool, extensions: tuple[str, ...] | None,
               func: str) -> list[str]:
    """Absolute paths of the files ``location`` names (sorted per location entry)."""
    entries = [location] if isinstance(location, (str, os.PathLike)) else location
    if not isinstance(entries, (list, tuple)) or not entries or not all(
            isinstance(e, (str, os.PathLike)) for e in entries):
        raise error(func, "InvalidLocation", "location must be a folder, file or wildcard "
                    f"pattern, or a list of them. Received: {location!r:.80}.")
    files: list[str] = []
    for entry in map(os.fspath, entries):
        if os.path.isdir(entry):
            found = _folder_files(entry, include_subfolders)
        elif os.path.isfile(entry):
            files.append(os.path.abspath(entry))
            continue
        else:
            found = sorted(p for p in glob.glob(entry, recursive=include_subfolders)
                           if os.path.isfile(p))
            folders = sorted(p for p in glob.glob(entry) if os.path.isdir(p))
            for folder in folders:
                found += _folder_files(folder, include_subfolders)
            if not found:
                raise error(func, "FileNotFound", f"Cannot find files or folders matching "
                            f"'{entry}'.")
        files += [os.path.abspath(p) for p in found
                  if extensions is None or readers.extension_of(p) in extensions]
    if not files:
        wanted = "any extension" if extensions is None else ", ".join(extensions)
        raise error(func, "NoFilesFound", f"No files with {wanted} found in location "
                    f"{location!r:.200} (IncludeSubfolders={include_subfolders}).")
    return files


def _folder_files(folder: str, include_subfolders: bool) -> list[str]:
    if not include_subfolders:
        return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                      if os.path.isfile(os.path.join(folder, f)))
    out = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        out += [os.path.join(root, f) for f in sorted(names)]
    return out


def _extensions(value: Any, func: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items or not all(
            isinstance(e, str) and e.startswith(".") for e in items):
        raise error(func, "InvalidFileExtensions", "FileExtensions must be an extension such as "
                    f"'.npy' or a list of them. Received: FileExtensions={value!r}.")
    return tuple(e.lower() for e in items)


def _read_fcn(value: Any, func: str) -> Callable | None:
    if value is not None and not callable(value):
        raise error(func, "InvalidReadFcn", "ReadFcn must be a function of one filename. "
                    f"Received: ReadFcn={value!r:.60}.")
    return value


class FileBasedDatastore(Datastore):
    """Files, a reader, and the file-based partitioning ``partition(ds, "Files", f)``."""

    def __init__(self, files: list[str], read_fcn: Callable | None, variable: str | None):
        super().__init__()
        self.Files = list(files)
        self.ReadFcn = read_fcn
        self._variable = variable

    @property
    def numobservations(self) -> int:
        return len(self.Files)

    def read_file(self, path: str) -> Any:
        """One file through ReadFcn (its error chained, naming the file) or the default reader."""
        if self.ReadFcn is None:
            return readers.read_file(path, "read", self._variable)
        try:
            return self.ReadFcn(path)
        except Exception as exc:
            raise error("read", "ReadFcnError", f"ReadFcn raised {type(exc).__name__} on file "
                        f"'{path}': {exc}") from exc

    def _partition_by_file(self, how: str, index: Any) -> Datastore:
        if how.lower() != "files":
            raise error("partition", "InvalidPartitionStrategy", "partition by name accepts "
                        f"'Files' only. Received: '{how}'.")
        if isinstance(index, (str, os.PathLike)):
            target = os.path.abspath(os.fspath(index))
            if target not in self.Files:
                raise error("partition", "FileNotInDatastore", f"File '{index}' is not in Files.")
            index = self.Files.index(target)
        return self.subset([positive_integer(index, "partition", "index", minimum=0)])

    def _file_info(self, start: int, stop: int) -> dict:
        names = self.Files[start:stop]
        sizes = [os.path.getsize(p) for p in names]
        one = stop - start == 1
        return {"Filename": names[0] if one else names, "FileSize": sizes[0] if one else sizes}


class ImageDatastore(FileBasedDatastore):
    """MATLAB's ImageDatastore: Files, Labels (pandas.Categorical), ReadFcn, ReadSize."""

    _KIND = "ImageDatastore"

    def __init__(self, files: list[str], labels: Any, read_fcn: Callable | None, read_size: int,
                 variable: str | None = None):
        super().__init__(files, read_fcn, variable)
        self.ReadSize = read_size
        self.Labels = labels

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "Labels":
            value = _labels(value, len(self.Files))
        elif name == "ReadSize":
            value = positive_integer(value, "imageDatastore", "ReadSize")
        object.__setattr__(self, name, value)

    def _subset(self, indices: np.ndarray) -> "ImageDatastore":
        labels = self.Labels[indices] if len(self.Labels) else self.Labels
        return ImageDatastore([self.Files[i] for i in indices], labels, self.ReadFcn,
                              self.ReadSize, self._variable)

    def _read_cells(self, start: int, stop: int) -> tuple[list[list], dict]:
        rows = [[self.read_file(p)] for p in self.Files[start:stop]]
        info = self._file_info(start, stop)
        if len(self.Labels):
            part = self.Labels[start:stop]
            info["Label"] = part[0] if stop - start == 1 else part
        return rows, info

    def training_cells(self, start: int, stop: int) -> list[list]:
        rows, _ = self._read_cells(start, stop)
        if len(self.Labels):
            return [row + [self.Labels[start + i]] for i, row in enumerate(rows)]
        return rows

    def _output(self, rows: list[list], info: dict) -> Any:
        return rows[0][0] if self.ReadSize == 1 else [r[0] for r in rows]

    def _concat(self, outputs: list[Any]) -> list:
        out: list = []
        for o in outputs:
            out.extend(o if isinstance(o, list) else [o])
        return out

    def __repr__(self) -> str:
        return _display(self._KIND, {"Files": _list_text(self.Files),
                                     "Labels": _labels_text(self.Labels),
                                     "ReadSize": str(self.ReadSize),
                                     "ReadFcn": _fcn_text(self.ReadFcn)})


class FileDatastore(FileBasedDatastore):
    """MATLAB's FileDatastore: one file per read through ReadFcn."""

    _KIND = "FileDatastore"

    def _subset(self, indices: np.ndarray) -> "FileDatastore":
        return FileDatastore([self.Files[i] for i in indices], self.ReadFcn, self._variable)

    def _read_cells(self, start: int, stop: int) -> tuple[list[list], dict]:
        return [[self.read_file(p)] for p in self.Files[start:stop]], self._file_info(start, stop)

    def _output(self, rows: list[list], info: dict) -> Any:
        return rows[0][0]

    def _concat(self, outputs: list[Any]) -> list:
        return list(outputs)

    def __repr__(self) -> str:
        return _display(self._KIND, {"Files": _list_text(self.Files),
                                     "ReadFcn": _fcn_text(self.ReadFcn)})


def _labels(value: Any, n: int) -> Any:
    if value is None or (not isinstance(value, str) and len(value) == 0):
        return pd.Categorical([])
    if isinstance(value, pd.Series):
        value = value.array
    labels = value if isinstance(value, pd.Categorical) else pd.Categorical(
        [str(v) if not isinstance(v, str) else v for v in np.asarray(value, dtype=object).ravel()])
    if len(labels) != n:
        raise error("imageDatastore", "InvalidLabels", f"Labels must hold one label per file "
                    f"({n}). Received: {len(labels)} labels.")
    return labels


def imageDatastore(location: Any, *args: Any, **kwargs: Any) -> ImageDatastore:
    """``imds = imageDatastore(location, Name=Value)``.

    Name-value arguments: IncludeSubfolders (False), FileExtensions (images and volumes:
    .png .jpg .jpeg .tif .tiff .bmp .gif .npy .mat .nii .nii.gz), LabelSource ("none" |
    "foldernames": the name of each file's folder), Labels (one per file), ReadFcn
    (``f(filename)``), ReadSize (1), and VariableName (not in MATLAB: the variable of a .mat
    file that holds several).
    """
    func = "imageDatastore"
    o = parse_name_value(args, kwargs, ["IncludeSubfolders", "FileExtensions", "LabelSource",
                                        "Labels", "ReadFcn", "ReadSize", "VariableName"], func)
    source = validatestring(o.get("LabelSource", "none"), ["none", "foldernames"], func,
                            "LabelSource")
    extensions = _extensions(o.get("FileExtensions", readers.SUPPORTED_EXTENSIONS), func)
    files = list_files(location, logical_scalar(o.get("IncludeSubfolders", False), func,
                                                "IncludeSubfolders"), extensions, func)
    if "Labels" in o and source == "foldernames":
        raise error(func, "LabelsAndLabelSource", "Give Labels or LabelSource='foldernames', "
                    "not both.")
    labels = o.get("Labels")
    if source == "foldernames":
        labels = [os.path.basename(os.path.dirname(f)) for f in files]
    return ImageDatastore(files, _labels(labels, len(files)), _read_fcn(o.get("ReadFcn"), func),
                          positive_integer(o.get("ReadSize", 1), func, "ReadSize"),
                          o.get("VariableName"))


def fileDatastore(location: Any, *args: Any, **kwargs: Any) -> FileDatastore:
    """``fds = fileDatastore(location, ReadFcn=f)``: one file per ``read``.

    Name-value arguments: ReadFcn (MATLAB requires it; here the reader by extension is the
    default), IncludeSubfolders (False), FileExtensions (all files), VariableName.
    """
    func = "fileDatastore"
    o = parse_name_value(args, kwargs, ["ReadFcn", "IncludeSubfolders", "FileExtensions",
                                        "VariableName"], func)
    extensions = _extensions(o["FileExtensions"], func) if "FileExtensions" in o else None
    files = list_files(location, logical_scalar(o.get("IncludeSubfolders", False), func,
                                                "IncludeSubfolders"), extensions, func)
    return FileDatastore(files, _read_fcn(o.get("ReadFcn"), func), o.get("VariableName"))


# ---- display (MATLAB's "<Class> with properties:") -------------------------------------
def _display(kind: str, props: dict) -> str:
    width = max(len(k) for k in props)
    lines = [f"  {kind} with properties:", ""]
    lines += [f"    {k:>{width}}: {v}" for k, v in props.items()]
    return "\n".join(lines) + "\n"


def _list_text(items: list[str]) -> str:
    shown = "; ".join(f"'{os.path.basename(f)}'" for f in items[:3])
    more = f" ... and {len(items) - 3} more" if len(items) > 3 else ""
    return "{" + shown + more + "}"


def _labels_text(labels: Any) -> str:
    if not len(labels):
        return "{}"
    shown = "; ".join(str(v) for v in labels[:3])
    more = f" ... and {len(labels) - 3} more" if len(labels) > 3 else ""
    return f"[{shown}{more} categorical]"


def _fcn_text(fcn: Callable | None) -> str:
    return "(by file extension)" if fcn is None else f"@{getattr(fcn, '__name__', 'fcn')}"
