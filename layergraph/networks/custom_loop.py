"""The custom-training-loop gradient functions: ``dlfeval``, ``dlgradient``, ``crossentropy``, ``mse``.

Automatic differentiation is tape-free: ``dlfeval(modelLoss, net, X, T)`` records the last
``forward(net, X)`` made inside ``modelLoss`` and the loss (``crossentropy`` or ``mse``)
applied to one of its outputs; ``dlgradient(loss, net.Learnables)`` then runs the executor's
backward pass from that loss.  Supported: a loss that is exactly ``crossentropy(Y, T)`` or
``mse(Y, T)`` of an output ``Y`` of that forward call (see docs/networks.md).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import autodiff
from ..autodiff.dlarray import dlarray
from ..runtime.executor import Executor
from ..layers.errors import MException
from ..ops import loss as loss_ops
from .dlnetwork import TABLE_COLUMNS
from .trace import _LossRecord, _Trace, _TRACES

__all__ = ["dlfeval", "dlgradient", "crossentropy", "mse"]


def dlfeval(fun: Callable[..., Any], *args: Any) -> Any:
    """``[...] = dlfeval(@modelLoss, net, X, T)``: call ``fun(*args)`` with gradient recording."""
    if not callable(fun):
        raise MException("deep:dlfeval:InvalidFunction",
                         f"The first argument of dlfeval must be a function. Received: {type(fun).__name__}.")
    _TRACES.append(_Trace())
    try:
        return autodiff.dlfeval(fun, *args)     # the tape records the dlarray operations
    finally:
        _TRACES.pop()


def dlgradient(loss: Any, *tables: Any, **kwargs: Any) -> Any:
    """``gradients = dlgradient(loss, net.Learnables)``: a table like the argument, Value = dloss/dValue.

    A dlarray ``loss`` is differentiated on the tape (autodiff.dlgradient: any variables).
    """
    if isinstance(loss, dlarray):
        return autodiff.dlgradient(loss, *tables, **kwargs)
    if not _TRACES:
        raise MException("deep:dlgradient:NotTracing",
                         "dlgradient must be called inside a function evaluated with dlfeval.")
    record = _TRACES[-1].losses.get(id(loss))
    if record is None or record.value is not loss:
        raise MException("deep:dlgradient:UnsupportedLoss",
                         "dlgradient supports a loss returned by crossentropy(Y, T) or mse(Y, T) where Y "
                         "is an output of forward(net, X) in the same dlfeval call. Received: another value.")
    fwd = record.forward
    layers = {layer.Name: layer for layer in fwd.net.Layers}
    for table in tables:
        _check_parameter_rows(table, layers)
    dy = record.backward()
    grads = fwd.net.executor.backward(fwd.fp, {record.output: dy})
    out = []
    for table in tables:
        values = []
        for name, p, v in zip(table["Layer"], table["Parameter"], table["Value"]):
            g = grads.get((name, p))
            values.append(np.zeros_like(np.asarray(v)) if g is None else layers[name].from_internal(p, g))
        out.append(pd.DataFrame({"Layer": list(table["Layer"]), "Parameter": list(table["Parameter"]),
                                 "Value": values}))
    return out[0] if len(out) == 1 else tuple(out)


def _check_parameter_rows(table: Any, layers: dict) -> None:
    """A table to differentiate against: Layer/Parameter rows naming learnables or states of
    the network (a misspelt row would otherwise get a silent zero gradient)."""
    if not isinstance(table, pd.DataFrame) or not set(TABLE_COLUMNS) <= set(table.columns):
        raise MException("deep:dlgradient:InvalidTable",
                         "dlgradient differentiates with respect to tables with columns Layer, Parameter and "
                         f"Value (such as net.Learnables). Received: {type(table).__name__}.")
    unknown = [f"{name}.{p}" for name, p in zip(table["Layer"], table["Parameter"])
               if name not in layers or p not in layers[name].LEARNABLES + layers[name].STATES]
    if unknown:
        raise MException("deep:dlgradient:UnknownParameter",
                         f"Every row must name a learnable or state of the network. Received: {unknown}.")


def crossentropy(Y: Any, T: Any, *args: Any, **kwargs: Any) -> Any:
    """``loss = crossentropy(Y, T)``: -sum(T .* log(Y)) / N for ``K x N`` scores and targets
    (a dlarray ``Y``: autodiff.crossentropy with all of MATLAB's options)."""
    if isinstance(Y, dlarray) or args or kwargs:
        return autodiff.crossentropy(Y, T, *args, **kwargs)
    return _loss(Y, T, loss_ops.cross_entropy_forward, loss_ops.cross_entropy_backward)


def mse(Y: Any, T: Any, *args: Any, **kwargs: Any) -> Any:
    """``loss = mse(Y, T)``: half mean squared error, sum((Y - T).^2) / (2 N)
    (a dlarray ``Y``: autodiff.mse)."""
    if isinstance(Y, dlarray) or args or kwargs:
        return autodiff.mse(Y, T, *args, **kwargs)
    return _loss(Y, T, loss_ops.mse_forward, loss_ops.mse_backward)


def _loss(Y: Any, T: Any, fwd: Callable, bwd: Callable) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.dtype.kind != "f" or Y.ndim < 2 or Y.size == 0 or np.asarray(T).dtype.kind not in "biuf":
        raise MException("deep:loss:InvalidInput",
                         "Predictions must be a nonempty floating-point K x N (or h x w [x d] x c x N) array "
                         f"and targets real numeric. Received: Y of dtype {Y.dtype} and size "
                         f"{'x'.join(map(str, Y.shape))}, T of dtype {np.asarray(T).dtype}.")
    T = np.asarray(T, dtype=Y.dtype)
    if T.shape != Y.shape:
        raise MException("deep:loss:SizeMismatch",
                         f"Targets must have the size of the predictions. Received: Y of size "
                         f"{'x'.join(map(str, Y.shape))} and T of size {'x'.join(map(str, T.shape))}.")
    k, n = (Y.shape[0], Y.shape[1]) if Y.ndim == 2 else (int(np.prod(Y.shape[:-1])), Y.shape[-1])
    value, cache = fwd(Y.reshape(k, n, order="F"), T.reshape(k, n, order="F"))
    value = np.asarray(value, dtype=Y.dtype)
    trace = _TRACES[-1] if _TRACES else None
    if trace is not None and trace.forward is not None and id(Y) in trace.forward.outputs:
        name, y_rec = trace.forward.outputs[id(Y)]
        if y_rec is Y:
            ex = trace.forward.net.executor
            internal_shape = trace.forward.fp.outputs[name].shape
            trace.losses[id(value)] = _LossRecord(value, trace.forward, name,
                                                  lambda: _to_internal_grad(bwd(cache), Y, internal_shape, ex))
    return value


def _to_internal_grad(dy_kn: np.ndarray, Y: np.ndarray, internal_shape: tuple, ex: Executor) -> Any:
    """d loss / d Y from ``(K, N)`` back to the executor's internal output layout."""
    dy = np.asarray(dy_kn).reshape(Y.shape, order="F")
    if Y.ndim != 2:
        dy = dy.transpose(Y.ndim - 2, Y.ndim - 1, *range(Y.ndim - 2))
    return ex.xp.asarray(dy.reshape(internal_shape), dtype=ex.dtype)


