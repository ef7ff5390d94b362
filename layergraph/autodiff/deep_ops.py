"""MATLAB's deep-learning operations on formatted dlarrays, built on the ops kernels:
dlconv, dltranspconv, fullyconnect, maxpool, avgpool.

Data go to the ops' internal layout ``(C, N, *spatial)`` (spatial = the S dimensions, then T)
and back; weights in MATLAB's layout: dlconv ``K1 x ... x KD x C x F``; dltranspconv ``K1 x ... x KD x F x C``; fullyconnect
``OutputSize x InputSize``; bias a vector with one value per filter/output.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..layers._validation import positive_int_vector
from ..layers.errors import MException
from ..ops import convolution as conv_ops, fully_connected as fc_ops, pooling as pool_ops
from ..ops import transposed_convolution as tconv_ops
from ..ops._backend import get_xp
from ..ops._shapes import same_padding
from . import formats
from ._common import formatted_input, options, restore
from .dlarray import data_of, dlarray, fmt_of, record


def _spatial_count(X: dlarray, func: str) -> int:
    _, _, spatial = formats.internal_order(fmt_of(X), func)
    if not spatial:
        raise MException(f"deep:{func}:NoSpatialDimensions",
                         f"{func} needs at least one 'S' or 'T' dimension. Received: format '{fmt_of(X)}'.")
    return len(spatial)


def _padding(value: Any, in_sizes, k, stride, dilation, func: str, argname: str = "Padding"):
    """MATLAB padding: "same", a scalar, a vector (one per dim, both sides) or a 2 x D matrix."""
    d = len(in_sizes)
    if isinstance(value, str):
        if value.lower() != "same":
            raise MException(f"deep:{func}:Invalid{argname}",
                             f'{argname} must be "same" or nonnegative integers. Received: "{value}".')
        return same_padding(in_sizes, k, stride, dilation)
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise MException(f"deep:{func}:Invalid{argname}",
                         f"{argname} must be nonnegative integers. Received: {value!r}.")
    arr = arr.astype(int)
    if arr.size == 1:
        return ((int(arr.ravel()[0]),) * 2,) * d
    if arr.ndim == 1 and arr.size == d:
        return tuple((int(p), int(p)) for p in arr)
    if arr.shape == (2, d):
        return tuple((int(arr[0, i]), int(arr[1, i])) for i in range(d))
    raise MException(f"deep:{func}:Invalid{argname}",
                     f"{argname} must be a scalar, a vector of {d} values or a 2x{d} matrix. "
                     f"Received: size {'x'.join(map(str, arr.shape))}.")


def _vector(value: Any, d: int, func: str, argname: str) -> tuple[int, ...]:
    v = positive_int_vector(value, func, argname)
    return tuple(v) * d if len(v) == 1 else tuple(v)


def _op(func: str, fun: Any, *args: Any, **kwargs: Any) -> Any:
    """An ops kernel whose ValueError (sizes, padding) becomes the function's MException."""
    try:
        return fun(*args, **kwargs)
    except ValueError as err:
        raise MException(f"deep:{func}:InvalidSize", f"{func}: {err}") from None


def _in_out(X: dlarray, func: str):
    x, undo = formats.to_internal(get_xp(data_of(X)), data_of(X), fmt_of(X), func)
    return x, undo


def _filter_array(weights: Any, d: int, xp: Any) -> Any:
    """MATLAB filter weights with D + 2 dimensions: a trailing numGroups of 1 dropped, trailing
    singleton dimensions MATLAB drops restored."""
    w_raw = xp.asarray(data_of(weights))
    if w_raw.ndim == d + 3 and w_raw.shape[-1] == 1:
        w_raw = w_raw.reshape(w_raw.shape[:-1])
    while w_raw.ndim < d + 2:
        w_raw = w_raw.reshape(w_raw.shape + (1,))
    return w_raw


