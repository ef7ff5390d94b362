"""Shared argument handling of the deep-learning functions (DataFormat, weights, masks)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..layers._validation import parse_name_value, validatestring
from ..layers.errors import MException
from . import formats
from .dlarray import dlarray, fmt_of, relabel, stripdims


def as_dlarray(X: Any, func: str, argname: str = "X") -> dlarray:
    if isinstance(X, dlarray):
        return X
    try:
        return dlarray(X)
    except MException as err:
        raise MException(f"deep:{func}:InvalidInput",
                         f"{argname} must be a dlarray or a floating-point array. {err.message}") from None


def formatted_input(X: Any, data_format: Any, func: str) -> tuple[dlarray, str | None]:
    """``X`` with a format: its own, or ``DataFormat`` for an unformatted array (then returned,
    so ``restore`` can give the output back unformatted in that order)."""
    X = as_dlarray(X, func)
    if data_format is None:
        if not fmt_of(X):
            raise MException(f"deep:{func}:UnformattedInput",
                             f"{func} needs a formatted dlarray or the DataFormat option. "
                             "Received: an unformatted array without DataFormat.")
        return X, None
    if fmt_of(X):
        raise MException(f"deep:{func}:FormattedInputWithDataFormat",
                         f"DataFormat applies to unformatted input only. Received: X with format "
                         f"'{fmt_of(X)}' and DataFormat='{data_format}'.")
    data_format = formats.parse(data_format, func)
    if len(data_format) < X.ndim:
        raise MException(f"deep:{func}:InvalidDataFormat",
                         f"DataFormat must label every dimension of X. Received: '{data_format}' for size "
                         f"{'x'.join(map(str, X.shape))}.")
    return relabel(X, data_format), data_format


def restore(Y: dlarray, data_format: str | None) -> dlarray:
    """Output of an unformatted call: unformatted, dimensions in DataFormat's order."""
    if data_format is None or not fmt_of(Y):
        return Y
    if sorted(fmt_of(Y)) == sorted(data_format):
        return stripdims(Y, data_format)
    return stripdims(Y)


def options(args: tuple, kwargs: dict, names: list[str], func: str) -> dict[str, Any]:
    return parse_name_value(args, kwargs, names, func)


def choice(opts: dict, name: str, allowed: list[str], default: str, func: str) -> str:
    return validatestring(opts[name], allowed, func, name) if name in opts else default


def positional_then_options(args: tuple, count: int) -> tuple[list[Any], tuple]:
    """Split up to ``count`` optional positional arguments from trailing "Name", value pairs."""
    values = []
    for a in args[:count]:
        if isinstance(a, str):
            break
        values.append(a)
    return values, args[len(values):]


def numeric(value: Any, func: str, argname: str) -> Any:
    """A raw numeric array (dlarray data or array-like), never a string."""
    if isinstance(value, dlarray):
        return value
    arr = np.asarray(value) if not hasattr(value, "dtype") else value
    if arr.dtype.kind not in "biuf":
        raise MException(f"deep:{func}:Invalid{argname}",
                         f"{argname} must be numeric. Received: {type(value).__name__} of dtype {arr.dtype}.")
    return value
