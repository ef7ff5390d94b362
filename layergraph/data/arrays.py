"""``arrayDatastore``: a datastore over an in-memory array (or labels)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import error, parse_name_value, positive_integer, validatestring
from .datastore import Datastore

__all__ = ["arrayDatastore"]


class ArrayDatastore(Datastore):
    """MATLAB's ArrayDatastore: ReadSize, IterationDimension (1-based), OutputType."""

    _KIND = "ArrayDatastore"

    def __init__(self, data: Any, dim: int, read_size: int, output_type: str,
                 order: np.ndarray | None = None):
        super().__init__()
        self._data = data
        self.IterationDimension = dim
        self.ReadSize = read_size
        self.OutputType = output_type
        n = len(data) if isinstance(data, pd.Categorical) else data.shape[dim - 1]
        self._order = np.arange(n) if order is None else order

    @property
    def numobservations(self) -> int:
        return int(self._order.size)

    def _take(self, indices: np.ndarray) -> Any:
        if isinstance(self._data, pd.Categorical):
            return self._data[indices]
        return np.take(self._data, indices, axis=self.IterationDimension - 1)

    def _slice(self, i: int) -> Any:
        if isinstance(self._data, pd.Categorical):
            return self._data[i]
        return np.take(self._data, i, axis=self.IterationDimension - 1)

    def _subset(self, indices: np.ndarray) -> "ArrayDatastore":
        return ArrayDatastore(self._data, self.IterationDimension, self.ReadSize, self.OutputType,
                              self._order[indices])

    def _read_cells(self, start: int, stop: int) -> tuple[list[list], dict]:
        return [[self._slice(int(i))] for i in self._order[start:stop]], {}

    def _output(self, rows: list[list], info: dict) -> Any:
        if self.OutputType == "cell":
            return [r[0] for r in rows]
        if isinstance(self._data, pd.Categorical):
            return pd.Categorical([r[0] for r in rows], categories=self._data.categories)
        return np.stack([r[0] for r in rows], axis=self.IterationDimension - 1)

    def _concat(self, outputs: list[Any]) -> Any:
        if self.OutputType == "cell":
            return [x for out in outputs for x in out]
        if isinstance(self._data, pd.Categorical):
            return self._take(self._order)
        return np.concatenate(outputs, axis=self.IterationDimension - 1)

    def __repr__(self) -> str:
        return (f"  ArrayDatastore with properties:\n\n"
                f"              ReadSize: {self.ReadSize}\n"
                f"    IterationDimension: {self.IterationDimension}\n"
                f"            OutputType: \"{self.OutputType}\"\n")


def arrayDatastore(A: Any, *args: Any, **kwargs: Any) -> ArrayDatastore:
    """``ads = arrayDatastore(A, IterationDimension=1, ReadSize=1, OutputType="cell")``.

    ``IterationDimension`` is MATLAB's 1-based dimension number (``5`` for the observations
    of an ``h x w x d x c x N`` array). A 1-D array or a pandas.Categorical of labels is a
    column (dimension 1). ``read`` returns a list of ``ReadSize`` slices ("cell") or the
    slices stacked along the iteration dimension ("same").
    """
    func = "arrayDatastore"
    o = parse_name_value(args, kwargs, ["IterationDimension", "ReadSize", "OutputType"], func)
    if isinstance(A, pd.Series):
        A = A.array if isinstance(A.dtype, pd.CategoricalDtype) else A.to_numpy()
    if not isinstance(A, pd.Categorical):
        A = np.asarray(A)
        if A.dtype == object or A.ndim == 0:
            raise error(func, "InvalidArray", "A must be a numeric, logical or text array, or a "
                        f"pandas.Categorical. Received: {type(A).__name__} of dtype {A.dtype}.")
    ndim = 1 if isinstance(A, pd.Categorical) else A.ndim
    dim = positive_integer(o.get("IterationDimension", 1), func, "IterationDimension")
    if dim > ndim:
        raise error(func, "InvalidIterationDimension", f"IterationDimension must be at most the "
                    f"number of dimensions of A ({ndim}). Received: IterationDimension={dim}.")
    output = validatestring(o.get("OutputType", "cell"), ["cell", "same"], func, "OutputType")
    return ArrayDatastore(A, dim, positive_integer(o.get("ReadSize", 1), func, "ReadSize"), output)
