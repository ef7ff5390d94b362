"""``dlarray``: MATLAB's deep learning array on NumPy or CuPy data, with format labels and tracing.

``X = dlarray(data, "SSCB")`` keeps ``data`` on its device (NumPy or CuPy), sorts the labels
into S, C, B, T, U order (permuting the data as MATLAB does) and, inside ``dlfeval``, records
every operation on the active tape (layergraph/autodiff/tape.py).  NumPy's dispatch protocols
route operators, ``np.sum``/``np.exp``/... and indexing to the rules in ``numpy_rules.py``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..layers.errors import MException
from ..ops import _backend
from . import formats, tape as tape_module


class dlarray(np.lib.mixins.NDArrayOperatorsMixin):  # noqa: N801 - MATLAB class name
    """``dlX = dlarray(X)`` / ``dlarray(X, fmt)``: data with optional labels S, C, B, T, U.

    ``X`` is a NumPy or CuPy array of floating-point or logical values (a Python number or list
    becomes float64, MATLAB's double); ``fmt`` has one label per dimension (trailing singleton
    dimensions may be labelled or not) and the dimensions are permuted into S, C, B, T, U order.
    """

    __slots__ = ("_data", "_fmt", "_tape", "_tid")
    __array_priority__ = 1000

    def __init__(self, X: Any, fmt: str | None = None):
        if isinstance(X, dlarray):
            if fmt is None:
                self._set(X._data, X._fmt)
                self._tape, self._tid = X._tape, X._tid
                return
            y = relabel(X, fmt)
            self._set(y._data, y._fmt)
            self._tape, self._tid = y._tape, y._tid
            return
        data = _as_data(X)
        self._set(*_formatted(data, fmt))

    def _set(self, data: Any, fmt: str) -> None:
        self._data, self._fmt = data, fmt
        self._tape: tape_module.Tape | None = None
        self._tid = 0

    @classmethod
    def _new(cls, data: Any, fmt: str = "") -> "dlarray":
        obj = cls.__new__(cls)
        obj._set(data, fmt if fmt and len(fmt) == data.ndim else "")
        return obj

    # -- array attributes
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    dtype = property(lambda self: self._data.dtype)

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __float__(self) -> float:
        return float(self._data)

    def __int__(self) -> int:
        return int(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    def __index__(self) -> int:
        return int(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """``np.asarray(X)``: the host data without the trace (as ``extractdata``)."""
        return np.asarray(self._data, dtype=dtype)

    def __repr__(self) -> str:
        kind = {"b": "logical ", "f": "single " if self.dtype == np.float32 else ""}.get(self.dtype.kind, "")
        device = "gpuArray " if _backend.is_gpu_array(self._data) else ""
        body = np.array2string(np.asarray(_backend.to_host(self._data)), separator="  ")
        return f"  {formats.labels_text(self.shape, self._fmt)} {kind}{device}dlarray\n\n{body}\n"

    __str__ = __repr__

    # -- NumPy dispatch (rules in numpy_rules.py)
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return numpy_rules.apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        return numpy_rules.apply_function(func, args, kwargs)

    def __getitem__(self, key: Any) -> "dlarray":
        return numpy_rules.getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        numpy_rules.setitem(self, key, value)

    # -- method forms of the common NumPy functions
    def sum(self, axis=None, keepdims=False):
        return np.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return np.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return np.min(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape, order="C"):
        return np.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def transpose(self, *axes):
        return np.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    @property
    def T(self) -> "dlarray":  # noqa: N802 - NumPy's name
        return np.transpose(self)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis=axis)

    def ravel(self):
        return np.reshape(self, -1)

    flatten = ravel

    def astype(self, dtype: Any) -> "dlarray":
        return numpy_rules.astype(self, dtype)

    def copy(self) -> "dlarray":
        return dlarray(self)

    def item(self) -> Any:
        return self._data.item()


# ---- recording ----------------------------------------------------------------------------
class Leaf:
    """An array a network registers on the tape by identity (its learnables)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any):
        self.obj = obj


def tape_id(x: Any, tape: tape_module.Tape) -> int | None:
    if isinstance(x, dlarray):
        return x._tid if x._tape is tape else tape.leaf_id(x)
    if isinstance(x, Leaf):
        return tape.leaf_id(x.obj)
    return None


def record(outputs: Sequence[Any], fmts: Sequence[str], inputs: Sequence[Any],
           backward: Callable[[list[Any], list[bool]], Sequence[Any]], totals: Callable | None = None
           ) -> list[dlarray]:
    """Wrap raw ``outputs`` as dlarrays and, when a tape is active and an input is a dlarray
    (or a ``Leaf``), append their node; ``backward(output_grads, need)`` returns one raw
    gradient (or None) per input; ``totals`` see tape.Node."""
    results = [dlarray._new(y, f) for y, f in zip(outputs, fmts)]
    tape = tape_module.active()
    if tape is None or not any(isinstance(a, (dlarray, Leaf)) for a in inputs):
        return results
    ids = tuple(tape_id(a, tape) for a in inputs)
    for r in results:
        r._tape, r._tid = tape, tape.new_id()
    tape.nodes.append(tape_module.Node(tuple(r._tid for r in results), ids, backward,
                                       tuple(tape_module.like(r._data) for r in results), totals))
    return results


def record1(output: Any, fmt: str, inputs: Sequence[Any],
            backward: Callable[[Any, list[bool]], Sequence[Any]]) -> dlarray:
    """``record`` for one output: ``backward(g, need)``."""
    return record([output], [fmt], inputs, lambda gs, need: backward(gs[0], need))[0]


