"""MATLAB's activation functions on dlarrays: relu, leakyrelu, sigmoid, softmax, gelu.

Elementwise functions keep the format of their input; softmax works over the channel
dimension ('C' label, or DataFormat for unformatted input).
"""
from __future__ import annotations

import math
from typing import Any

from ..layers._validation import real_scalar
from ..layers.errors import MException
from ..ops import activation as activation_ops, elementwise as elementwise_ops
from ..ops._backend import get_xp
from . import formats
from ._common import as_dlarray, choice, formatted_input, options, restore
from .dlarray import data_of, dlarray, fmt_of, record1


def relu(X: Any) -> dlarray:
    """``Y = relu(X)``: max(X, 0) (ops.activation.relu_forward)."""
    X = as_dlarray(X, "relu")
    y, cache = activation_ops.relu_forward(data_of(X))
    return record1(y, fmt_of(X), [X], lambda g, need: (activation_ops.relu_backward(g, cache),))


def leakyrelu(X: Any, scaleFactor: Any = 0.01) -> dlarray:
    """``Y = leakyrelu(X, scaleFactor)``: X where X > 0, scaleFactor * X elsewhere (default 0.01)."""
    X = as_dlarray(X, "leakyrelu")
    scale = real_scalar(scaleFactor, "leakyrelu", "scaleFactor", -math.inf, math.inf, "a finite real scalar")
    y, cache = elementwise_ops.leaky_relu_forward(data_of(X), scale)
    return record1(y, fmt_of(X), [X], lambda g, need: (elementwise_ops.leaky_relu_backward(g, cache),))


def sigmoid(X: Any) -> dlarray:
    """``Y = sigmoid(X)``: 1 / (1 + exp(-X)), computed without overflow."""
    X = as_dlarray(X, "sigmoid")
    y, cache = elementwise_ops.sigmoid_forward(data_of(X))
    return record1(y, fmt_of(X), [X], lambda g, need: (elementwise_ops.sigmoid_backward(g, cache),))


def softmax(X: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = softmax(X)`` over the channel dimension (ops.activation.softmax_forward);
    ``DataFormat`` for unformatted input."""
    opts = options(args, kwargs, ["DataFormat"], "softmax")
    X, data_format = formatted_input(X, opts.get("DataFormat"), "softmax")
    fmt = fmt_of(X)
    if "C" not in fmt:
        raise MException("deep:softmax:NoChannelDimension",
                         f"softmax needs a 'C' dimension. Received: format '{fmt}'.")
    x = data_of(X)
    c = fmt.index("C")
    xp = get_xp(x)
    moved = xp.moveaxis(x, c, 0)
    y, cache = activation_ops.softmax_forward(moved)
    out = xp.moveaxis(y, 0, c)
    Y = record1(out, fmt, [X], lambda g, need: (
        xp.moveaxis(activation_ops.softmax_backward(xp.moveaxis(g, c, 0), cache), 0, c),))
    return restore(Y, data_format)


def gelu(X: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``Y = gelu(X, Approximation="none"|"tanh")``: X Phi(X) (exact, with erf) or the tanh form."""
    opts = options(args, kwargs, ["Approximation"], "gelu")
    approx = choice(opts, "Approximation", ["none", "tanh"], "none", "gelu")
    X = as_dlarray(X, "gelu")
    y, cache = elementwise_ops.gelu_forward(data_of(X), approx)
    return record1(y, fmt_of(X), [X], lambda g, need: (elementwise_ops.gelu_backward(g, cache),))
