"""The data boundary of semantic segmentation: label volumes <-> class codes <-> one-hot targets.

A label volume is MATLAB's categorical image: an N-d array ``h x w [x d] [x N]`` of

* class names (``str``/object array; ``None``, NaN and ``""`` are MATLAB's ``<undefined>``),
* or integer codes, 0-based indices into the classes (negative = undefined),
* or a ``pandas.Categorical`` of any shape flattened in C order (with its categories).

``label_codes`` turns one into int32 codes (-1 undefined) plus the class list; ``onehot_codes``
makes the ``(K, N, *S)`` internal targets (an undefined voxel's column is all zero, which the
pixel losses ignore).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..layers.errors import MException

__all__: list[str] = []

UNDEFINED = -1


def _text(values: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(f"'{v}'" for v in list(values)[:limit])
    return "{" + shown + (", ..." if len(values) > limit else "") + "}"


def _undefined_mask(values: np.ndarray) -> np.ndarray:
    """True where an object/str array holds None, NaN or ''."""
    flat = values.ravel()
    return np.fromiter((v is None or v == "" or (isinstance(v, float) and v != v) for v in flat),
                       dtype=bool, count=flat.size).reshape(values.shape)


def label_codes(Y: Any, classes: Sequence[str] | None, func: str, argname: str = "Y"
                ) -> tuple[np.ndarray, list[str]]:
    """``(codes int32 of Y's shape, classes)``.

    ``classes`` None (the output layer's Classes 'auto'): the sorted names found in ``Y``
    (MATLAB ``categorical``), integer codes then need named classes. Names outside
    ``classes`` and codes out of range are an MException ``<component>:<func>:UnknownLabels``.
    """
    if isinstance(Y, pd.Categorical):
        names = [str(c) for c in Y.categories]
        if classes is None:
            return np.asarray(Y.codes, dtype=np.int32), names
        lookup = {c: k for k, c in enumerate(classes)}
        missing = sorted(set(names) - set(lookup))
        used = set(np.unique(Y.codes[Y.codes >= 0]))
        missing = [m for m in missing if names.index(m) in used]
        if missing:
            raise _unknown(func, argname, missing, classes)
        table = np.array([lookup.get(n, UNDEFINED) for n in names] + [UNDEFINED], dtype=np.int32)
        return table[np.asarray(Y.codes)], list(classes)
    values = np.asarray(Y)
    if values.dtype.kind in "iu":
        return _integer_codes(values, classes, func, argname)
    if values.dtype.kind not in "UO" or values.size == 0:
        raise MException(f"nnet_cnn:{func}:InvalidLabels",
                         f"{argname} must be a label volume: class names (a str/object array), "
                         "0-based integer codes or a pandas.Categorical. Received: "
                         f"{type(Y).__name__} of dtype {values.dtype} and size "
                         f"{'x'.join(map(str, values.shape))}.")
    undefined = _undefined_mask(values) if values.dtype.kind == "O" else values == ""
    text = np.where(undefined, "", values.astype(str))
    found = sorted(set(np.unique(text[~undefined]).tolist()))
    if classes is None:
        classes = found
    lookup = {c: k for k, c in enumerate(classes)}
    missing = [c for c in found if c not in lookup]
    if missing:
        raise _unknown(func, argname, missing, classes)
    uniques, inverse = np.unique(text, return_inverse=True)
    table = np.array([lookup.get(u, UNDEFINED) for u in uniques.tolist()], dtype=np.int32)
    codes = table[inverse.reshape(text.shape)]
    codes[undefined] = UNDEFINED
    return codes, list(classes)


def _integer_codes(values: np.ndarray, classes: Sequence[str] | None, func: str, argname: str
                   ) -> tuple[np.ndarray, list[str]]:
    if classes is None:
        raise MException(f"nnet_cnn:{func}:ClassesNeededForCodes",
                         f"Integer codes in {argname} need the class names: set Classes on the "
                         "pixel classification layer (code k is Classes[k], 0-based), or pass the "
                         "labels as class names. Received: integer labels and Classes='auto'.")
    high = int(values.max()) if values.size else -1
    if high >= len(classes):
        raise MException(f"nnet_cnn:{func}:UnknownLabels",
                         f"Integer codes in {argname} must be 0-based indices into the {len(classes)} "
                         f"classes {_text(classes)} (negative = undefined). Received: code {high}.")
    return np.where(values < 0, UNDEFINED, values).astype(np.int32), list(classes)


def _unknown(func: str, argname: str, missing: list[str], classes: Sequence[str]) -> MException:
    return MException(f"nnet_cnn:{func}:UnknownLabels",
                      f"Every class in {argname} must be a class of the output layer "
                      f"{_text(classes, 8)}. Received: {len(missing)} other classes {_text(missing)}.")


def onehot_codes(codes: np.ndarray, num_classes: int, dtype: Any = np.float32) -> np.ndarray:
    """Codes ``(h, w[, d], N)`` (MATLAB order, observations last) -> one-hot ``(K, N, h, w[, d])``."""
    moved = np.moveaxis(codes, -1, 0)
    out = np.zeros((num_classes, *moved.shape), dtype=dtype)
    flat = moved.ravel()
    columns = np.flatnonzero(flat >= 0)
    out.reshape(num_classes, -1)[flat[columns], columns] = 1      # a view: out is contiguous
    return out


def check_label_size(codes: np.ndarray, output_spatial: tuple[int, ...], n: int, func: str,
                     argname: str = "Y") -> np.ndarray:
    """Codes as ``(*output_spatial, N)``: a missing trailing N of 1 is added; other sizes are an
    MException ``<component>:<func>:WrongLabelSize`` naming both sizes."""
    if codes.shape == tuple(output_spatial) and n == 1:
        codes = codes[..., None]
    if codes.shape != (*output_spatial, n):
        expected = "x".join(map(str, (*output_spatial, n)))
        raise MException(f"nnet_cnn:{func}:WrongLabelSize",
                         f"The label volumes in {argname} must match the network output: size "
                         f"{expected} (output size {'x'.join(map(str, output_spatial))} per observation, "
                         f"{n} observations). Received: size {'x'.join(map(str, codes.shape))}.")
    return codes
