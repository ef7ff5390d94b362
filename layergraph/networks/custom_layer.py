"""User-defined layers: MATLAB's ``classdef myLayer < nnet.layer.Layer`` as a ``Layer`` subclass.

A subclass of ``Layer`` that defines ``predict(self, X1, ...)`` (and ``forward`` when training
differs) is adapted here when the class is created: it lists its learnable property names in
``LEARNABLES`` (MATLAB's ``properties (Learnable)``), other properties in ``PROPERTIES``, and
optionally ``NUM_INPUTS``/``NUM_OUTPUTS``.  The executor's protocol (``forward(params, xs,
ctx)``/``backward``) then runs the user's function on unformatted dlarrays in MATLAB layout
(``h x w [x d] x c x N``; learnables as dlarrays) on a private tape, and the backward sweeps
that tape (or calls the user's ``backward(self, X..., Z..., dLdZ..., memory)`` when defined).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autodiff import tape as tape_module
from ..autodiff.dlarray import dlarray
from ..layers import base
from ..layers.errors import MException
from ..ops import _backend

_HOOKS = ("predict", "forward", "backward", "initialize")


def adapt(cls: type) -> None:
    """Turn a Layer subclass with ``predict`` into an executor-protocol layer."""
    for hook in _HOOKS:
        if hook in cls.__dict__:
            setattr(cls, f"_user_{hook}", cls.__dict__[hook])
    cls.HYPERPARAMETERS = tuple(getattr(cls, "PROPERTIES", ()))
    cls.GENERAL = ("Name", "Description", "Type")
    cls.HIDDEN = ("LearnableSizes",)
    cls.FUNC = cls.FUNC or cls.__name__
    cls.TYPE = cls.TYPE or cls.__name__
    for name, member in _PROTOCOL.items():
        setattr(cls, name, member)


# ---- the protocol methods installed on user classes ----------------------------------------
def _description(self) -> str:
    return self.Description or type(self).__name__


def _get_type(self) -> str:
    return self.__dict__.get("Type", type(self).TYPE)


def _set_type(self, value: Any) -> None:
    self.__dict__["Type"] = str(value)


def _input_names(self) -> tuple[str, ...]:
    n = int(getattr(type(self), "NUM_INPUTS", 1))
    return ("in",) if n == 1 else tuple(f"in{i}" for i in range(1, n + 1))


def _output_names(self) -> tuple[str, ...]:
    n = int(getattr(type(self), "NUM_OUTPUTS", 1))
    return ("out",) if n == 1 else tuple(f"out{i}" for i in range(1, n + 1))


def _to_internal(self, name: str, value: Any, xp: Any, dtype: Any) -> Any:
    return xp.asarray(value, dtype=dtype)          # learnables stay in the user's layout


def _from_internal(self, name: str, value: Any) -> np.ndarray:
    return _backend.to_host(value)


def _learnable_sizes(self) -> dict[str, tuple[int, ...]]:
    """The sizes of the learnables (saved with the layer: loadNetwork checks files against them)."""
    stored = self.__dict__.get("_learnable_sizes", {})
    return {n: tuple(int(v) for v in (np.shape(getattr(self, n)) if np.size(getattr(self, n, None)) else
                                      stored.get(n, np.shape(getattr(self, n, None)))))
            for n in self.LEARNABLES}


def _set_learnable_sizes(self, value: Any) -> None:
    self.__dict__["_learnable_sizes"] = {str(k): tuple(v) for k, v in dict(value or {}).items()}


def _parameter_shapes(self, input_sizes: list[tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    return dict(self.LearnableSizes)


def _output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Sizes from running ``predict`` on one observation of zeros (as MATLAB's analysis);
    unset learnables (a network being loaded) are zeros of their saved sizes."""
    sizes = self.LearnableSizes
    unset = [n for n in self.LEARNABLES if np.size(getattr(self, n, None)) == 0 and not any(sizes[n])]
    if unset:
        raise self.layer_error("UninitializedLearnables",
                               f"Learnables {unset} are not set; set them in the constructor or define "
                               "initialize(self, layout).")
    params = {n: np.asarray(getattr(self, n), np.float32) if np.size(getattr(self, n, None))
              else np.zeros(sizes[n], np.float32) for n in self.LEARNABLES}
    xs = [np.zeros(tuple(size) + (1,), np.float32) for size in input_sizes]
    ys, _, _ = _call(self, params, xs, False, tape_module.Tape())
    return [tuple(int(v) for v in np.shape(y._data)[:-1]) for y in ys]


class NetworkDataLayout:
    """The ``layout`` argument of a user ``initialize``: ``Size`` (MATLAB order, N = NaN) and ``Format``."""

    def __init__(self, size: tuple[int, ...]):
        self.Size = tuple(size) + (float("nan"),)
        self.Format = "S" * (len(size) - 1) + "CB"


def _initialize(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator) -> Any:
    layer = self.copy()
    user = getattr(type(self), "_user_initialize", None)
    if user is not None:
        layouts = [NetworkDataLayout(s) for s in input_sizes]
        result = user(layer, *layouts)
        layer = result if result is not None else layer
    return layer


