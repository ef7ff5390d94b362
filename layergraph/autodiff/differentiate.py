"""``dlfeval`` and ``dlgradient``: evaluate a function on a fresh tape, then sweep it backwards."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ..layers._validation import logical_scalar, parse_name_value
from ..layers.errors import MException
from ..ops._backend import get_xp
from . import tape as tape_module
from .dlarray import dlarray, tape_id

OPTIONS = ["RetainData", "EnableHigherDerivatives"]


def dlfeval(fun: Callable[..., Any], *args: Any) -> Any:
    """``[y1, ...] = dlfeval(@fun, x1, ...)``: ``fun(*args)`` with automatic differentiation on.

    Every operation on a dlarray inside ``fun`` is recorded, so ``dlgradient`` can be called
    there; the trace is freed when ``fun`` returns (returned dlarrays are untraced).
    """
    if not callable(fun):
        raise MException("deep:dlfeval:InvalidFunction",
                         f"The first argument of dlfeval must be a function. Received: {type(fun).__name__}.")
    tape = tape_module.push()
    try:
        return fun(*args)
    finally:
        tape_module.pop(tape)


def split_options(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Positional variables and the trailing "Name", value pairs (RetainData, ...)."""
    for i, a in enumerate(args):
        if isinstance(a, str) and any(n.lower().startswith(a.lower()) for n in OPTIONS) and a:
            return args[:i], parse_name_value(args[i:], kwargs, OPTIONS, "dlgradient")
    return args, parse_name_value((), kwargs, OPTIONS, "dlgradient")


def dlgradient(loss: Any, *args: Any, **kwargs: Any) -> Any:
    """``[dydx1, ..., dydxk] = dlgradient(y, x1, ..., xk)``: gradients of the traced scalar ``y``.

    Each ``x`` is a dlarray (gradient: a dlarray of its size and format), a table with a
    ``Value`` column (such as ``net.Learnables``; returned as a table of the same rows), or a
    dict/list/tuple of those (returned with the same structure).  A variable the loss does not
    depend on gets zeros.  RetainData is accepted (the trace lives until dlfeval returns);
    EnableHigherDerivatives=True is not supported.
    """
    variables, opts = split_options(args, kwargs)
    if "RetainData" in opts:
        logical_scalar(opts["RetainData"], "dlgradient", "RetainData")
    if logical_scalar(opts.get("EnableHigherDerivatives", False), "dlgradient", "EnableHigherDerivatives"):
        raise MException("deep:dlgradient:HigherDerivativesNotSupported",
                         "EnableHigherDerivatives=true is not supported: gradients are not traced. "
                         "Received: EnableHigherDerivatives=true.")
    tape = tape_module.active()
    if tape is None:
        raise MException("deep:dlgradient:NotTracing",
                         "dlgradient must be called inside a function evaluated with dlfeval.")
    root = check_loss(loss, tape)
    if not variables:
        raise MException("deep:dlgradient:NotEnoughInputs",
                         "dlgradient needs at least one variable to differentiate with respect to.")
    leaves: list[tuple[Any, int | None]] = []
    for v in variables:
        _collect(v, tape, leaves)
    grads = tape_module.gradients(tape, root, get_xp(loss._data).ones_like(loss._data),
                                  [tid for _, tid in leaves])
    it = iter(zip(leaves, grads))
    out = [_rebuild(v, it) for v in variables]
    return out[0] if len(out) == 1 else tuple(out)


def check_loss(loss: Any, tape: tape_module.Tape) -> int:
    if not isinstance(loss, dlarray) or loss._tape is not tape:
        raise MException("deep:dlgradient:UntracedLoss",
                         "Value to differentiate is not traced. It must be a traced real dlarray scalar "
                         "computed inside the function evaluated by dlfeval. Received: "
                         f"{'an untraced dlarray' if isinstance(loss, dlarray) else type(loss).__name__}.")
    if loss.size != 1 or loss.dtype.kind != "f":
        raise MException("deep:dlgradient:NonScalarLoss",
                         "Value to differentiate is non-scalar. It must be a traced real dlarray scalar. "
                         f"Received: a {loss.dtype} dlarray of size {'x'.join(map(str, loss.shape)) or '1x1'}.")
    return loss._tid


def _collect(v: Any, tape: tape_module.Tape, leaves: list) -> None:
    if isinstance(v, dlarray):
        tid = v._tid if v._tape is tape else tape.leaf_id(v, create=False)
        leaves.append((v, tid))
    elif isinstance(v, pd.DataFrame) and "Value" in v.columns:
        for value in v["Value"]:
            _collect_value(value, tape, leaves)
    elif isinstance(v, dict):
        for value in v.values():
            _collect(value, tape, leaves)
    elif isinstance(v, (list, tuple)):
        for value in v:
            _collect(value, tape, leaves)
    else:
        raise MException("deep:dlgradient:InvalidVariable",
                         "The variables to differentiate with respect to must be dlarrays, tables with a "
                         "Value column (net.Learnables), or dicts/lists of them. "
                         f"Received: {type(v).__name__}.")


def _collect_value(value: Any, tape: tape_module.Tape, leaves: list) -> None:
    if isinstance(value, dlarray):
        _collect(value, tape, leaves)
    else:
        leaves.append((value, tape.leaf_id(value, create=False)))   # a network's learnable


def _rebuild(v: Any, it) -> Any:
    if isinstance(v, dlarray):
        return _gradient_value(*next(it))
    if isinstance(v, pd.DataFrame):
        values = [_gradient_value(*next(it)) for _ in range(len(v))]
        return v.assign(Value=values)
    if isinstance(v, dict):
        return {k: _rebuild(value, it) for k, value in v.items()}
    return type(v)(_rebuild(value, it) for value in v)


def _gradient_value(leaf: tuple[Any, int | None], g: Any) -> Any:
    value = leaf[0]
    if isinstance(value, dlarray):
        data = g if g is not None else get_xp(value._data).zeros_like(value._data)
        return dlarray._new(data.astype(value.dtype, copy=False), value._fmt)
    arr = value if hasattr(value, "shape") else np.asarray(value)
    if g is None:
        return get_xp(arr).zeros_like(arr)
    return g.astype(arr.dtype, copy=False)
