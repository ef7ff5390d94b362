"""trainnet on networks whose output keeps spatial dimensions (semantic segmentation, dense
regression): targets of spatial outputs and the loss of an internal ``(K, N, *S)`` output.

Targets are a one-hot / numeric array in MATLAB layout ``h x w [x d] x K x N`` or label volumes
``h x w [x d] x N`` (class names, 0-based codes with named classes, a pandas.Categorical; see
:mod:`layergraph.runtime.pixel_labels`). Both become internal ``(K, N, *S)`` arrays.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autodiff import tape as tape_module
from ..autodiff.dlarray import dlarray
from ..layers.errors import MException
from ..ops import _backend
from ..runtime import pixel_labels

__all__: list[str] = []

_FUNC = "trainnet"


def _size(shape: Any) -> str:
    return "x".join(map(str, shape))


def spatial_targets(T: Any, out_shape: tuple[int, ...], n: int, classes: list | None = None,
                    argname: str = "T") -> tuple[np.ndarray, list | None]:
    """``(targets (K, N, *S), classes)`` for an internal output of shape ``(K, _, *S)``.

    A numeric array must be ``*S x K x N`` (MATLAB layout); anything else is read as label
    volumes ``*S x N`` whose classes (sorted names, or ``classes``) must number K.
    """
    k, spatial = out_shape[0], tuple(out_shape[2:])
    values = T if not isinstance(T, np.ndarray) else np.asarray(T)
    if isinstance(values, np.ndarray) and (values.dtype.kind in "bf" or (
            values.dtype.kind in "iu" and values.ndim == len(spatial) + 2)):
        expected = (*spatial, k, n)
        if values.shape == (*spatial, k) and n == 1:
            values = values[..., None]
        if values.shape != expected:
            raise MException("nnet:trainnet:TargetSizeMismatch",
                             f"{argname} must match the network output: size {_size(expected)} "
                             f"(h x w [x d] x K x N). Received: {argname} of size {_size(values.shape)}.")
        return np.ascontiguousarray(np.moveaxis(values.astype(np.float64), (-2, -1), (0, 1))), None
    codes, classes = pixel_labels.label_codes(T, classes, _FUNC, argname)
    if codes.ndim == 1 and len(spatial) > 1 and codes.size == n * int(np.prod(spatial)):
        codes = codes.reshape(*spatial, n)          # a flattened (C order) Categorical
    codes = pixel_labels.check_label_size(codes, spatial, n, _FUNC, argname)
    if len(classes) != k:
        raise MException("nnet:trainnet:WrongNumberOfClasses",
                         f"The classes of {argname} must number the output channels ({k}). "
                         f"Received: {len(classes)} classes.")
    return pixel_labels.onehot_codes(codes, k), classes


def loss_and_gradient(fun: Callable, y: Any, t: Any) -> tuple[float, Any]:
    """The loss of internal network output ``y`` (``(K, N)`` 'CB' or ``(K, N, *S)`` 'S..SCB')
    and d loss / d y, on a private tape; ``fun(Y, T)`` sees both in MATLAB layout."""
    spatial = y.ndim > 2
    if spatial:
        y, t = (_backend.get_xp(a).moveaxis(a, (0, 1), (-2, -1)) for a in (y, t))
    fmt = "S" * (y.ndim - 2) + "CB"
    tape = tape_module.push()
    try:
        Y = dlarray._new(y, fmt)
        loss = fun(Y, t)
        if not isinstance(loss, dlarray) or loss.size != 1:
            raise MException("nnet:trainnet:InvalidLoss",
                             "lossFcn must return a scalar dlarray built from the dlarray functions. "
                             f"Received: {type(loss).__name__}.")
        root = loss._tid if loss._tape is tape else None
        xp = _backend.get_xp(y)
        grad = tape_module.gradients(tape, root, xp.ones_like(loss._data),
                                     [tape.leaf_id(Y, create=False)])[0] if root else None
        grad = xp.zeros_like(y) if grad is None else grad
        return float(loss), (xp.moveaxis(grad, (-2, -1), (0, 1)) if spatial else grad)
    finally:
        tape_module.pop(tape)
