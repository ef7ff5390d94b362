"""Gradients of NumPy's array functions on dlarrays (sum, mean, max, reshape, transpose,
concatenate, where, clip, ...) and of indexing / indexed assignment."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..layers.errors import MException, MIndexError
from ..ops._backend import get_xp
from .dlarray import data_of, dlarray, fmt_of, record1
from .numpy_rules import matlab_expansion, unbroadcast


# ---- array functions ----------------------------------------------------------------------
FUNCTIONS: dict[Callable, Callable] = {}
_QUERIES = {np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.allclose, np.isclose,
            np.array_equal, np.any, np.all, np.count_nonzero, np.nonzero, np.result_type, np.iscomplexobj,
            np.isrealobj, np.isscalar, np.may_share_memory, np.shares_memory}
_LIKE = {np.zeros_like, np.ones_like, np.empty_like, np.full_like}


def implements(*funcs: Callable):
    def register(handler: Callable) -> Callable:
        for f in funcs:
            FUNCTIONS[f] = handler
        return handler
    return register


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, dlarray):
        return obj._data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    return obj


def apply_function(func: Callable, args: tuple, kwargs: dict) -> Any:
    handler = FUNCTIONS.get(func)
    if handler is not None:
        try:
            return handler(*args, **kwargs)
        except MException:
            raise
        except (ValueError, TypeError) as err:     # NumPy's size/axis errors, as MATLAB's
            raise MException("deep:dlarray:InvalidArguments",
                             f"np.{func.__name__} on a dlarray: {err}") from None
    if func in _QUERIES:
        return func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
    if func in _LIKE:
        return dlarray._new(func(*_unwrap(args), **kwargs), fmt_of(args[0]))
    raise MException("deep:dlarray:UnsupportedFunction",
                     f"np.{getattr(func, '__name__', func)} is not supported on dlarrays. Use the supported "
                     "operations (see docs/networks.md) or extractdata for untraced computations.")


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    bad = [a for a in axis if not -ndim <= int(a) < ndim]
    if bad:
        raise ValueError(f"axis {bad} is out of bounds for an array of {ndim} dimensions")
    return tuple(sorted(int(a) % ndim for a in axis))


def _reduced_format(fmt: str, axes: tuple[int, ...], keepdims: bool, full: bool) -> str:
    if keepdims:
        return fmt
    if full:
        return ""
    return "".join(c for i, c in enumerate(fmt) if i not in axes)


def _expand_grad(g, shape, axes, keepdims):
    xp = get_xp(g)
    if not keepdims:
        g = g.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    return xp.broadcast_to(g, shape)


@implements(np.sum)
def _sum(a, axis=None, dtype=None, keepdims=False, **kwargs):
    x = data_of(a)
    axes = _axes(axis, x.ndim)
    z = x.sum(axis=axes, dtype=dtype, keepdims=keepdims)
    return record1(z, _reduced_format(fmt_of(a), axes, keepdims, axis is None), [a],
                   lambda g, need: (_expand_grad(g, x.shape, axes, keepdims).astype(x.dtype, copy=False),))


@implements(np.mean)
def _mean(a, axis=None, dtype=None, keepdims=False, **kwargs):
    x = data_of(a)
    axes = _axes(axis, x.ndim)
    count = math.prod(x.shape[i] for i in axes)
    z = x.mean(axis=axes, dtype=dtype, keepdims=keepdims)
    return record1(z, _reduced_format(fmt_of(a), axes, keepdims, axis is None), [a],
                   lambda g, need: ((_expand_grad(g, x.shape, axes, keepdims) / count).astype(x.dtype, copy=False),))


def _extreme_handler(take_max: bool):
    def handler(a, axis=None, keepdims=False, **kwargs):
        x = data_of(a)
        axes = _axes(axis, x.ndim)
        z = x.max(axis=axes, keepdims=True) if take_max else x.min(axis=axes, keepdims=True)

        def backward(g, need):
            mask = (x == z).astype(x.dtype)
            share = mask / mask.sum(axis=axes, keepdims=True)     # ties share equally (torch's amax)
            return (_expand_grad(g, x.shape, axes, keepdims) * share,)
        out = z if keepdims else z.reshape([n for i, n in enumerate(z.shape) if i not in axes])
        return record1(out, _reduced_format(fmt_of(a), axes, keepdims, axis is None), [a], backward)
    return handler


FUNCTIONS[np.max] = FUNCTIONS[np.amax] = _extreme_handler(True)
FUNCTIONS[np.min] = FUNCTIONS[np.amin] = _extreme_handler(False)


@implements(np.var)
def _var(a, axis=None, ddof=0, keepdims=False, **kwargs):
    x = data_of(a)
    axes = _axes(axis, x.ndim)
    count = math.prod(x.shape[i] for i in axes)
    centred = a - np.mean(a, axis=axes, keepdims=True)
    return np.sum(centred * centred, axis=axis, keepdims=keepdims) / (count - ddof)


@implements(np.std)
def _std(a, axis=None, ddof=0, keepdims=False, **kwargs):
    return np.sqrt(_var(a, axis=axis, ddof=ddof, keepdims=keepdims))


@implements(np.reshape)
def _reshape(a, *args, **kwargs):
    shape = kwargs.pop("newshape", kwargs.pop("shape", args[0] if args else None))
    order = kwargs.pop("order", args[1] if len(args) > 1 else "C")
    x = data_of(a)
    z = x.reshape(shape, order=order)
    fmt = fmt_of(a) if z.shape == x.shape else ""
    return record1(z, fmt, [a], lambda g, need: (g.reshape(x.shape, order=order),))


@implements(np.ravel)
def _ravel(a, order="C"):
    return _reshape(a, -1, order=order)


@implements(np.transpose)
def _transpose(a, axes=None):
    x = data_of(a)
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(int(i) for i in axes)
    if sorted(a % x.ndim for a in axes) != list(range(x.ndim)) or any(not -x.ndim <= a < x.ndim for a in axes):
        raise ValueError(f"axes {axes} are not a permutation of the {x.ndim} dimensions")
    axes = tuple(a % x.ndim for a in axes)
    inverse = tuple(int(i) for i in np.argsort(axes))
    fmt = fmt_of(a) if axes == tuple(range(x.ndim)) else ""
    return record1(x.transpose(axes), fmt, [a], lambda g, need: (g.transpose(inverse),))


@implements(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    order = list(range(np.ndim(data_of(a))))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return _transpose(a, order)


@implements(np.moveaxis)
def _moveaxis(a, source, destination):
    n = np.ndim(data_of(a))
    src = [s % n for s in ((source,) if isinstance(source, int) else source)]
    dst = [d % n for d in ((destination,) if isinstance(destination, int) else destination)]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _transpose(a, order)


@implements(np.squeeze)
def _squeeze(a, axis=None):
    x = data_of(a)
    axes = tuple(i for i, n in enumerate(x.shape) if n == 1) if axis is None else _axes(axis, x.ndim)
    z = x.reshape([n for i, n in enumerate(x.shape) if i not in axes])
    fmt = "".join(c for i, c in enumerate(fmt_of(a)) if i not in axes)
    return record1(z, fmt, [a], lambda g, need: (g.reshape(x.shape),))


@implements(np.expand_dims)
def _expand_dims(a, axis):
    x = data_of(a)
    z = get_xp(x).expand_dims(x, axis)
    return record1(z, "", [a], lambda g, need: (g.reshape(x.shape),))


@implements(np.broadcast_to)
def _broadcast_to(a, shape, **kwargs):
    x = data_of(a)
    z = get_xp(x).broadcast_to(x, shape)
    return record1(z, "", [a], lambda g, need: (unbroadcast(g, x.shape),))


@implements(np.concatenate)
def _concatenate(arrays, axis=0, **kwargs):
    raws = [data_of(a) for a in arrays]
    xp = get_xp(*raws)
    z = xp.concatenate(raws, axis=axis)
    fmts = {fmt_of(a) for a in arrays}
    fmt = fmts.pop() if len(fmts) == 1 else ""
    ax = axis % z.ndim
    bounds = np.cumsum([0] + [r.shape[ax] for r in raws])

    def backward(g, need):
        index = [slice(None)] * g.ndim
        out = []
        for lo, hi, n in zip(bounds[:-1], bounds[1:], need):
            index[ax] = slice(int(lo), int(hi))
            out.append(g[tuple(index)] if n else None)
        return tuple(out)
    return record1(z, fmt, list(arrays), backward)


@implements(np.stack)
def _stack(arrays, axis=0, **kwargs):
    return _concatenate([_expand_dims(a, axis) for a in arrays], axis=axis)


@implements(np.where)
def _where(condition, x, y):
    cond, xr, yr = matlab_expansion([data_of(condition), data_of(x), data_of(y)])
    xp = get_xp(cond, xr, yr)
    z = xp.where(cond, xr, yr)
    fmt = next((fmt_of(v) for v in (x, y, condition) if fmt_of(v) and len(fmt_of(v)) == z.ndim), "")
    shapes, originals = [np.shape(xr), np.shape(yr)], [np.shape(data_of(x)), np.shape(data_of(y))]
    return record1(z, fmt, [x, y], lambda g, need: (
        unbroadcast(xp.where(cond, g, 0), shapes[0]).reshape(originals[0]) if need[0] else None,
        unbroadcast(xp.where(cond, 0, g), shapes[1]).reshape(originals[1]) if need[1] else None))


@implements(np.clip)
def _clip(a, a_min=None, a_max=None, **kwargs):
    x = data_of(a)
    lo, hi = data_of(a_min), data_of(a_max)
    xp = get_xp(x)
    z = xp.clip(x, lo, hi)
    inside = xp.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return record1(z, fmt_of(a), [a], lambda g, need: (g * inside,))


@implements(np.dot)
def _dot(a, b, out=None):
    if np.ndim(data_of(a)) > 2 or np.ndim(data_of(b)) > 2:
        raise MException("deep:dlarray:UnsupportedFunction",
                         "np.dot on dlarrays supports vectors and matrices; use np.matmul or @ for stacks.")
    if np.ndim(data_of(a)) == 0 or np.ndim(data_of(b)) == 0:
        return np.multiply(a, b)
    return np.matmul(a, b)


@implements(np.copy)
def _copy(a, **kwargs):
    return record1(data_of(a).copy(), fmt_of(a), [a], lambda g, need: (g,))


def astype(a: dlarray, dtype: Any) -> dlarray:
    x = a._data
    return record1(x.astype(dtype), a._fmt, [a], lambda g, need: (g.astype(x.dtype),))


# ---- indexing -----------------------------------------------------------------------------
def _raw_key(key: Any) -> Any:
    if isinstance(key, tuple):
        return tuple(data_of(k) for k in key)
    return data_of(key)


def _is_basic(key: Any) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (slice, int, np.integer)) or k is Ellipsis or k is None for k in parts)


def getitem(a: dlarray, key: Any) -> dlarray:
    x = a._data
    key = _raw_key(key)
    try:
        z = x[key]
    except IndexError as err:
        raise MIndexError("MATLAB:badsubscript",
                          f"Index exceeds the dlarray's size {'x'.join(map(str, x.shape))}: {err}") from None
    parts = key if isinstance(key, tuple) else (key,)
    keeps = all(isinstance(k, slice) or k is Ellipsis for k in parts)
    basic = _is_basic(key)

    def backward(g, need):
        xp = get_xp(g)
        full = xp.zeros(x.shape, dtype=g.dtype)
        if basic:
            full[key] = g
        else:
            xp.add.at(full, key, g)
        return (full,)
    return record1(z, a._fmt if keeps else "", [a], backward)


def setitem(a: dlarray, key: Any, value: Any) -> None:
    """``X[key] = V``: X becomes a new traced value (copy-on-write; no other reference sees it)."""
    x = a._data
    key = _raw_key(key)
    v = data_of(value)
    z = x.copy()
    z[key] = v
    v_shape = np.shape(v)

    def backward(g, need):
        g_old = g.copy()
        g_old[key] = 0
        return (g_old, unbroadcast(g[key], v_shape) if need[1] else None)
    new = record1(z, a._fmt, [a, value], backward)
    a._data, a._tape, a._tid = new._data, new._tape, new._tid
