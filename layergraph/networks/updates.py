"""Parameter updates of custom training loops: ``dlupdate``, ``sgdmupdate``, ``adamupdate``, ``rmspropupdate``.

Devices: the step runs on the gradients' device (CuPy gradients: on the GPU) and the solver
state stays there; the new parameter values go back to the device they came from (a
dlnetwork keeps its values on the host). Gradients on both devices, or a solver state on
another device than the gradients: MException ``deep:update:MixedDevices``.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ..ops import _backend
from ..runtime import solvers
from ..runtime.executor import learn_rate_factor
from ..layers._validation import is_real_numeric, real_scalar
from ..layers.errors import MException
from .dlnetwork import dlnetwork, _with_values, TABLE_COLUMNS

__all__ = ["dlupdate", "sgdmupdate", "adamupdate", "rmspropupdate"]


def dlupdate(fun: Callable[..., Any], net: Any, *tables: pd.DataFrame) -> Any:
    """``[net, X1, ...] = dlupdate(fun, net, X1, ...)``: apply ``fun`` to every learnable.

    ``net`` is a dlnetwork (its Learnables) or a Layer/Parameter/Value table; ``fun(value,
    x1, ...)`` gets the matching rows of the extra tables and returns the new value (or a
    tuple: the new value and the new rows of ``X1, ...``).
    """
    if not callable(fun):
        raise MException("deep:dlupdate:InvalidFunction",
                         "The first argument of dlupdate must be a function. "
                         f"Received: {type(fun).__name__}.")
    params = _parameters(net, "dlupdate")
    for table in tables:
        _check_rows(params, table, "dlupdate argument")
    results = [fun(*row) for row in zip(params["Value"], *(t["Value"] for t in tables))]
    columns = list(zip(*[r if isinstance(r, tuple) else (r,) for r in results])) if results else [()]
    outputs = [params.assign(Value=list(col)) for col in columns]
    if isinstance(net, dlnetwork):
        outputs[0] = dlnetwork._from_graph(_with_values(net.layerGraph(), outputs[0], "LEARNABLES"))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def sgdmupdate(net: Any, grad: pd.DataFrame, vel: Any = None, learnRate: float = 0.01,
               momentum: float = 0.9) -> tuple[Any, pd.DataFrame]:
    """``[net, vel] = sgdmupdate(net, grad, vel, learnRate, momentum)``: v = m v - lr g; p = p + v."""
    _learn_rate(learnRate, "sgdmupdate")
    real_scalar(momentum, "sgdmupdate", "momentum", 0.0, 1.0, "a real scalar in [0, 1]")

    def step(p, g, lr, v):
        p, v = solvers.sgdm_step(p, g, v, lr, momentum)
        return p, (v,)
    net, (vel,) = _update(net, grad, [vel], learnRate, step)
    return net, vel


def adamupdate(net: Any, grad: pd.DataFrame, averageGrad: Any, averageSqGrad: Any, iteration: int,
               learnRate: float = 0.001, gradDecay: float = 0.9, sqGradDecay: float = 0.999,
               epsilon: float = 1e-8) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """``[net, avgG, avgSqG] = adamupdate(net, grad, avgG, avgSqG, iteration, ...)`` (bias-corrected)."""
    if not (is_real_numeric(iteration) and np.size(iteration) == 1 and np.ndim(iteration) == 0
            and float(iteration) == int(iteration) and iteration >= 1):
        raise MException("deep:adamupdate:InvalidIteration",
                         f"iteration must be a positive integer. Received: iteration={iteration!r}.")
    _learn_rate(learnRate, "adamupdate")
    _decay(gradDecay, "adamupdate", "gradDecay")
    _decay(sqGradDecay, "adamupdate", "sqGradDecay")
    _epsilon(epsilon, "adamupdate")
    # lr * (sqrt(1 - b2^t) / (1 - b1^t)): grouped unlike solvers.adam_step (last-bit differences)
    correction = np.sqrt(1 - sqGradDecay ** iteration) / (1 - gradDecay ** iteration)

    def step(p, g, lr, m, v):
        m = gradDecay * m + (1 - gradDecay) * g
        v = sqGradDecay * v + (1 - sqGradDecay) * g * g
        return p - lr * correction * m / (np.sqrt(v) + epsilon), (m, v)
    net, (avg, avg_sq) = _update(net, grad, [averageGrad, averageSqGrad], learnRate, step)
    return net, avg, avg_sq


def rmspropupdate(net: Any, grad: pd.DataFrame, averageSqGrad: Any = None, learnRate: float = 0.001,
                  sqGradDecay: float = 0.9, epsilon: float = 1e-8) -> tuple[Any, pd.DataFrame]:
    """``[net, avgSqG] = rmspropupdate(net, grad, avgSqG, ...)``: v = b v + (1-b) g^2; p -= lr g/(sqrt(v)+eps)."""
    _learn_rate(learnRate, "rmspropupdate")
    _decay(sqGradDecay, "rmspropupdate", "sqGradDecay")
    _epsilon(epsilon, "rmspropupdate")

    def step(p, g, lr, v):
        p, v = solvers.rmsprop_step(p, g, v, lr, sqGradDecay, epsilon)
        return p, (v,)
    net, (avg_sq,) = _update(net, grad, [averageSqGrad], learnRate, step)
    return net, avg_sq


def _update(net: Any, grad: pd.DataFrame, solver_states: list[Any], learn_rate: float,
            step: Callable) -> tuple[Any, list[pd.DataFrame]]:
    """Apply ``step(p, g, lr * LearnRateFactor, *states) -> (p', states')`` to every row."""
    params = _parameters(net, "update")
    layers = {layer.Name: layer for layer in net.Layers} if isinstance(net, dlnetwork) else {}
    _check_rows(params, grad, "grad")
    device = _table_device(grad, "grad")
    states = []
    for s in solver_states:
        if s is None or (not isinstance(s, pd.DataFrame) and np.size(s) == 0):
            s = grad.assign(Value=[_zeros_like(g) for g in grad["Value"]])
        _check_rows(params, s, "solver state")
        if _table_device(s, "solver state") != device:
            raise _mixed(f"the gradients are on the {device.upper()} and a solver state is not")
        states.append(s)
    new_values, new_states = [], [[] for _ in states]
    for row, (name, p, value) in enumerate(zip(params["Layer"], params["Parameter"], params["Value"])):
        factor = learn_rate_factor(layers[name], p) if name in layers else 1.0
        value = _array(value)
        home = "gpu" if _backend.is_gpu_array(value) else "cpu"
        value = value if home == device else _backend.to_device(value, device)
        g = _same_size(grad["Value"].iloc[row], value, name, p, "grad")
        new, st = step(value, g, learn_rate * factor,
                       *(_same_size(s["Value"].iloc[row], value, name, p, "solver state") for s in states))
        new = new.astype(value.dtype, copy=False)
        new_values.append(new if home == device else _backend.to_device(new, home))
        for acc, v in zip(new_states, st):
            acc.append(v.astype(value.dtype, copy=False))
    tables = [params.assign(Value=vals) for vals in new_states]
    updated = params.assign(Value=new_values)
    if isinstance(net, dlnetwork):
        updated = dlnetwork._from_graph(_with_values(net.layerGraph(), updated, "LEARNABLES"))
    return updated, tables


def _learn_rate(value: Any, func: str) -> None:
    real_scalar(value, func, "learnRate", 0.0, np.finfo(float).max, "a finite nonnegative real scalar")


def _decay(value: Any, func: str, argname: str) -> None:
    real_scalar(value, func, argname, 0.0, np.nextafter(1.0, 0.0), "a real scalar in [0, 1)")


def _epsilon(value: Any, func: str) -> None:
    real_scalar(value, func, "epsilon", np.finfo(float).tiny, np.finfo(float).max,
                "a finite positive real scalar")


def _parameters(net: Any, func: str) -> pd.DataFrame:
    """The Layer/Parameter/Value table of ``net`` (a dlnetwork or such a table)."""
    params = net.Learnables if isinstance(net, dlnetwork) else net
    if not isinstance(params, pd.DataFrame) or not set(TABLE_COLUMNS) <= set(params.columns):
        raise MException(f"deep:{func}:InvalidNetwork",
                         "The network argument must be a dlnetwork or a table with columns Layer, Parameter "
                         f"and Value. Received: {type(net).__name__}.")
    return params


def _array(value: Any) -> Any:
    """A table value as an array on its device (a dlarray's data; NumPy or CuPy)."""
    value = getattr(value, "_data", value)          # dlarray -> its data
    return value if _backend.is_gpu_array(value) else np.asarray(value)


def _zeros_like(g: Any) -> Any:
    """Zeros of ``g``'s size, dtype and device (NumPy or CuPy)."""
    zeros = _array(g).copy()
    zeros.fill(0)
    return zeros


def _table_device(table: pd.DataFrame, what: str) -> str:
    """"gpu" when the table's arrays are CuPy, "cpu" when NumPy; MException when mixed."""
    on_gpu = {bool(_backend.is_gpu_array(getattr(v, "_data", v))) for v in table["Value"]}
    if len(on_gpu) > 1:
        raise _mixed(f"the {what} table holds NumPy (CPU) and CuPy (GPU) arrays")
    return "gpu" if on_gpu == {True} else "cpu"


def _mixed(detail: str) -> MException:
    return MException("deep:update:MixedDevices",
                      "The gradients and solver states must be on one device (all NumPy or all CuPy; "
                      f"move them with gather or gpuArray-like cupy.asarray first). Received: {detail}.")


def _same_size(value: Any, like: Any, layer: str, param: str, what: str) -> Any:
    """``value`` as an array of ``like``'s dtype; MException unless it has ``like``'s size
    (a scalar or a mis-sized array would otherwise broadcast silently)."""
    arr = _array(value)
    if arr.shape != like.shape or arr.dtype.kind not in "biuf":
        raise MException("deep:update:SizeMismatch",
                         f"The {what} value of {layer}.{param} must be a real array of size "
                         f"{'x'.join(map(str, like.shape))}. Received: {arr.dtype} array of size "
                         f"{'x'.join(map(str, arr.shape)) or '1x1'}.")
    return arr.astype(like.dtype, copy=False)


def _check_rows(params: pd.DataFrame, other: Any, what: str) -> None:
    columns_ok = isinstance(other, pd.DataFrame) and set(TABLE_COLUMNS) <= set(other.columns)
    if not columns_ok or list(other["Layer"]) != list(params["Layer"]) \
            or list(other["Parameter"]) != list(params["Parameter"]):
        raise MException("deep:update:TableMismatch",
                         f"The {what} table must have the rows (Layer, Parameter) of the learnables, "
                         f"in the same order. Received: {type(other).__name__} with "
                         f"{len(other) if hasattr(other, '__len__') else 0} rows.")