def _protocol_forward(self, params: dict, xs: list, ctx: Any) -> tuple[list, Any, dict]:
    tape = tape_module.Tape()
    training = bool(getattr(ctx, "training", False))
    ys, inputs, learnables = _call(self, params, [_internal_to_matlab(x) for x in xs], training, tape)
    nd = [x.ndim for x in xs]
    out = [_matlab_to_internal(y._data, nd[0]) for y in ys]
    return out, (tape, inputs, learnables, ys, [x.shape for x in xs]), {}


def _protocol_backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
    tape, inputs, learnables, ys, shapes = cache
    dzs = [_internal_to_matlab(dy).reshape(y.shape) for dy, y in zip(dys, ys)]
    user = getattr(type(self), "_user_backward", None)
    if user is not None:
        layer = _with_values(self, learnables)
        grads = user(layer, *inputs, *ys, *dzs, None)
        grads = grads if isinstance(grads, tuple) else (grads,)
        dxs = [_raw(g) for g in grads[:len(inputs)]]
        dps = [_raw(g) for g in grads[len(inputs):]]
    else:
        seeds = {y._tid: dz for y, dz in zip(ys, dzs) if y._tape is tape}
        targets = [_leaf(tape, v) for v in [*inputs, *learnables.values()]]
        grads = tape_module.vjp(tape, seeds, targets) if seeds else [None] * len(targets)
        dxs, dps = grads[:len(inputs)], grads[len(inputs):]
    xp = _backend.get_xp(*[dy for dy in dys])
    dx_internal = [None if not need_dx else (xp.zeros(shape, dys[0].dtype) if g is None else
                                             _matlab_to_internal(g, len(shape)).reshape(shape))
                   for g, shape in zip(dxs, shapes)]
    dparams = {n: (xp.zeros_like(params[n]) if g is None else xp.asarray(g, dtype=params[n].dtype)
                   .reshape(params[n].shape)) for n, g in zip(learnables, dps)}
    return dx_internal, dparams


# ---- helpers ------------------------------------------------------------------------------
def _call(self, params: dict, xs: list, training: bool, tape: tape_module.Tape):
    """Run the user's forward (training) or predict on dlarrays with ``tape`` active."""
    inputs = [dlarray._new(x, "") for x in xs]
    learnables = {n: dlarray._new(params[n], "") for n in self.LEARNABLES}
    layer = _with_values(self, learnables)
    fun = getattr(type(self), "_user_forward", None) if training else None
    fun = fun or type(self)._user_predict
    tape_module._STACK.append(tape)
    try:
        ys = fun(layer, *inputs)
    finally:
        tape_module._STACK.remove(tape)
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    if len(ys) != self.NumOutputs:
        raise self.layer_error("WrongNumberOfOutputs",
                               f"predict/forward must return {self.NumOutputs} output(s). Received: {len(ys)}.")
    xp = _backend.get_xp(*xs)
    ys = [y if isinstance(y, dlarray) else dlarray._new(xp.asarray(y), "") for y in ys]
    return ys, inputs, learnables


def _with_values(self, values: dict) -> Any:
    """A shallow copy of the layer whose learnables are the given (dlarray) values."""
    layer = object.__new__(type(self))
    layer.__dict__.update(self.__dict__)
    layer.__dict__.update(values)
    return layer


def _leaf(tape: tape_module.Tape, x: dlarray) -> int | None:
    return x._tid if x._tape is tape else tape.leaf_id(x, create=False)


def _raw(g: Any) -> Any:
    return g._data if isinstance(g, dlarray) else g


def _internal_to_matlab(x: Any) -> Any:
    """``(C, N, *S)`` -> ``(*S, C, N)`` (a view)."""
    return x.transpose(*range(2, x.ndim), 0, 1)


def _matlab_to_internal(y: Any, ndim: int) -> Any:
    """``(*S, C, N)`` -> ``(C, N, *S)``; a 'CB' result keeps the input's rank with singleton S."""
    xp = _backend.get_xp(y)
    if y.ndim == 2 and ndim > 2:
        return xp.ascontiguousarray(y).reshape(y.shape + (1,) * (ndim - 2))
    return xp.ascontiguousarray(y.transpose(y.ndim - 2, y.ndim - 1, *range(y.ndim - 2)))


_PROTOCOL = {
    "description": _description, "Type": property(_get_type, _set_type),
    "InputNames": property(_input_names), "OutputNames": property(_output_names),
    "to_internal": _to_internal, "from_internal": _from_internal, "output_sizes": _output_sizes,
    "LearnableSizes": property(_learnable_sizes, _set_learnable_sizes), "parameter_shapes": _parameter_shapes,
    "initialize": _initialize, "forward": _protocol_forward, "backward": _protocol_backward,
    "Description": "",
}
base.CUSTOM_LAYER_ADAPTERS[:] = [adapt]
