"""The data boundary: MATLAB-layout arrays and labels <-> the internal layout of ``ops``.

* ``check_predictors(X, input_size, what, func)``: host predictors ``(*InputSize, N)``, checked;
* ``matlab_to_internal(X, num_spatial)``: ``(h, w[, d], c, N)`` -> ``(c, N, h, w[, d])``;
* ``internal_to_matlab(x)``: the inverse on the host (``(K, N)`` scores stay as they are);
* ``onehot(labels, classes)``: one-hot ``(K, N)`` in ``classes`` order.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..layers.errors import MException
from ..ops import _backend

__all__: list[str] = []


def check_predictors(X: Any, input_size: tuple[int, ...], what: str, func: str = "trainNetwork",
                     keep_device: bool = False) -> np.ndarray:
    """MATLAB-layout predictors ``(*InputSize, N)``, N >= 1, as a host array (N=1 may be dropped;
    ``keep_device``: a CuPy array stays on the GPU).

    Shared by trainNetwork and the inference functions (``func`` names the caller in the
    identifier): real numeric dtypes only (no bool, complex, object or text).
    """
    given = type(X).__name__
    if _backend.is_gpu_array(X):
        X = X if keep_device else _backend.to_host(X)
    else:
        X = np.asarray(X)
    if X.dtype.kind not in "iuf":
        raise MException(f"nnet_cnn:{func}:InvalidPredictors",
                         f"{what} must be a real numeric array. Received: {given}"
                         f"{f' of dtype {X.dtype}' if given in ('ndarray', 'list', 'tuple') else ''}.")
    received = "x".join(map(str, X.shape))
    if X.ndim == len(input_size):
        X = X[..., None]
    if tuple(X.shape[:-1]) != tuple(input_size) or X.shape[-1] == 0:
        size = "x".join(map(str, input_size))
        raise MException(f"nnet_cnn:{func}:WrongInputSize",
                         f"{what} must be of size {size}xN (N >= 1 observations) to match the input "
                         f"layer. Received: array of size {received}.")
    return X


def matlab_to_internal(X: Any, num_spatial: int, xp: Any = np, dtype: Any = np.float32) -> Any:
    """MATLAB ``(h, w[, d], c, N)`` -> internal ``(c, N, h, w[, d])`` (one transposing copy, C order).

    A missing trailing ``N`` (a single observation, as MATLAB drops it) is allowed.
    """
    X = xp.asarray(X, dtype=dtype)
    if X.ndim == num_spatial + 1:
        X = X[..., None]
    if X.ndim != num_spatial + 2:
        raise MException("nnet_cnn:executor:WrongDataDimensions",
                         f"Input data must have {num_spatial + 2} dimensions (spatial x channels x "
                         f"observations). Received: array of size {'x'.join(map(str, X.shape))}.")
    return xp.ascontiguousarray(X.transpose(num_spatial, num_spatial + 1, *range(num_spatial)))


def internal_to_matlab(x: Any, keep_device: bool = False) -> np.ndarray:
    """Internal ``(C, N, *S)`` -> MATLAB ``(*S, C, N)`` on the host (``keep_device``: a CuPy
    array stays on the GPU); ``(K, N)`` stays ``(K, N)``."""
    if keep_device and _backend.is_gpu_array(x):
        xp = _backend.get_xp(x)
        return x if x.ndim == 2 else xp.ascontiguousarray(x.transpose(*range(2, x.ndim), 0, 1))
    x = _backend.to_host(x)
    if x.ndim == 2:
        return np.asarray(x)
    return np.ascontiguousarray(x.transpose(*range(2, x.ndim), 0, 1))


def onehot(labels: Any, classes: Sequence[Any], dtype: Any = np.float32,
           argname: str = "Labels", func: str = "executor") -> np.ndarray:
    """Labels (pandas.Categorical or a sequence) -> one-hot ``(K, N)`` in ``classes`` order.

    Labels outside ``classes``: MException ``nnet_cnn:<func>:UnknownClass`` naming ``argname``.
    """
    lookup = {c: k for k, c in enumerate(classes)}
    values = list(labels)
    unknown = sorted({str(v) for v in values if v not in lookup})
    if unknown:
        count = sum(v not in lookup for v in values)
        raise MException(f"nnet_cnn:{func}:UnknownClass",
                         f"{argname} must be among the network classes "
                         f"{list(map(str, classes))}. Received: {count} of {len(values)} labels "
                         f"outside them: {unknown[:5]}{' ...' if len(unknown) > 5 else ''}.")
    out = np.zeros((len(classes), len(values)), dtype=dtype)
    out[[lookup[v] for v in values], np.arange(len(values))] = 1
    return out
