"""onehotencode / onehotdecode: MATLAB's label <-> one-hot conversions (custom training loops).

``featureDim`` is MATLAB's 1-based dimension number (``onehotencode(Y, 1)`` ports unchanged).
A 1-D label vector ``(N,)`` stands for MATLAB's row or column, whichever leaves featureDim
singleton: ``featureDim=1`` gives ``(K, N)``, ``featureDim=2`` gives ``(N, K)``; decoding a
2-D ``B`` gives a 1-D result ``(N,)`` (a pandas.Categorical by default).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..layers._validation import parse_name_value, validatestring
from ..layers.errors import MException
from ..ops import _backend

__all__ = ["onehotencode", "onehotdecode"]

_NUMERIC_TYPES = ("single", "double", "int8", "int16", "int32", "int64", "uint8", "uint16",
                  "uint32", "uint64", "logical")
_DTYPES = {"single": np.float32, "double": np.float64, "logical": np.bool_}
_DECODE_TYPES = ("categorical", "string", "char") + _NUMERIC_TYPES


def _error(func: str, reason: str, message: str) -> MException:
    return MException(f"nnet_cnn:{func}:{reason}", message)


def _dtype(typename: str) -> np.dtype:
    return np.dtype(_DTYPES.get(typename, typename))


def _feature_dim(value: Any, func: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise _error(func, "InvalidFeatureDim",
                     "featureDim must be a positive integer (a MATLAB dimension number, 1 = "
                     f"rows). Received: featureDim={value!r}.")
    return int(value)


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"a {type(value).__name__}" + (f" of size {'x'.join(map(str, shape))}" if shape else "")


def _labels(A: Any, class_names: Any) -> tuple[np.ndarray, list]:
    """(labels as an object array in A's shape, class list)."""
    if isinstance(A, pd.Series):
        A = A.array
    if isinstance(A, pd.Categorical):
        classes = list(A.categories) if class_names is None else class_names
        return np.asarray(A.astype(object), dtype=object), classes
    try:
        values = np.asarray(A, dtype=object)
    except (ValueError, TypeError):
        values = None
    if values is None or values.ndim == 0 or any(isinstance(v, (list, tuple, dict, np.ndarray))
                                                 for v in values.ravel()):
        raise _error("onehotencode", "InvalidLabels",
                     "A must be a categorical array (pandas.Categorical) or an array of labels. "
                     f"Received: A={_describe(A)}.")
    if class_names is None:   # MATLAB's categorical(A): sorted unique values
        class_names = list(pd.Categorical(values.ravel()).categories)
    return values, class_names


def _class_list(classes: Any, func: str, argname: str) -> list:
    if isinstance(classes, (str, bytes)):
        classes = [classes]
    if isinstance(classes, (pd.Categorical, pd.Series, pd.Index)):
        classes = list(classes)
    try:
        out = list(np.asarray(classes, dtype=object).ravel())
    except (ValueError, TypeError):
        out = []
    if not out or len({str(c) for c in out}) != len(out):
        raise _error(func, f"Invalid{argname}",
                     f"{argname} must be a non-empty list of distinct class names. "
                     f"Received: {argname}={classes!r}.")
    return out


def onehotencode(A: Any, *args: Any, **kwargs: Any) -> Any:
    """One-hot encode labels ``A`` along dimension ``featureDim`` (MATLAB onehotencode).

    ``onehotencode(A, featureDim[, typename][, ClassNames=classes])``: A is a
    pandas.Categorical (1-D) or an array of labels (any shape, size 1 along featureDim, or
    fewer dimensions).  Returns A's shape with K = numel(classes) entries along featureDim,
    dtype ``typename`` ("single" default, "double", integer types, "logical").  Undefined
    labels and labels outside ClassNames encode to NaN (0 for integer and logical types).
    ``onehotencode(tblA[, typename][, ClassNames=classes])``: a pandas.DataFrame with one
    column of labels gives a DataFrame with one column per class.
    """
    table = isinstance(A, pd.DataFrame)
    if not table and not args:
        raise _error("onehotencode", "MissingFeatureDim",
                     "featureDim is required for an array of labels: onehotencode(A, featureDim).")
    featureDim, args = (None, args) if table else (args[0], args[1:])
    typename = "single"
    if args and isinstance(args[0], str) and not "classnames".startswith(args[0].lower()):
        typename, args = args[0], args[1:]
    options = parse_name_value(args, kwargs, ("ClassNames",), "onehotencode")
    typename = validatestring(typename, _NUMERIC_TYPES, "onehotencode", "typename")
    class_names = (None if "ClassNames" not in options
                   else _class_list(options["ClassNames"], "onehotencode", "ClassNames"))
    if table:
        return _encode_table(A, typename, class_names)
    dim = _feature_dim(featureDim, "onehotencode")
    values, classes = _labels(A, class_names)
    classes = _class_list(classes, "onehotencode", "ClassNames")
    if values.ndim == 1:
        values = values.reshape((1, -1) if dim == 1 else (-1, 1))
    shape = values.shape + (1,) * max(dim - values.ndim, 0)
    if shape[dim - 1] != 1:
        raise _error("onehotencode", "InvalidFeatureDim",
                     f"Dimension featureDim={dim} of A must be singleton (size 1) or beyond A's "
                     f"dimensions. Received: A of size {'x'.join(map(str, values.shape))}.")
    lookup = {str(c): k for k, c in enumerate(classes)}
    codes = np.array([lookup.get(str(v), -1) if not pd.isna(v) else -1
                      for v in values.ravel()], dtype=np.int64).reshape(shape)
    axis = dim - 1
    hot = np.moveaxis(codes, axis, -1) == np.arange(len(classes))
    out = hot.astype(_dtype(typename))
    if out.dtype.kind == "f":
        out[np.moveaxis(codes, axis, -1)[..., 0] < 0] = np.nan
    return np.moveaxis(out, -1, axis)


def _encode_table(table: pd.DataFrame, typename: str, class_names: list | None) -> pd.DataFrame:
    if table.shape[1] != 1:
        raise _error("onehotencode", "InvalidTable",
                     "A table must have exactly one variable (column) of labels. Received: "
                     f"{table.shape[1]} columns.")
    values, classes = _labels(table.iloc[:, 0], class_names)
    encoded = onehotencode(values.reshape(-1), 2, typename, ClassNames=classes)
    return pd.DataFrame(encoded, index=table.index, columns=[str(c) for c in classes])


def onehotdecode(B: Any, classes: Any, featureDim: Any, typename: str = "categorical") -> Any:
    """Decode probability vectors along ``featureDim`` to the most probable class.

    ``B``: numeric (NumPy or CuPy) with ``numel(classes)`` entries along featureDim.  Returns
    a pandas.Categorical (categories in ``classes`` order) for a 2-D B (length N), otherwise
    an object array of labels in B's shape with featureDim of size 1 (MATLAB's categorical
    array); typename "string"/"char" gives str labels, a numeric type numeric labels.  Ties go
    to the first class; a vector of NaN decodes to undefined (NaN).
    """
    names = _class_list(classes, "onehotdecode", "classes")
    dim = _feature_dim(featureDim, "onehotdecode")
    typename = validatestring(typename, _DECODE_TYPES, "onehotdecode", "typename")
    scores = np.asarray(_backend.to_host(B) if _backend.is_gpu_array(B) else B)
    if scores.dtype.kind not in "biuf" or scores.ndim == 0:
        raise _error("onehotdecode", "InvalidInput",
                     f"B must be a numeric array. Received: B={_describe(B)} of dtype "
                     f"{scores.dtype}.")
    shape = scores.shape + (1,) * max(dim - scores.ndim, 0)
    if shape[dim - 1] != len(names):
        raise _error("onehotdecode", "SizeMismatch",
                     f"The size of B along featureDim={dim} must equal the number of classes "
                     f"({len(names)}). Received: B of size {'x'.join(map(str, scores.shape))}.")
    moved = np.moveaxis(scores.reshape(shape).astype(np.float64), dim - 1, -1)
    undefined = np.isnan(moved).all(axis=-1)
    index = np.argmax(np.where(np.isnan(moved), -np.inf, moved), axis=-1)
    index = np.where(undefined, -1, index)
    index = np.expand_dims(index, dim - 1)
    if len(shape) == 2:
        index = index.reshape(-1)
    return _labels_of(index, names, typename)


def _labels_of(index: np.ndarray, names: list, typename: str) -> Any:
    if typename == "categorical":
        codes = index.reshape(-1)
        labels = pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=object))
        if index.ndim == 1:
            return labels
        return np.asarray(labels.astype(object), dtype=object).reshape(index.shape)
    if typename in ("string", "char"):
        text = np.array([str(n) for n in names] + [""], dtype=str)
        return text[index]
    try:
        numeric = np.array([float(n) for n in names] + [np.nan])
    except (TypeError, ValueError):
        raise _error("onehotdecode", "NonNumericClasses",
                     f"typename {typename!r} needs numeric class names. Received: classes="
                     f"{names!r}.") from None
    values = numeric[index]
    if _dtype(typename).kind != "f":   # MATLAB's cast of NaN to an integer or logical: 0
        values = np.where(np.isnan(values), 0, values)
    return values.astype(_dtype(typename))
