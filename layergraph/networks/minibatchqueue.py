"""``minibatchqueue``: mini-batches of a datastore for custom training loops (MATLAB R2020b).

``mbq = minibatchqueue(ds, MiniBatchSize=128, MiniBatchFormat=["SSCB", ""], MiniBatchFcn=fun,
OutputEnvironment="auto", PartialMiniBatch="return")``; ``hasdata(mbq)``, ``X, T = next(mbq)``,
``shuffle(mbq)``, ``reset(mbq)``.  Each datastore column (predictor, response, ...) is one
output; without MiniBatchFcn numeric observations are concatenated along a new last dimension
and labels become a ``pandas.Categorical``; numeric outputs are cast to single and returned as
dlarrays with their MiniBatchFormat, on the GPU when OutputEnvironment says so.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ..autodiff.dlarray import dlarray
from ..data import arrayDatastore
from ..data.datastore import Datastore
from ..layers._validation import logical_scalar, parse_name_value, positive_int, validatestring
from ..layers.errors import MException
from ..ops import _backend

__all__ = ["minibatchqueue"]

_OPTIONS = ["MiniBatchSize", "MiniBatchFormat", "MiniBatchFcn", "OutputEnvironment", "PartialMiniBatch",
            "OutputCast", "OutputAsDlarray", "NumOutputs"]


class minibatchqueue:  # noqa: N801 - MATLAB class name
    """Mini-batches of a datastore (a NumPy array is taken as ``arrayDatastore`` over its last
    dimension); properties MiniBatchSize, MiniBatchFormat, OutputEnvironment, PartialMiniBatch,
    NumOutputs."""

    QUEUE_FUNCTIONS = ("hasdata", "reset", "shuffle")

    def __init__(self, ds: Any, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, _OPTIONS, "minibatchqueue")
        if isinstance(ds, np.ndarray) or _backend.is_gpu_array(ds):
            ds = arrayDatastore(_backend.to_host(ds), IterationDimension=max(ds.ndim, 1))
        if not isinstance(ds, Datastore):
            raise MException("MATLAB:minibatchqueue:InvalidDatastore",
                             f"ds must be a datastore (or a numeric array). Received: {type(ds).__name__}.")
        self._ds, self._position = ds, 0
        self.MiniBatchSize = positive_int(opts.get("MiniBatchSize", 128), "minibatchqueue", "MiniBatchSize")
        first = ds.training_cells(0, 1)[0] if ds.numobservations else []
        self.NumOutputs = int(opts.get("NumOutputs", len(first)))
        fmt = opts.get("MiniBatchFormat", "")
        self.MiniBatchFormat = tuple([fmt] * self.NumOutputs if isinstance(fmt, str) else fmt)
        if len(self.MiniBatchFormat) != self.NumOutputs:
            raise MException("MATLAB:minibatchqueue:InvalidMiniBatchFormat",
                             f"MiniBatchFormat needs one format per output ({self.NumOutputs}). Received: "
                             f"{list(self.MiniBatchFormat)}.")
        fcn = opts.get("MiniBatchFcn", "collate")
        if not (callable(fcn) or fcn == "collate"):
            raise MException("MATLAB:minibatchqueue:InvalidMiniBatchFcn",
                             f'MiniBatchFcn must be a function or "collate". Received: {fcn!r}.')
        self.MiniBatchFcn: Callable | str = fcn
        self.OutputEnvironment = validatestring(opts.get("OutputEnvironment", "auto"), ["auto", "cpu", "gpu"],
                                                "minibatchqueue", "OutputEnvironment")
        self.PartialMiniBatch = validatestring(opts.get("PartialMiniBatch", "return"), ["return", "discard"],
                                               "minibatchqueue", "PartialMiniBatch")
        self.OutputAsDlarray = logical_scalar(opts.get("OutputAsDlarray", True), "minibatchqueue",
                                              "OutputAsDlarray")
        self.OutputCast = opts.get("OutputCast", "single")

    # ---- MATLAB functions ----------------------------------------------------------------
    def hasdata(self) -> bool:
        """True while a mini-batch is left (a partial one only with PartialMiniBatch "return")."""
        left = self._ds.numobservations - self._position
        return left >= (1 if self.PartialMiniBatch == "return" else self.MiniBatchSize)

    def next(self) -> Any:
        """The next mini-batch: one value per output (a tuple when there are several)."""
        if not self.hasdata():
            raise MException("MATLAB:minibatchqueue:NoMoreData",
                             "No more mini-batches in the queue. Use reset or shuffle to start again.")
        stop = min(self._position + self.MiniBatchSize, self._ds.numobservations)
        rows = self._ds.training_cells(self._position, stop)
        self._position = stop
        columns = [[row[k] for row in rows] for k in range(self.NumOutputs)]
        if callable(self.MiniBatchFcn):
            outs = self.MiniBatchFcn(*columns)
            outs = list(outs) if isinstance(outs, tuple) else [outs]
        else:
            outs = [_collate(c) for c in columns]
        outs = [self._finish(o, f) for o, f in zip(outs, self.MiniBatchFormat)]
        return outs[0] if len(outs) == 1 else tuple(outs)

    __next__ = next

    def __iter__(self):
        return self

    def reset(self) -> None:
        """Back to the first mini-batch."""
        self._position = 0

    def shuffle(self) -> "minibatchqueue":
        """Shuffle the data (random order from ``rng``) and reset; the queue is a handle as in MATLAB."""
        self._ds = self._ds.shuffle()
        self._position = 0
        return self

    def _finish(self, value: Any, fmt: str) -> Any:
        if isinstance(value, (pd.Categorical, pd.Series)) or np.asarray(value).dtype.kind not in "biuf":
            return value
        data = value if _backend.is_gpu_array(value) else np.asarray(value)
        if self.OutputCast in ("single", "double"):
            data = data.astype(np.float32 if self.OutputCast == "single" else np.float64, copy=False)
        on_gpu = self.OutputEnvironment == "gpu" or (self.OutputEnvironment == "auto" and _backend.gpu_available())
        data = _backend.to_device(data, "gpu" if on_gpu else "cpu")
        if not self.OutputAsDlarray or data.dtype.kind not in "fb":
            return data
        return dlarray(data, fmt) if fmt else dlarray(data)


def _collate(observations: list) -> Any:
    """Labels -> pandas.Categorical; numeric observations stacked along a new last dimension."""
    first = observations[0]
    if isinstance(first, (str, np.str_)) or (isinstance(first, pd.Categorical)):
        values = [str(o) if not isinstance(o, pd.Categorical) else str(o[0]) for o in observations]
        cats = first.categories if isinstance(first, pd.Categorical) else sorted(set(values))
        return pd.Categorical(values, categories=cats)
    arrays = [np.asarray(o) for o in observations]
    return np.stack(arrays, axis=arrays[0].ndim)