def data_of(x: Any) -> Any:
    """The raw array of a dlarray, or ``x`` itself."""
    return x._data if isinstance(x, dlarray) else x


def fmt_of(x: Any) -> str:
    return x._fmt if isinstance(x, dlarray) else ""


# ---- construction helpers -----------------------------------------------------------------
def _as_data(X: Any) -> Any:
    if _backend.is_gpu_array(X) or isinstance(X, np.ndarray):
        data = X
    elif isinstance(X, (bool, int, float, np.generic, list, tuple)):
        data = np.asarray(X)
        if data.dtype.kind in "iu":
            data = data.astype(np.float64)      # MATLAB numeric literals are double
    else:
        raise MException("deep:dlarray:InvalidInput",
                         "X must be a NumPy or CuPy array (or a number or list of numbers). "
                         f"Received: {type(X).__name__}.")
    if data.dtype.kind not in "fb":
        raise MException("deep:dlarray:InvalidDataType",
                         "dlarray data must be floating point (single or double) or logical. "
                         f"Received: an array of dtype {data.dtype}; convert it first, for example "
                         "X.astype(np.float32).")
    return data


def _formatted(data: Any, fmt: str | None) -> tuple[Any, str]:
    """Data and sorted format (dimensions permuted into S, C, B, T, U order)."""
    if fmt is None:
        return data, ""
    fmt = formats.parse(fmt)
    if not fmt:
        return data, ""
    extra = data.shape[len(fmt):]
    if any(n != 1 for n in extra):
        raise MException("deep:dlarray:FormatSizeMismatch",
                         "The format must have a label for every non-singleton dimension. Received: "
                         f"format '{fmt}' for an array of size {'x'.join(map(str, data.shape))}.")
    data = data.reshape(data.shape[:len(fmt)] + (1,) * (len(fmt) - min(len(fmt), data.ndim)))
    order = formats.sort_order(fmt)
    if order != tuple(range(len(fmt))):
        data = data.transpose(order)
    return data, "".join(fmt[i] for i in order)


def relabel(X: dlarray, fmt: str) -> dlarray:
    """``dlarray(dlX, fmt)``: the same values with a new format (traced)."""
    data, new_fmt = _formatted(X._data, fmt)
    before = X._data.shape
    order = formats.sort_order(formats.parse(fmt)) if fmt else tuple(range(data.ndim))

    def backward(g, need):
        inverse = np.argsort(order)
        return (g.transpose(tuple(int(i) for i in inverse)).reshape(before),)
    return record1(data, new_fmt, [X], backward)


# ---- MATLAB's dlarray functions -----------------------------------------------------------
def dims(X: Any) -> str:
    """``d = dims(X)``: the format of a dlarray ('' when unformatted)."""
    _check(X, "dims")
    return X._fmt


def finddim(X: Any, label: str) -> tuple[int, ...]:
    """``dim = finddim(X, label)``: the (0-based) dimensions of ``X`` labelled ``label``.

    A tuple, so ``np.sum(X, axis=finddim(X, "S"))`` works; empty when there is none.
    """
    _check(X, "finddim")
    label = formats.parse(label, "finddim")
    if len(label) != 1:
        raise MException("deep:finddim:InvalidLabel",
                         f"label must be one of S, C, B, T, U. Received: '{label}'.")
    return tuple(i for i, c in enumerate(X._fmt) if c == label)


def stripdims(X: Any, fmt: str | None = None) -> dlarray:
    """``Y = stripdims(X)``: the unformatted dlarray (traced); ``stripdims(X, fmt)`` first
    orders the dimensions as the labels of ``fmt`` (a permutation of ``dims(X)``)."""
    _check(X, "stripdims")
    order = tuple(range(X.ndim))
    if fmt is not None:
        fmt = formats.parse(fmt, "stripdims")
        if sorted(fmt) != sorted(X._fmt):
            raise MException("deep:stripdims:InvalidFormat",
                             f"fmt must order the labels of X ('{X._fmt}'). Received: '{fmt}'.")
        remaining = list(enumerate(X._fmt))
        order = []
        for c in fmt:
            k = next(j for j, (_, lab) in enumerate(remaining) if lab == c)
            order.append(remaining.pop(k)[0])
        order = tuple(order)
    y = X._data.transpose(order) if order != tuple(range(X.ndim)) else X._data
    inverse = tuple(int(i) for i in np.argsort(order))
    return record1(y, "", [X], lambda g, need: (g.transpose(inverse),))


def extractdata(X: Any) -> Any:
    """``Y = extractdata(X)``: the NumPy/CuPy data (no trace)."""
    _check(X, "extractdata")
    return X._data


def gather(X: Any) -> Any:
    """``Y = gather(X)``: the data on the host; a dlarray stays a dlarray (traced)."""
    if not isinstance(X, dlarray):
        return _backend.to_host(X)
    on_gpu = _backend.is_gpu_array(X._data)

    def backward(g, need):
        return (_backend.to_device(g, "gpu") if on_gpu else g,)
    return record1(_backend.to_host(X._data), X._fmt, [X], backward)


def _check(X: Any, func: str) -> None:
    if not isinstance(X, dlarray):
        raise MException(f"deep:{func}:InvalidInput",
                         f"X must be a dlarray. Received: {type(X).__name__}.")


from . import numpy_rules  # noqa: E402  (the rules use the class above)
