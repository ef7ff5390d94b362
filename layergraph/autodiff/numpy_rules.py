"""Gradients of the NumPy operations on dlarrays: the ufuncs (operators, exp, log, ...) here,
the array functions (sum, mean, reshape, ...) and indexing in array_functions.py.

Broadcasting is MATLAB's implicit expansion (the data are in MATLAB layout): an operand with
fewer dimensions gets trailing singletons, then NumPy's rules apply; a gradient is summed back
to its input's shape (``unbroadcast``).  Two formatted operands with different formats are first aligned by label
(MATLAB's dimension matching); an unformatted operand broadcasts by position.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..layers.errors import MException
from ..ops import _backend
from ..ops._backend import get_xp
from . import formats
from .dlarray import data_of, dlarray, fmt_of, record, record1


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes NumPy broadcasting added or stretched to reach ``g.shape``."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    g = g.sum(axis=axes, keepdims=True) if axes else g
    return g.reshape(shape)


# ---- ufuncs -------------------------------------------------------------------------------
def _safe(fun: Callable[[], Any]) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return fun()


def _pow_exponent_grad(g, x, y, z):
    xp = get_xp(x, y, z)
    return _safe(lambda: g * z * xp.where(x > 0, xp.log(xp.where(x > 0, x, 1)), 0))


def _power_grads(g, x, y, z, need):
    return (g * y * x ** (y - 1) if need[0] else None,
            _pow_exponent_grad(g, x, y, z) if need[1] else None)


def _tie_split(x, y, first: bool):
    """max/min gradient share: 1 where the operand won, 0.5 on ties (as torch)."""
    xp = get_xp(x, y)
    win = (x > y) if first else (y > x)
    return xp.where(x == y, 0.5, win.astype(np.result_type(x, y, np.float32)))


_LN2, _LN10 = math.log(2.0), math.log(10.0)

# rule(g, inputs, z, need) -> tuple of gradients (before unbroadcasting)
UFUNC_GRADS: dict[np.ufunc, Callable[..., tuple]] = {
    np.add: lambda g, a, z, n: (g, g),
    np.subtract: lambda g, a, z, n: (g, -g),
    np.multiply: lambda g, a, z, n: (g * a[1], g * a[0]),
    np.true_divide: lambda g, a, z, n: (g / a[1], -g * z / a[1]),
    np.negative: lambda g, a, z, n: (-g,),
    np.positive: lambda g, a, z, n: (g,),
    np.power: lambda g, a, z, n: _power_grads(g, a[0], a[1], z, n),
    np.float_power: lambda g, a, z, n: _power_grads(g, a[0], a[1], z, n),
    np.square: lambda g, a, z, n: (2 * a[0] * g,),
    np.sqrt: lambda g, a, z, n: (g / (2 * z),),
    np.cbrt: lambda g, a, z, n: (g / (3 * z * z),),
    np.reciprocal: lambda g, a, z, n: (-g * z * z,),
    np.exp: lambda g, a, z, n: (g * z,),
    np.exp2: lambda g, a, z, n: (g * z * _LN2,),
    np.expm1: lambda g, a, z, n: (g * (z + 1),),
    np.log: lambda g, a, z, n: (g / a[0],),
    np.log2: lambda g, a, z, n: (g / (a[0] * _LN2),),
    np.log10: lambda g, a, z, n: (g / (a[0] * _LN10),),
    np.log1p: lambda g, a, z, n: (g / (1 + a[0]),),
    np.absolute: lambda g, a, z, n: (g * get_xp(a[0]).sign(a[0]),),
    np.fabs: lambda g, a, z, n: (g * get_xp(a[0]).sign(a[0]),),
    np.maximum: lambda g, a, z, n: (g * _tie_split(a[0], a[1], True), g * _tie_split(a[0], a[1], False)),
    np.minimum: lambda g, a, z, n: (g * _tie_split(a[1], a[0], True), g * _tie_split(a[1], a[0], False)),
    np.fmax: lambda g, a, z, n: (g * _tie_split(a[0], a[1], True), g * _tie_split(a[0], a[1], False)),
    np.fmin: lambda g, a, z, n: (g * _tie_split(a[1], a[0], True), g * _tie_split(a[1], a[0], False)),
    np.tanh: lambda g, a, z, n: (g * (1 - z * z),),
    np.sinh: lambda g, a, z, n: (g * get_xp(a[0]).cosh(a[0]),),
    np.cosh: lambda g, a, z, n: (g * get_xp(a[0]).sinh(a[0]),),
    np.sin: lambda g, a, z, n: (g * get_xp(a[0]).cos(a[0]),),
    np.cos: lambda g, a, z, n: (-g * get_xp(a[0]).sin(a[0]),),
    np.tan: lambda g, a, z, n: (g * (1 + z * z),),
    np.arctan: lambda g, a, z, n: (g / (1 + a[0] * a[0]),),
    np.arcsin: lambda g, a, z, n: (g / get_xp(a[0]).sqrt(1 - a[0] * a[0]),),
    np.arccos: lambda g, a, z, n: (-g / get_xp(a[0]).sqrt(1 - a[0] * a[0]),),
    np.arcsinh: lambda g, a, z, n: (g / get_xp(a[0]).sqrt(a[0] * a[0] + 1),),
    np.arccosh: lambda g, a, z, n: (g / get_xp(a[0]).sqrt(a[0] * a[0] - 1),),
    np.arctanh: lambda g, a, z, n: (g / (1 - a[0] * a[0]),),
    np.arctan2: lambda g, a, z, n: (g * a[1] / (a[0] ** 2 + a[1] ** 2), -g * a[0] / (a[0] ** 2 + a[1] ** 2)),
    np.hypot: lambda g, a, z, n: (g * a[0] / z, g * a[1] / z),
    np.matmul: lambda g, a, z, n: _matmul_grads(g, a[0], a[1]),
}
UFUNC_GRADS[np.divide] = UFUNC_GRADS[np.true_divide]
# Piecewise-constant or boolean results: no gradient (the output is an untraced dlarray).
_CONSTANT_UFUNCS = {np.sign, np.floor, np.ceil, np.rint, np.trunc, np.greater, np.greater_equal, np.less,
                    np.less_equal, np.equal, np.not_equal, np.logical_and, np.logical_or, np.logical_not,
                    np.logical_xor, np.isnan, np.isinf, np.isfinite, np.signbit, np.floor_divide,
                    np.remainder, np.mod, np.invert, np.bitwise_and, np.bitwise_or, np.bitwise_xor}


def _matmul_grads(g, a, b):
    xp = get_xp(g, a, b)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = xp.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = xp.expand_dims(g2, -1)
    ga = g2 @ xp.swapaxes(b2, -1, -2)
    gb = xp.swapaxes(a2, -1, -2) @ g2
    ga = unbroadcast(ga, a2.shape).reshape(a.shape)
    gb = unbroadcast(gb, b2.shape).reshape(b.shape)
    return ga, gb


def _aligned(inputs: tuple) -> tuple[list[Any], str]:
    """Raw operands and the result format; formatted operands with different formats are
    permuted and expanded onto the union of their labels (sorted S, C, B, T, U)."""
    fmts = {fmt_of(x) for x in inputs if fmt_of(x)}
    raws = [data_of(x) for x in inputs]
    if len(fmts) <= 1:
        return raws, (fmts.pop() if fmts else "")
    union = _label_union(list(fmts))
    return [_expand_to(r, fmt_of(x), union) if fmt_of(x) else r for r, x in zip(raws, inputs)], union


def _label_union(fmts: list[str]) -> str:
    counts = {c: max(f.count(c) for f in fmts) for c in formats.LABELS}
    return "".join(c * counts[c] for c in formats.LABELS)


def _expand_to(x, fmt: str, union: str):
    """Insert singleton axes so ``x`` (sorted ``fmt``) lines up with sorted ``union``."""
    shape, k = [], 0
    for c in formats.LABELS:
        have, want = fmt.count(c), union.count(c)
        shape += list(x.shape[k:k + have]) + [1] * (want - have)
        k += have
    return x.reshape(shape)


def matlab_expansion(raws: list[Any]) -> list[Any]:
    """MATLAB's implicit expansion: operands with fewer dimensions get trailing singleton
    dimensions (a ``1 x 1 x C`` array scales the channels of ``h x w x C x N`` data; a vector
    of K values is a K x 1 column against ``K x N``), then NumPy broadcasting applies."""
    shapes = [getattr(r, "shape", ()) for r in raws]
    n = max(len(sh) for sh in shapes)
    return [r.reshape(tuple(sh) + (1,) * (n - len(sh))) if 0 < len(sh) < n else r
            for r, sh in zip(raws, shapes)]


def _check_one_device(raws: list[Any], name: str) -> None:
    """MException ``deep:dlarray:MixedDevices`` for NumPy (CPU) and CuPy (GPU) operands together."""
    on_gpu = [_backend.is_gpu_array(r) for r in raws if isinstance(r, np.ndarray) or _backend.is_gpu_array(r)]
    if any(on_gpu) and not all(on_gpu):
        raise MException("deep:dlarray:MixedDevices",
                         f"np.{name}: the operands must be on one device. Received: NumPy (CPU) and CuPy (GPU) "
                         "arrays; move them first (cupy.asarray, or gather / extractdata then .get()). "
                         "Inside dlfeval, read net.Learnables after the network call on GPU data, so its "
                         "values are GPU copies.")


def apply_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    if method != "__call__" or "out" in kwargs or ufunc.nout != 1:
        raise MException("deep:dlarray:UnsupportedOperation",
                         f"dlarray supports NumPy ufunc calls without out= (no in-place updates). Received: "
                         f"{ufunc.__name__}.{method}{' with out=' if 'out' in kwargs else ''}.")
    raws, fmt = _aligned(inputs)
    _check_one_device(raws, ufunc.__name__)
    originals = [getattr(r, "shape", ()) for r in raws]
    if ufunc is not np.matmul:
        raws = matlab_expansion(raws)
    try:
        z = ufunc(*raws, **kwargs)
    except ValueError as err:
        sizes = " and ".join("x".join(map(str, sh)) or "1x1" for sh in originals)
        raise MException("deep:dlarray:SizeMismatch",
                         f"np.{ufunc.__name__}: the operands' sizes are not compatible (MATLAB's implicit "
                         f"expansion: trailing singleton dimensions are added, then each size must match or "
                         f"be 1). Received: sizes {sizes}. ({err})") from None
    if ufunc in _CONSTANT_UFUNCS:
        return dlarray._new(z, fmt)
    rule = UFUNC_GRADS.get(ufunc)
    if rule is None:
        raise MException("deep:dlarray:UnsupportedOperation",
                         f"np.{ufunc.__name__} is not differentiable on dlarrays. Use extractdata for "
                         "untraced computations.")
    shapes = [getattr(r, "shape", ()) for r in raws]

    def backward(g, need):
        grads = _safe(lambda: rule(g, raws, z, need))
        return tuple(unbroadcast(gr, s).reshape(o) if n and gr is not None else None
                     for gr, s, o, n in zip(grads, shapes, originals, need))
    return record1(z, fmt, inputs, backward)


from .array_functions import apply_function, astype, getitem, setitem  # noqa: E402,F401  (dispatch targets)
