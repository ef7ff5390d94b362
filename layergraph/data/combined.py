"""``combine(ds1, ds2, ...)`` and ``transform(ds, fcn)``.

A combined datastore reads one ``read`` from each underlying datastore and puts their cells
side by side: ``[x, y]`` for one observation, a list of such rows for several (MATLAB's
1 x k and n x k cell arrays). A transformed datastore returns ``fcn(read(ds))``; for
training, ``fcn`` returns ``[predictor, response]`` (or a list of such rows, or a DataFrame).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ._common import error, logical_scalar, parse_name_value
from .datastore import Datastore

__all__ = ["combine", "transform"]


def as_rows(output: Any) -> list[list]:
    """Cell rows of a read output: DataFrame rows; a list of lists; a flat list = one row;
    anything else one row of one cell."""
    if isinstance(output, pd.DataFrame):
        return [list(r) for r in output.itertuples(index=False)]
    if isinstance(output, tuple):
        output = list(output)
    if isinstance(output, list):
        if output and all(isinstance(r, (list, tuple)) for r in output):
            return [list(r) for r in output]
        return [output]
    return [[output]]


class CombinedDatastore(Datastore):
    """MATLAB's CombinedDatastore (UnderlyingDatastores)."""

    _KIND = "CombinedDatastore"

    def __init__(self, datastores: list[Datastore]):
        super().__init__()
        self.UnderlyingDatastores = list(datastores)

    @property
    def numobservations(self) -> int:
        return min(ds.numobservations for ds in self.UnderlyingDatastores)

    def _read_size(self) -> int:
        return self.UnderlyingDatastores[0]._read_size()

    def _subset(self, indices: np.ndarray) -> "CombinedDatastore":
        return CombinedDatastore([ds._subset(indices) for ds in self.UnderlyingDatastores])

    def _read_cells(self, start: int, stop: int) -> tuple[list[list], dict]:
        parts = []
        for ds in self.UnderlyingDatastores:
            rows, info = ds._read_cells(start, stop)
            parts.append((as_rows(rows[0][0]) if isinstance(ds, TransformedDatastore) else rows,
                          info))
        lengths = {len(rows) for rows, _ in parts}
        if len(lengths) != 1:
            raise error("read", "UnequalReads", "The underlying datastores of combine returned "
                        f"different numbers of observations ({sorted(lengths)}) for one read.")
        rows = [sum((rows[i] for rows, _ in parts), []) for i in range(lengths.pop())]
        return rows, {"UnderlyingInfo": [info for _, info in parts]}


class TransformedDatastore(Datastore):
    """MATLAB's TransformedDatastore: UnderlyingDatastores, Transforms, IncludeInfo."""

    _KIND = "TransformedDatastore"

    def __init__(self, ds: Datastore, fcn: Callable, include_info: bool):
        super().__init__()
        self.UnderlyingDatastores = [ds]
        self.Transforms = [fcn]
        self.IncludeInfo = include_info

    @property
    def numobservations(self) -> int:
        return self.UnderlyingDatastores[0].numobservations

    def _read_size(self) -> int:
        return self.UnderlyingDatastores[0]._read_size()

    def _subset(self, indices: np.ndarray) -> "TransformedDatastore":
        return TransformedDatastore(self.UnderlyingDatastores[0]._subset(indices),
                                    self.Transforms[0], self.IncludeInfo)

    def _read_cells(self, start: int, stop: int) -> tuple[list[list], dict]:
        ds = self.UnderlyingDatastores[0]
        rows, info = ds._read_cells(start, stop)
        data = ds._output(rows, info)
        fcn = self.Transforms[0]
        try:
            if self.IncludeInfo:
                data, info = fcn(data, info)
            else:
                data = fcn(data)
        except Exception as exc:
            raise error("read", "TransformFcnError", f"The transform function "
                        f"{getattr(fcn, '__name__', fcn)!r} raised {type(exc).__name__} on "
                        f"{info.get('Filename', f'observations {start}..{stop - 1}')}: {exc}") from exc
        return [[data]], info

    def _output(self, rows: list[list], info: dict) -> Any:
        return rows[0][0]

    def training_cells(self, start: int, stop: int) -> list[list]:
        return as_rows(self._read_cells(start, stop)[0][0][0])

    def _concat(self, outputs: list[Any]) -> Any:
        if outputs and all(isinstance(o, pd.DataFrame) for o in outputs):
            return pd.concat(outputs, ignore_index=True)
        rows: list = []
        for o in outputs:
            rows.extend(as_rows(o))
        return rows


def combine(*datastores: Any) -> CombinedDatastore:
    """``cds = combine(ds1, ds2, ...)``: read from all, cells side by side."""
    if not datastores or not all(isinstance(ds, Datastore) for ds in datastores):
        raise error("combine", "InvalidDatastore", "combine needs datastores. Received: "
                    f"{[type(ds).__name__ for ds in datastores]}.")
    counts = {ds.numobservations for ds in datastores}
    if len(counts) != 1:
        raise error("combine", "UnequalNumberOfObservations", "The datastores must hold the same "
                    f"number of observations. Received: {[ds.numobservations for ds in datastores]}.")
    return CombinedDatastore([_copy_reset(ds) for ds in datastores])


def transform(ds: Any, fcn: Any, *args: Any, **kwargs: Any) -> TransformedDatastore:
    """``dsnew = transform(ds, fcn)``; ``IncludeInfo=True`` calls ``data, info = fcn(data, info)``."""
    if not isinstance(ds, Datastore):
        raise error("transform", "InvalidDatastore", "transform needs a datastore. Received: "
                    f"{type(ds).__name__}.")
    if not callable(fcn):
        raise error("transform", "InvalidFunction", "fcn must be a function of the read data. "
                    f"Received: {fcn!r:.60}.")
    o = parse_name_value(args, kwargs, ["IncludeInfo"], "transform")
    return TransformedDatastore(_copy_reset(ds), fcn,
                                logical_scalar(o.get("IncludeInfo", False), "transform", "IncludeInfo"))


def _copy_reset(ds: Datastore) -> Datastore:
    """A reset copy: MATLAB's combine/transform copy their inputs."""
    return ds._subset(np.arange(ds.numobservations))