def _filter_bias(bias: Any, f: int, xp: Any, dtype: Any, func: str) -> tuple[Any, bool]:
    """``(b (F,), per_filter)``: bias of F values, or a scalar broadcast to F."""
    b_raw = xp.asarray(data_of(bias), dtype=dtype).reshape(-1)
    if b_raw.size not in (1, f):
        raise MException(f"deep:{func}:InvalidBias",
                         f"bias must have {f} values (one per filter) or be a scalar. Received: {b_raw.size} values.")
    per_filter = b_raw.size == f
    return (b_raw if per_filter else xp.broadcast_to(b_raw, (f,))), per_filter


def _record_filter_op(X: dlarray, weights: Any, bias: Any, y: Any, fmt: str, undo: Any,
                      backward_op: Any, cache: Any, order: tuple[int, ...], per_filter: bool,
                      func: str) -> dlarray:
    """Record ``y`` (internal layout, X's format ``fmt``) of a (transposed) convolution whose
    ``backward_op(g, cache, need)`` gives ``(dx, dw, db)`` with the weights transposed by
    ``order``; gradients go back to MATLAB's weights and bias shapes."""
    xp = get_xp(y)
    w_shape, b_shape = np.shape(data_of(weights)), np.shape(data_of(bias))
    inverse = tuple(int(i) for i in np.argsort(order))

    def backward(gs, need):
        g_int, _ = formats.to_internal(xp, gs[0], fmt, func)
        dx, dw, db = backward_op(g_int, cache, need=tuple(need))
        return (undo(dx) if need[0] else None,
                dw.transpose(inverse).reshape(w_shape) if need[1] else None,
                (db if per_filter else db.sum()).reshape(b_shape) if need[2] else None)
    return record([formats.from_internal(y, fmt)], [fmt], [X, weights, bias], backward)[0]


