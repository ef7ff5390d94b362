"""The custom-training-loop functions: ``dlfeval``, ``dlgradient``, ``crossentropy``, ``mse``.

``dlfeval`` runs the function on a fresh autodiff tape (layergraph/autodiff): every dlarray
operation, every dlnetwork ``forward``/``predict`` (differentiable.py) and every use of
``net.Learnables`` values inside it is recorded, and ``dlgradient`` differentiates any traced
scalar with respect to dlarrays, Learnables tables, network inputs and intermediate outputs.
This module adds the checks of Layer/Parameter tables and keeps NumPy ``crossentropy``/``mse``
for plain ``K x N`` arrays.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import autodiff
from ..autodiff import tape as tape_module
from ..autodiff.differentiate import split_options
from ..autodiff.dlarray import dlarray
from ..layers.errors import MException
from ..ops import loss as loss_ops
from . import differentiable
from .dlnetwork import TABLE_COLUMNS

__all__ = ["dlfeval", "dlgradient", "crossentropy", "mse"]


def dlfeval(fun: Callable[..., Any], *args: Any) -> Any:
    """``[...] = dlfeval(@modelLoss, net, X, T)``: call ``fun(*args)`` with automatic differentiation."""
    return autodiff.dlfeval(fun, *args)


def dlgradient(loss: Any, *args: Any, **kwargs: Any) -> Any:
    """``[g1, ...] = dlgradient(loss, x1, ...)``: gradients of a traced scalar (autodiff.dlgradient).

    A Layer/Parameter/Value table (``net.Learnables``) gets a table of the same rows back (values
    NumPy arrays when the table's were, dlarrays otherwise); its rows must name learnables or
    states of a network called in this dlfeval.
    """
    tape = tape_module.active()
    if tape is None:
        raise MException("deep:dlgradient:NotTracing",
                         "dlgradient must be called inside a function evaluated with dlfeval.")
    variables, opts = split_options(args, kwargs)
    networks = tape.meta.get(differentiable.NETWORKS_KEY, [])
    prepared = [_prepared_table(v, networks) if isinstance(v, pd.DataFrame) or _is_scalar(v) else v
                for v in variables]
    grads = autodiff.dlgradient(loss, *prepared, **opts)
    grads = grads if len(variables) > 1 else (grads,)
    out = [_numpy_values(g, v) if isinstance(v, pd.DataFrame) else g for g, v in zip(grads, variables)]
    return out[0] if len(out) == 1 else tuple(out)


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dlarray, dict, list, tuple, pd.DataFrame))


def _prepared_table(table: Any, networks: list) -> pd.DataFrame:
    """A table to differentiate against, its NumPy values replaced by their traced dlarrays."""
    if not isinstance(table, pd.DataFrame) or not set(TABLE_COLUMNS) <= set(table.columns):
        raise MException("deep:dlgradient:InvalidTable",
                         "dlgradient differentiates with respect to dlarrays or tables with columns Layer, "
                         f"Parameter and Value (such as net.Learnables). Received: {type(table).__name__}.")
    if networks:
        known = {(layer.Name, p) for net in networks for layer in net.Layers
                 for p in layer.LEARNABLES + layer.STATES}
        unknown = [f"{name}.{p}" for name, p in zip(table["Layer"], table["Parameter"]) if (name, p) not in known]
        if unknown:
            raise MException("deep:dlgradient:UnknownParameter",
                             "Every row must name a learnable or state of a network called in this dlfeval. "
                             f"Received: {unknown}.")
    return table.assign(Value=[differentiable.traced_value(v) for v in table["Value"]])


def _numpy_values(grads: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    values = [g._data if isinstance(g, dlarray) and not isinstance(v, dlarray) else g
              for g, v in zip(grads["Value"], table["Value"])]
    return pd.DataFrame({"Layer": list(table["Layer"]), "Parameter": list(table["Parameter"]), "Value": values})


def crossentropy(Y: Any, T: Any, *args: Any, **kwargs: Any) -> Any:
    """``loss = crossentropy(Y, T)``: -sum(T .* log(Y)) / N for ``K x N`` scores and targets
    (a dlarray ``Y``: autodiff.crossentropy with all of MATLAB's options)."""
    if isinstance(Y, dlarray) or args or kwargs:
        return autodiff.crossentropy(Y, T, *args, **kwargs)
    return _loss(Y, T, loss_ops.cross_entropy_forward)


def mse(Y: Any, T: Any, *args: Any, **kwargs: Any) -> Any:
    """``loss = mse(Y, T)``: half mean squared error, sum((Y - T).^2) / (2 N)
    (a dlarray ``Y``: autodiff.mse)."""
    if isinstance(Y, dlarray) or args or kwargs:
        return autodiff.mse(Y, T, *args, **kwargs)
    return _loss(Y, T, loss_ops.mse_forward)


def _loss(Y: Any, T: Any, fwd: Callable) -> np.ndarray:
    """The loss of NumPy ``K x N`` (or ``h x w [x d] x c x N``) arrays (no trace: NumPy data)."""
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
    value, _ = fwd(Y.reshape(k, n, order="F"), T.reshape(k, n, order="F"))
    return np.asarray(value, dtype=Y.dtype)
