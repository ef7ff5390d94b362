"""The datastore protocol and MATLAB's datastore functions (read, hasdata, reset, ...).

A datastore holds ``n`` observations in an order; ``read`` hands out the next ``ReadSize`` of
them (``MiniBatchSize`` for the table-like datastores) and ``hasdata`` says whether any are
left. Datastores are handle objects as in MATLAB (``read`` and ``reset`` change them), while
``shuffle``, ``subset`` and ``partition`` return new, reset datastores and leave their
argument as it was. Observation indices are 0-based (Python), a logical mask is accepted too.

Subclasses implement ``numobservations``, ``_subset(indices)``, ``_read_cells(count)`` and
``_output(cells, one_read)``; a "cell" row is one observation as MATLAB's cell row
``{predictor, response, ...}``, which is what training reads (``training_cells``).
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ._common import error, global_generator, observation_indices, positive_integer

__all__ = ["read", "readall", "hasdata", "reset", "preview", "shuffle", "subset", "partition",
           "numpartitions"]


class Datastore:
    """Base class: position, read/hasdata/reset/preview/readall, shuffle/subset/partition."""

    _KIND = "Datastore"

    def __init__(self) -> None:
        self._position = 0

    # ---- what subclasses provide --------------------------------------------------------
    @property
    def numobservations(self) -> int:
        """Number of observations (files, slices, images ...)."""
        raise NotImplementedError

    def _subset(self, indices: np.ndarray) -> "Datastore":
        raise NotImplementedError

    def _read_size(self) -> int:
        return int(getattr(self, "ReadSize", 1))

    def _read_cells(self, start: int, stop: int) -> tuple[list[list], dict]:
        """Cell rows ``[[col0, col1, ...], ...]`` of observations start..stop-1, and the info."""
        raise NotImplementedError

    def _output(self, rows: list[list], info: dict) -> Any:
        """MATLAB's ``read`` output for these rows (default: the rows; one row as itself)."""
        return rows[0] if len(rows) == 1 else rows

    def _concat(self, outputs: list[Any]) -> Any:
        """MATLAB's ``readall``: the read outputs concatenated vertically."""
        rows: list = []
        for out in outputs:
            rows.extend(out if out and isinstance(out[0], list) else [out])
        return rows

    def training_cells(self, start: int, stop: int) -> list[list]:
        """Rows ``[predictor, response?]`` for training (imageDatastore adds its Labels)."""
        return self._read_cells(start, stop)[0]

    # ---- MATLAB functions ----------------------------------------------------------------
    def hasdata(self) -> bool:
        """True while observations are left to read."""
        return self._position < self.numobservations

    def reset(self) -> None:
        """Back to the first observation."""
        self._position = 0

    def read(self, info: bool = False) -> Any:
        """The next ``ReadSize`` observations; ``info=True`` returns ``(data, info)``."""
        if not self.hasdata():
            raise error("read", "NoMoreData", f"No more data to read from this {self._KIND} "
                        f"({self.numobservations} observations read). Use reset to read again.")
        start = self._position
        stop = min(start + self._read_size(), self.numobservations)
        rows, meta = self._read_cells(start, stop)
        self._position = stop
        data = self._output(rows, meta)
        return (data, meta) if info else data

    def readall(self) -> Any:
        """Every observation, from the start, without moving this datastore's position."""
        other = copy.copy(self)
        other.reset()
        outputs = []
        while other.hasdata():
            outputs.append(other.read())
        return self._concat(outputs)

    def preview(self) -> Any:
        """The first read of this datastore, without moving its position."""
        other = copy.copy(self)
        other.reset()
        return other.read() if other.hasdata() else None

    def subset(self, indices: Any) -> "Datastore":
        """A new datastore of the observations at ``indices`` (0-based, or a logical mask)."""
        return self._subset(observation_indices(indices, self.numobservations, "subset"))

    def shuffle(self) -> "Datastore":
        """A new datastore with the observations in random order (the ``rng`` generator)."""
        return self._subset(global_generator().permutation(self.numobservations))

    def numpartitions(self) -> int:
        """The default number of partitions: one per observation."""
        return self.numobservations

    def partition(self, n: Any, index: Any) -> "Datastore":
        """Part ``index`` (0-based) of ``n`` contiguous parts; the first parts are one larger."""
        if isinstance(n, str):
            return self._partition_by_file(n, index)
        n = positive_integer(n, "partition", "N")
        index = positive_integer(index, "partition", "index", minimum=0)
        if index >= n:
            raise error("partition", "IndexOutOfRange", f"index must lie in 0..{n - 1} (0-based). "
                        f"Received: index={index}.")
        parts = np.array_split(np.arange(self.numobservations), n)
        return self._subset(parts[index])

    def _partition_by_file(self, how: str, index: Any) -> "Datastore":
        raise error("partition", "InvalidPartitionStrategy",
                    f"partition(ds, '{how}', ...) needs a file-based datastore. Received: {self._KIND}.")


def _datastore(ds: Any, func: str) -> Datastore:
    # objects that declare QUEUE_FUNCTIONS (minibatchqueue) take hasdata/reset/shuffle too
    if not isinstance(ds, Datastore) and not (func in getattr(ds, "QUEUE_FUNCTIONS", ()) and hasattr(ds, func)):
        raise error(func, "InvalidDatastore", f"{func} needs a datastore. Received: "
                    f"{type(ds).__name__}.")
    return ds


def read(ds: Datastore, info: bool = False) -> Any:
    """``data = read(ds)``; ``data, info = read(ds, info=True)`` (MATLAB's second output)."""
    return _datastore(ds, "read").read(info=info)


def readall(ds: Datastore) -> Any:
    """``data = readall(ds)``: every observation of the datastore."""
    return _datastore(ds, "readall").readall()


def hasdata(ds: Datastore) -> bool:
    """``tf = hasdata(ds)``."""
    return _datastore(ds, "hasdata").hasdata()


def reset(ds: Datastore) -> None:
    """``reset(ds)``: back to the start (the datastore is a handle, as in MATLAB)."""
    _datastore(ds, "reset").reset()


def preview(ds: Datastore) -> Any:
    """``data = preview(ds)``: the first read, position unchanged."""
    return _datastore(ds, "preview").preview()


def shuffle(ds: Datastore) -> Datastore:
    """``dsnew = shuffle(ds)``: a shuffled copy (random order from ``rng``)."""
    return _datastore(ds, "shuffle").shuffle()


def subset(ds: Datastore, indices: Any) -> Datastore:
    """``subds = subset(ds, indices)``; 0-based indices or a logical mask."""
    return _datastore(ds, "subset").subset(indices)


def partition(ds: Datastore, n: Any, index: Any) -> Datastore:
    """``subds = partition(ds, n, index)`` (index 0-based), or ``partition(ds, "Files", f)``."""
    return _datastore(ds, "partition").partition(n, index)


def numpartitions(ds: Datastore) -> int:
    """``n = numpartitions(ds)``: the default number of partitions."""
    return _datastore(ds, "numpartitions").numpartitions()