# ---- convolution --------------------------------------------------------------------------
def dlconv(X: Any, weights: Any, bias: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = dlconv(X, weights, bias, Stride=1, DilationFactor=1, Padding=0, DataFormat=)``.

    weights ``K1 x ... x KD x C x F`` (a trailing numGroups of 1 is allowed); bias ``F`` values
    or a scalar 0.  Y has X's format with F channels.
    """
    opts = options(args, kwargs, ["Stride", "DilationFactor", "Padding", "PaddingValue", "DataFormat",
                                  "WeightsFormat"], "dlconv")
    X, data_format = formatted_input(X, opts.get("DataFormat"), "dlconv")
    d = _spatial_count(X, "dlconv")
    x, undo = _in_out(X, "dlconv")
    xp = get_xp(x)
    w_raw = _filter_array(weights, d, xp)
    if w_raw.ndim != d + 2 or w_raw.shape[d] != x.shape[0]:
        raise MException("deep:dlconv:InvalidWeights",
                         f"weights must be K1 x ... x K{d} x {x.shape[0]} (channels) x F. Received: size "
                         f"{'x'.join(map(str, data_of(weights).shape))}.")
    k = w_raw.shape[:d]
    stride = _vector(opts.get("Stride", 1), d, "dlconv", "Stride")
    dilation = _vector(opts.get("DilationFactor", 1), d, "dlconv", "DilationFactor")
    pad = _padding(opts.get("Padding", 0), x.shape[2:], k, stride, dilation, "dlconv")
    if opts.get("PaddingValue", 0) != 0:
        raise MException("deep:dlconv:InvalidPaddingValue",
                         f"PaddingValue must be 0. Received: {opts['PaddingValue']!r}.")
    order = (d + 1, d) + tuple(range(d))
    w = w_raw.transpose(order).astype(x.dtype, copy=False)          # (F, C, *K)
    b, per_filter = _filter_bias(bias, w.shape[0], xp, x.dtype, "dlconv")
    y, cache = _op("dlconv", conv_ops.conv_forward, x, w, b, stride, pad, dilation)
    fmt = fmt_of(X) if "C" in fmt_of(X) else None
    if fmt is None:
        raise MException("deep:dlconv:NoChannelDimension",
                         f"dlconv needs a 'C' dimension. Received: format '{fmt_of(X)}'.")
    Y = _record_filter_op(X, weights, bias, y, fmt, undo, conv_ops.conv_backward, cache, order,
                          per_filter, "dlconv")
    return restore(Y, data_format)


def dltranspconv(X: Any, weights: Any, bias: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = dltranspconv(X, weights, bias, Stride=1, DilationFactor=1, Cropping=0, DataFormat=)``.

    weights ``K1 x ... x KD x F x C`` (filters before channels, as MATLAB; a trailing numGroups
    of 1 is allowed); output size ``(S - 1) Stride + (K - 1) DilationFactor + 1 - cropping``;
    Cropping "same" crops ``(K - 1) d + 1 - Stride`` (the odd one after) so the output is
    ``S .* Stride``.
    """
    opts = options(args, kwargs, ["Stride", "DilationFactor", "Cropping", "DataFormat", "WeightsFormat"],
                   "dltranspconv")
    X, data_format = formatted_input(X, opts.get("DataFormat"), "dltranspconv")
    d = _spatial_count(X, "dltranspconv")
    fmt = fmt_of(X)
    if "C" not in fmt:
        raise MException("deep:dltranspconv:NoChannelDimension",
                         f"dltranspconv needs a 'C' dimension. Received: format '{fmt}'.")
    x, undo = _in_out(X, "dltranspconv")
    xp = get_xp(x)
    w_raw = _filter_array(weights, d, xp)
    if w_raw.ndim != d + 2 or w_raw.shape[d + 1] != x.shape[0]:
        raise MException("deep:dltranspconv:InvalidWeights",
                         f"weights must be K1 x ... x K{d} x F x {x.shape[0]} (channels). Received: size "
                         f"{'x'.join(map(str, data_of(weights).shape))}.")
    k = w_raw.shape[:d]
    stride = _vector(opts.get("Stride", 1), d, "dltranspconv", "Stride")
    dilation = _vector(opts.get("DilationFactor", 1), d, "dltranspconv", "DilationFactor")
    crop_value = opts.get("Cropping", 0)
    if isinstance(crop_value, str) and crop_value.lower() == "same":
        totals = [(ki - 1) * di + 1 - si for ki, di, si in zip(k, dilation, stride)]
        if min(totals) < 0:
            raise MException("deep:dltranspconv:InvalidCropping",
                             f'Cropping "same" needs (K - 1) DilationFactor + 1 >= Stride. Received: filter '
                             f"size {k}, Stride {stride}.")
        crop = tuple((t // 2, t - t // 2) for t in totals)
    else:
        crop = _padding(crop_value, x.shape[2:], k, stride, dilation, "dltranspconv", "Cropping")
    order = (d + 1, d) + tuple(range(d))
    w = w_raw.transpose(order).astype(x.dtype, copy=False)           # (C, F, *K)
    b, per_filter = _filter_bias(bias, w.shape[1], xp, x.dtype, "dltranspconv")
    try:
        y, cache = tconv_ops.transposed_conv_forward(x, w, b, stride, crop, dilation)
    except ValueError as err:
        raise MException("deep:dltranspconv:InvalidCropping", str(err)) from None
    Y = _record_filter_op(X, weights, bias, y, fmt, undo, tconv_ops.transposed_conv_backward,
                          cache, order, per_filter, "dltranspconv")
    return restore(Y, data_format)


# ---- fully connected ----------------------------------------------------------------------
def fullyconnect(X: Any, weights: Any, bias: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = fullyconnect(X, weights, bias, DataFormat=)``: ``weights * vec(X_n) + bias`` per
    observation (S and C dimensions flattened column-major); Y is 'CB' (OutputSize x N)."""
    opts = options(args, kwargs, ["DataFormat"], "fullyconnect")
    X, data_format = formatted_input(X, opts.get("DataFormat"), "fullyconnect")
    fmt = fmt_of(X)
    if "T" in fmt or "U" in fmt:
        raise MException("deep:fullyconnect:InvalidFormat",
                         f"fullyconnect supports the labels S, C and B. Received: format '{fmt}'.")
    x, undo = _in_out(X, "fullyconnect")
    xp = get_xp(x)
    w = xp.asarray(data_of(weights), dtype=x.dtype)
    b = xp.asarray(data_of(bias), dtype=x.dtype).reshape(-1)
    if w.ndim != 2 or w.shape[1] != x.size // x.shape[1] or b.size not in (1, w.shape[0]):
        raise MException("deep:fullyconnect:InvalidWeights",
                         f"weights must be OutputSize x {x.size // x.shape[1]} and bias OutputSize values. "
                         f"Received: weights {'x'.join(map(str, w.shape))}, bias {b.size} values.")
    bb = xp.broadcast_to(b, (w.shape[0],)) if b.size == 1 else b
    y, cache = fc_ops.fc_forward(x, w, bb)
    out_fmt = "CB" if "B" in fmt else "C"
    out = y.reshape(y.shape[:2]) if "B" in fmt else y.reshape(y.shape[0])
    w_shape, b_shape = np.shape(data_of(weights)), np.shape(data_of(bias))

    def backward(gs, need):
        g = gs[0].reshape((w.shape[0], x.shape[1]) + (1,) * (x.ndim - 2))
        dx, dw, db = fc_ops.fc_backward(g, cache, need=tuple(need))
        return (undo(dx) if need[0] else None, dw.reshape(w_shape) if need[1] else None,
                (db if b.size == w.shape[0] else db.sum()).reshape(b_shape) if need[2] else None)
    Y = record([out], [out_fmt], [X, weights, bias], backward)[0]
    return restore(Y, data_format)


# ---- pooling ------------------------------------------------------------------------------
def _pool(X: Any, poolsize: Any, args: tuple, kwargs: dict, func: str, kind: str) -> dlarray:
    names = ["Stride", "Padding", "DataFormat"] + (["PaddingValue"] if kind == "avg" else [])
    opts = options(args, kwargs, names, func)
    X, data_format = formatted_input(X, opts.get("DataFormat"), func)
    d = _spatial_count(X, func)
    fmt = fmt_of(X)
    x, undo = _in_out(X, func)
    if isinstance(poolsize, str):
        if poolsize.lower() != "global":
            raise MException(f"deep:{func}:InvalidPoolSize",
                             f'poolsize must be positive integers or "global". Received: "{poolsize}".')
        pool, stride, pad = x.shape[2:], x.shape[2:], ((0, 0),) * d
    else:
        pool = _vector(poolsize, d, func, "poolsize")
        stride = _vector(opts.get("Stride", 1), d, func, "Stride")
        pad = _padding(opts.get("Padding", 0), x.shape[2:], pool, stride, None, func)
    if kind == "max":
        y, cache = _op(func, pool_ops.max_pool_forward, x, pool, stride, pad)
        back = pool_ops.max_pool_backward
    else:
        value = opts.get("PaddingValue", 0)
        if not (value == 0 or (isinstance(value, str) and value.lower() == "mean")):
            raise MException(f"deep:{func}:InvalidPaddingValue",
                             f'PaddingValue must be 0 or "mean". Received: {value!r}.')
        y, cache = _op(func, pool_ops.avg_pool_forward, x, pool, stride, pad,
                       padding_value=value if value == 0 else "mean")
        back = pool_ops.avg_pool_backward
    xp = get_xp(x)
    out = formats.from_internal(y, fmt)

    def backward(gs, need):
        g_int, _ = formats.to_internal(xp, gs[0], fmt, func)
        return (undo(back(g_int, cache)),)
    Y = record([out], [fmt], [X], backward)[0]
    return restore(Y, data_format)


def maxpool(X: Any, poolsize: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = maxpool(X, poolsize, Stride=1, Padding=0)`` or ``maxpool(X, "global")``."""
    return _pool(X, poolsize, args, kwargs, "maxpool", "max")


def avgpool(X: Any, poolsize: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = avgpool(X, poolsize, Stride=1, Padding=0, PaddingValue=0|"mean")`` or ``avgpool(X, "global")``."""
    return _pool(X, poolsize, args, kwargs, "avgpool", "avg")
