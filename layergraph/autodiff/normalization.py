"""MATLAB's normalization functions on formatted dlarrays: batchnorm (ops.batchnorm kernels),
groupnorm, layernorm and instancenorm (ops.group_norm).

offset and scaleFactor hold one value per channel (any shape with that many elements; the
gradients come back in the shape given).  Epsilon defaults to 1e-5 as MATLAB.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..layers._validation import real_scalar
from ..layers.errors import MException
from ..ops import batchnorm as bn_ops, group_norm as gn_ops
from ..ops._backend import get_xp
from . import formats
from ._common import choice, formatted_input, options, restore
from .dlarray import data_of, dlarray, fmt_of, record


def _channels(X: dlarray, func: str) -> int:
    if "C" not in fmt_of(X):
        raise MException(f"deep:{func}:NoChannelDimension",
                         f"{func} needs a 'C' dimension. Received: format '{fmt_of(X)}'.")
    return X.shape[fmt_of(X).index("C")]


def _epsilon(opts: dict, func: str) -> float:
    return real_scalar(opts.get("Epsilon", 1e-5), func, "Epsilon", 1e-5, np.inf, "a real scalar >= 1e-5")


def _per_channel(value: Any, c: int, func: str, argname: str) -> Any:
    raw = data_of(value)
    if np.size(raw) != c:
        raise MException(f"deep:{func}:Invalid{argname}",
                         f"{argname} must have one value per channel ({c}). Received: {np.size(raw)} values.")
    return raw


# ---- batchnorm ----------------------------------------------------------------------------
def batchnorm(X: Any, offset: Any, scaleFactor: Any, *args: Any, nargout: int = 1, **kwargs: Any) -> Any:
    """Batch normalization over every dimension but 'C'.

    ``Y = batchnorm(X, offset, scaleFactor)``: batch statistics;
    ``Y, mu, sigmaSq = batchnorm(X, offset, scaleFactor, nargout=3)``: and those statistics;
    ``Y = batchnorm(X, offset, scaleFactor, mu, sigmaSq)``: inference with given statistics;
    ``Y, runMu, runSigmaSq = batchnorm(X, offset, scaleFactor, runMu, runSigmaSq, nargout=3)``:
    batch statistics and the running ones updated with MeanDecay/VarianceDecay (0.1), the
    variance unbiased, as MATLAB.  (Python cannot see MATLAB's nargout: pass it.)
    """
    stats = [a for a in args[:2] if not isinstance(a, str)]
    opts = options(args[len(stats):], kwargs, ["Epsilon", "MeanDecay", "VarianceDecay", "DataFormat"], "batchnorm")
    if len(stats) == 1:
        raise MException("deep:batchnorm:NotEnoughInputs",
                         "batchnorm needs both mu and sigmaSq (or neither). Received: only one statistic.")
    if nargout not in (1, 3):
        raise MException("deep:batchnorm:InvalidNargout", f"nargout must be 1 or 3. Received: {nargout!r}.")
    X, data_format = formatted_input(X, opts.get("DataFormat"), "batchnorm")
    c = _channels(X, "batchnorm")
    eps = _epsilon(opts, "batchnorm")
    x, undo = formats.to_internal(get_xp(data_of(X)), data_of(X), _cb_only(fmt_of(X)), "batchnorm")
    xp = get_xp(x)
    beta = xp.asarray(_per_channel(offset, c, "batchnorm", "offset"), dtype=x.dtype).reshape(c)
    gamma = xp.asarray(_per_channel(scaleFactor, c, "batchnorm", "scaleFactor"), dtype=x.dtype).reshape(c)
    training = not stats or nargout == 3
    mean = var = None
    if stats:
        mean = xp.asarray(_per_channel(stats[0], c, "batchnorm", "mu"), dtype=x.dtype).reshape(c)
        var = xp.asarray(_per_channel(stats[1], c, "batchnorm", "sigmaSq"), dtype=x.dtype).reshape(c)
    y, cache, (bmean, bvar) = bn_ops.batchnorm_forward(x, gamma, beta, eps, training,
                                                        None if training else mean, None if training else var)
    fmt = fmt_of(X)
    shapes = (np.shape(data_of(offset)), np.shape(data_of(scaleFactor)))

    def backward(gs, need):
        g, _ = formats.to_internal(xp, gs[0], _cb_only(fmt), "batchnorm")
        dx, dgamma, dbeta = bn_ops.batchnorm_backward(g, cache, need=(need[0], need[2], need[1]))
        return (undo(dx) if need[0] else None, dbeta.reshape(shapes[0]) if need[1] else None,
                dgamma.reshape(shapes[1]) if need[2] else None)
    Y = restore(record([undo(y)], [fmt], [X, offset, scaleFactor], backward)[0], data_format)
    if nargout == 1:
        return Y
    if not stats:
        return Y, bmean, bvar
    m = x.size // c
    mean_decay = real_scalar(opts.get("MeanDecay", 0.1), "batchnorm", "MeanDecay", 0.0, 1.0, "a real scalar in [0, 1]")
    var_decay = real_scalar(opts.get("VarianceDecay", 0.1), "batchnorm", "VarianceDecay", 0.0, 1.0,
                            "a real scalar in [0, 1]")
    run_mu = (1 - mean_decay) * mean + mean_decay * bmean
    run_var = (1 - var_decay) * var + var_decay * bvar * (m / max(m - 1, 1))
    return Y, run_mu.reshape(np.shape(data_of(stats[0]))), run_var.reshape(np.shape(data_of(stats[1])))


def _cb_only(fmt: str) -> str:
    """The format seen by the kernel: every non-C/B label is a reduction ('S')."""
    return "".join(c if c in "CB" else "S" for c in fmt)


# ---- group / layer / instance normalization (ops.group_norm) --------------------------
def _grouped(X: dlarray, groups: int, offset: Any, scale: Any, eps: float, func: str,
             channel_only: bool = False) -> dlarray:
    """Normalize per observation over groups of channels and the S/T dimensions (or, with
    ``channel_only``, over the channels of each position)."""
    fmt = fmt_of(X)
    c = _channels(X, func)
    x, undo = formats.to_internal(get_xp(data_of(X)), data_of(X), fmt, func)
    xp = get_xp(x)
    kernel_in = x.reshape(c, -1, 1) if channel_only else x
    beta = xp.asarray(_per_channel(offset, c, func, "offset"), dtype=x.dtype).reshape(c)
    gamma = xp.asarray(_per_channel(scale, c, func, "scaleFactor"), dtype=x.dtype).reshape(c)
    y, cache = gn_ops.group_norm_forward(kernel_in, gamma, beta, groups, eps)
    shapes = (np.shape(data_of(offset)), np.shape(data_of(scale)))

    def backward(gs, need):
        g, _ = formats.to_internal(xp, gs[0], fmt, func)
        dx, dgamma, dbeta = gn_ops.group_norm_backward(g.reshape(kernel_in.shape), cache,
                                                       need=(need[0], need[2], need[1]))
        return (undo(dx.reshape(x.shape)) if need[0] else None, dbeta.reshape(shapes[0]) if need[1] else None,
                dgamma.reshape(shapes[1]) if need[2] else None)
    return record([undo(y.reshape(x.shape))], [fmt], [X, offset, scale], backward)[0]


def groupnorm(X: Any, numGroups: Any, offset: Any, scaleFactor: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = groupnorm(X, numGroups, offset, scaleFactor, Epsilon=1e-5)``: per observation, over
    the S/T dimensions and each group of channels; numGroups a divisor of C, "all-channels"
    or "channel-wise"."""
    opts = options(args, kwargs, ["Epsilon", "DataFormat"], "groupnorm")
    X, data_format = formatted_input(X, opts.get("DataFormat"), "groupnorm")
    c = _channels(X, "groupnorm")
    if isinstance(numGroups, str):
        groups = {"all-channels": 1, "channel-wise": c}[choice({"g": numGroups}, "g", ["all-channels", "channel-wise"],
                                                               "all-channels", "groupnorm")]
    else:
        groups = int(real_scalar(numGroups, "groupnorm", "numGroups", 1, c, f"a divisor of {c}"))
        if c % groups or groups != numGroups:
            raise MException("deep:groupnorm:InvalidNumGroups",
                             f"numGroups must divide the number of channels ({c}). Received: {numGroups!r}.")
    Y = _grouped(X, groups, offset, scaleFactor, _epsilon(opts, "groupnorm"), "groupnorm")
    return restore(Y, data_format)


def instancenorm(X: Any, offset: Any, scaleFactor: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = instancenorm(X, offset, scaleFactor, Epsilon=1e-5)``: per observation and channel,
    over the S/T dimensions."""
    opts = options(args, kwargs, ["Epsilon", "DataFormat"], "instancenorm")
    X, data_format = formatted_input(X, opts.get("DataFormat"), "instancenorm")
    c = _channels(X, "instancenorm")
    if not any(lab in "ST" for lab in fmt_of(X)):
        raise MException("deep:instancenorm:NoSpatialDimensions",
                         f"instancenorm needs an 'S' or 'T' dimension. Received: format '{fmt_of(X)}'.")
    Y = _grouped(X, c, offset, scaleFactor, _epsilon(opts, "instancenorm"), "instancenorm")
    return restore(Y, data_format)


def layernorm(X: Any, offset: Any, scaleFactor: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = layernorm(X, offset, scaleFactor, Epsilon=1e-5, OperationDimension="auto")``: per
    observation over C and S ("spatial-channel"), C only ("channel-only"; "auto" for data with
    a 'T' dimension) or every dimension but B ("batch-excluded": C, S and T)."""
    opts = options(args, kwargs, ["Epsilon", "DataFormat", "OperationDimension"], "layernorm")
    X, data_format = formatted_input(X, opts.get("DataFormat"), "layernorm")
    _channels(X, "layernorm")
    fmt = fmt_of(X)
    mode = choice(opts, "OperationDimension", ["auto", "channel-only", "spatial-channel", "batch-excluded"],
                  "auto", "layernorm")
    if mode == "auto":
        mode = "channel-only" if "T" in fmt else "spatial-channel"
    if mode == "spatial-channel" and "T" in fmt:
        raise MException("deep:layernorm:InvalidOperationDimension",
                         "OperationDimension \"spatial-channel\" needs data without a 'T' dimension. "
                         f"Received: format '{fmt}'.")
    channel_only = mode == "channel-only" and any(lab in "ST" for lab in fmt)
    Y = _grouped(X, 1, offset, scaleFactor, _epsilon(opts, "layernorm"), "layernorm", channel_only)
    return restore(Y, data_format)
