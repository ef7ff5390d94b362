"""MATLAB's loss functions on dlarrays: crossentropy, indexcrossentropy, mse, l1loss, l2loss, huber.

Every loss is an unformatted dlarray scalar (Reduction="sum", the default) divided by the
NormalizationFactor: "batch-size" (the size of the 'B' dimension, 1 without one),
"all-elements" (the number of loss values: elements of Y, over the channel dimension for the
single-label cross-entropies), "mask-included" (the sum of the mask over those values) or "none".
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..layers._validation import real_scalar
from ..layers.errors import MException
from ..ops._backend import get_xp
from ._common import as_dlarray, choice, formatted_input, options, positional_then_options
from .dlarray import data_of, dlarray, fmt_of, record1, stripdims

NORMALIZATIONS = ["batch-size", "all-elements", "mask-included", "none"]
_COMMON = ["DataFormat", "NormalizationFactor", "Mask", "Reduction", "WeightsFormat"]


def _prepare(Y: Any, targets: Any, args: tuple, kwargs: dict, extra: list[str], func: str):
    """(Y formatted, targets raw or dlarray of Y's layout, weights, options)."""
    positional, rest = positional_then_options(args, 1)
    opts = options(rest, kwargs, _COMMON + extra, func)
    Y, _ = formatted_input(Y, opts.get("DataFormat"), func)
    if isinstance(targets, dlarray) and fmt_of(targets) and fmt_of(targets) != fmt_of(Y):
        raise MException(f"deep:{func}:FormatMismatch",
                         f"targets must have the format of Y. Received: '{fmt_of(targets)}' and '{fmt_of(Y)}'.")
    if isinstance(targets, dlarray) and not fmt_of(targets) and opts.get("DataFormat"):
        targets, _ = formatted_input(targets, opts["DataFormat"], func)
    return Y, targets, (positional[0] if positional else None), opts


def _batch_size(Y: dlarray) -> int:
    fmt = fmt_of(Y)
    return Y.shape[fmt.index("B")] if "B" in fmt else 1


def _weights(w: Any, Y: dlarray, opts: dict, func: str) -> Any:
    """Weights broadcast against Y's data: a K-vector of class weights, or an array labelled by
    WeightsFormat (or of Y's size)."""
    if w is None:
        return None
    xp = get_xp(data_of(Y))
    raw = xp.asarray(data_of(w), dtype=Y.dtype)
    fmt = fmt_of(Y)
    wfmt = opts.get("WeightsFormat", fmt_of(w) or None)
    if wfmt is None and raw.ndim <= 1 and "C" in fmt and raw.size == Y.shape[fmt.index("C")]:
        wfmt = "C"
    if wfmt is None:
        if raw.shape != Y.shape:
            raise MException(f"deep:{func}:InvalidWeights",
                             "weights must be a vector with one weight per class, an array labelled by "
                             f"WeightsFormat, or an array of the size of Y ({'x'.join(map(str, Y.shape))}). "
                             f"Received: size {'x'.join(map(str, raw.shape))}.")
        return raw
    from .numpy_rules import _expand_to   # labels -> singleton axes
    wfmt = "".join(sorted(wfmt.upper(), key="SCBTU".index))
    if any(c not in fmt for c in wfmt):
        raise MException(f"deep:{func}:InvalidWeightsFormat",
                         f"WeightsFormat must use labels of Y ('{fmt}'). Received: '{wfmt}'.")
    return _expand_to(raw.reshape([n for n in raw.shape if n != 1] if raw.ndim > len(wfmt) else raw.shape),
                      wfmt, fmt)


def _mask(opts: dict, Y: dlarray, func: str) -> Any:
    if "Mask" not in opts:
        return None
    xp = get_xp(data_of(Y))
    m = xp.asarray(data_of(opts["Mask"]), dtype=Y.dtype)
    try:
        xp.broadcast_shapes(m.shape, Y.shape)
    except ValueError:
        raise MException(f"deep:{func}:InvalidMask",
                         f"Mask must broadcast to the size of Y ({'x'.join(map(str, Y.shape))}). "
                         f"Received: size {'x'.join(map(str, m.shape))}.") from None
    return m


def _normalizer(opts: dict, Y: dlarray, mask: Any, per_channel: bool, func: str) -> float:
    mode = choice(opts, "NormalizationFactor", NORMALIZATIONS, "batch-size", func)
    k = Y.shape[fmt_of(Y).index("C")] if per_channel and "C" in fmt_of(Y) else 1
    if mode == "batch-size":
        return float(_batch_size(Y))
    if mode == "all-elements":
        return Y.size / k
    if mode == "mask-included":
        if mask is None:
            return Y.size / k
        return float(get_xp(mask).broadcast_to(mask, Y.shape).sum()) / k
    return 1.0


def _reduce(values: dlarray, opts: dict, norm: float, func: str) -> dlarray:
    reduction = choice(opts, "Reduction", ["sum", "none"], "sum", func)
    if reduction == "none":
        return values
    return stripdims(np.sum(values)) / values.dtype.type(norm)


# ---- cross-entropy ------------------------------------------------------------------------
def crossentropy(Y: Any, targets: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``loss = crossentropy(Y, targets[, weights], Name=Value)``.

    Single-label (default): ``-sum(w .* T .* log(Y)) / N``; ClassificationMode="multilabel"
    (or TargetCategories="independent"): ``-sum(w .* (T log Y + (1 - T) log(1 - Y))) / N``.
    Y is bounded away from 0 (and 1) by eps of its class, as MATLAB; the gradient is MATLAB's
    ``-w T / Y`` (no masking where Y was bounded).
    """
    Y, targets, weights, opts = _prepare(Y, targets, args, kwargs, ["ClassificationMode", "TargetCategories"],
                                         "crossentropy")
    mode = choice(opts, "ClassificationMode", ["single-label", "multilabel"], "single-label", "crossentropy")
    if "TargetCategories" in opts:
        categories = choice(opts, "TargetCategories", ["exclusive", "independent"], "exclusive", "crossentropy")
        mode = "multilabel" if categories == "independent" else mode
    if mode == "single-label" and "C" not in fmt_of(Y):
        raise MException("deep:crossentropy:NoChannelDimension",
                         f"Single-label cross-entropy needs a 'C' dimension. Received: format '{fmt_of(Y)}'.")
    y = data_of(Y)
    xp = get_xp(y)
    t = xp.asarray(data_of(targets), dtype=y.dtype)
    if t.shape != y.shape:
        raise MException("deep:crossentropy:SizeMismatch",
                         f"targets must have the size of Y. Received: Y of size {'x'.join(map(str, y.shape))} "
                         f"and targets of size {'x'.join(map(str, t.shape))}.")
    w = _weights(weights, Y, opts, "crossentropy")
    mask = _mask(opts, Y, "crossentropy")
    scale = w if mask is None else (mask if w is None else w * mask)
    eps = np.finfo(y.dtype).eps
    yb = xp.maximum(y, eps)
    if mode == "single-label":
        elem = -t * xp.log(yb)
        dy_elem, dt_elem = -t / yb, -xp.log(yb)
    else:
        yb = xp.minimum(yb, 1 - eps)
        elem = -(t * xp.log(yb) + (1 - t) * xp.log(1 - yb))
        dy_elem, dt_elem = -(t / yb - (1 - t) / (1 - yb)), -(xp.log(yb) - xp.log(1 - yb))
    if scale is not None:
        elem, dy_elem, dt_elem = elem * scale, dy_elem * scale, dt_elem * scale
    single = mode == "single-label"
    c = fmt_of(Y).index("C") if single else None
    values = elem.sum(axis=c, keepdims=True) if single else elem
    shape = values.shape
    fmt = fmt_of(Y)

    def backward(g, need):
        g = xp.broadcast_to(g.reshape(shape), y.shape)
        return (g * dy_elem if need[0] else None, g * dt_elem if need[1] else None)
    per = record1(values, fmt, [Y, targets], backward)
    return _reduce(per, opts, _normalizer(opts, Y, mask, single, "crossentropy"), "crossentropy")


def indexcrossentropy(Y: Any, targets: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``loss = indexcrossentropy(Y, targets[, weights], Name=Value)``: cross-entropy against
    0-based class indices (one per observation/position: Y's size without 'C').

    ``MaskIndex`` (default None) names an index whose targets are ignored; NormalizationFactor
    "target-included" divides by the number of targets not masked.
    """
    positional, rest = positional_then_options(args, 1)
    opts = options(rest, kwargs, ["DataFormat", "NormalizationFactor", "MaskIndex", "Reduction", "WeightsFormat"],
                   "indexcrossentropy")
    Y, _ = formatted_input(Y, opts.get("DataFormat"), "indexcrossentropy")
    fmt = fmt_of(Y)
    if "C" not in fmt:
        raise MException("deep:indexcrossentropy:NoChannelDimension",
                         f"indexcrossentropy needs a 'C' dimension. Received: format '{fmt}'.")
    c = fmt.index("C")
    y = data_of(Y)
    xp = get_xp(y)
    idx = xp.asarray(data_of(targets))
    expected = y.shape[:c] + (1,) + y.shape[c + 1:]
    if idx.size != int(np.prod(expected)) or idx.dtype.kind not in "biuf":
        raise MException("deep:indexcrossentropy:InvalidTargets",
                         f"targets must hold one class index per element of Y without its 'C' dimension "
                         f"({int(np.prod(expected))} values). Received: {idx.dtype} of size "
                         f"{'x'.join(map(str, idx.shape))}.")
    idx = idx.reshape(expected)
    k = y.shape[c]
    valid = xp.ones(expected, dtype=bool)
    if opts.get("MaskIndex") is not None:
        valid = idx != opts["MaskIndex"]
    if bool(((idx < 0) | (idx >= k) | (idx != xp.round(idx)))[valid].any()):
        raise MException("deep:indexcrossentropy:InvalidTargets",
                         f"targets must be integer class indices in 0..{k - 1} (0-based). Received: values "
                         "outside that range.")
    onehot = (xp.arange(k).reshape([k if i == c else 1 for i in range(y.ndim)]) == xp.where(valid, idx, -1))
    mode = choice(opts, "NormalizationFactor", ["batch-size", "all-elements", "target-included", "none"],
                  "batch-size", "indexcrossentropy")
    norm = {"batch-size": _batch_size(Y), "all-elements": y.size / k,
            "target-included": float(valid.sum()), "none": 1.0}[mode]
    weights = positional[0] if positional else None
    opts_ce = {"NormalizationFactor": "none", "Reduction": opts.get("Reduction", "sum")}
    if "WeightsFormat" in opts:
        opts_ce["WeightsFormat"] = opts["WeightsFormat"]
    loss = crossentropy(Y, onehot.astype(y.dtype), *([weights] if weights is not None else []), **opts_ce)
    return loss / y.dtype.type(max(norm, 1e-300)) if opts_ce["Reduction"] == "sum" else loss


# ---- regression ---------------------------------------------------------------------------
def _regression(Y: Any, targets: Any, args: tuple, kwargs: dict, extra: list[str], func: str):
    Y, targets, weights, opts = _prepare(Y, targets, args, kwargs, extra, func)
    if np.shape(data_of(targets)) != Y.shape:
        raise MException(f"deep:{func}:SizeMismatch",
                         f"targets must have the size of Y. Received: Y of size {'x'.join(map(str, Y.shape))} "
                         f"and targets of size {'x'.join(map(str, np.shape(data_of(targets))))}.")
    T = targets if isinstance(targets, dlarray) else dlarray._new(
        get_xp(data_of(Y)).asarray(targets, dtype=Y.dtype), fmt_of(Y))
    w = _weights(weights, Y, opts, func)
    mask = _mask(opts, Y, func)
    scale = w if mask is None else (mask if w is None else w * mask)
    return Y, T, scale, mask, opts


def _finish(values: dlarray, scale: Any, opts: dict, Y: dlarray, mask: Any, func: str) -> dlarray:
    if scale is not None:
        values = values * scale
    return _reduce(values, opts, _normalizer(opts, Y, mask, False, func), func)


def l1loss(Y: Any, targets: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``loss = l1loss(Y, targets[, weights], Name=Value)``: ``sum(w .* |Y - T|) / N``."""
    Y, T, scale, mask, opts = _regression(Y, targets, args, kwargs, [], "l1loss")
    return _finish(np.abs(Y - T), scale, opts, Y, mask, "l1loss")


def l2loss(Y: Any, targets: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``loss = l2loss(Y, targets[, weights], Name=Value)``: ``sum(w .* (Y - T).^2) / N``."""
    Y, T, scale, mask, opts = _regression(Y, targets, args, kwargs, [], "l2loss")
    r = Y - T
    return _finish(r * r, scale, opts, Y, mask, "l2loss")


def huber(Y: Any, targets: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``loss = huber(Y, targets[, weights], TransitionPoint=1, Name=Value)``:
    ``0.5 r^2`` where ``|r| <= delta``, ``delta (|r| - 0.5 delta)`` elsewhere, summed / N."""
    Y, T, scale, mask, opts = _regression(Y, targets, args, kwargs, ["TransitionPoint"], "huber")
    delta = real_scalar(opts.get("TransitionPoint", 1.0), "huber", "TransitionPoint", 0.0, np.inf,
                        "a positive real scalar")
    r = np.abs(Y - T)
    quadratic = np.minimum(r, delta)
    values = 0.5 * quadratic * quadratic + delta * (r - quadratic)
    return _finish(values, scale, opts, Y, mask, "huber")


def mse(Y: Any, targets: Any, *args: Any, **kwargs: Any) -> dlarray:
    """``loss = mse(Y, targets, DataFormat=)``: half mean squared error ``sum((Y - T).^2) / (2 N)``
    with N the number of observations (MATLAB's mse)."""
    opts = options(args, kwargs, ["DataFormat"], "mse")
    Y, T, _, _, _ = _regression(Y, targets, (), {k: v for k, v in opts.items()}, [], "mse")
    r = Y - T
    return stripdims(np.sum(r * r)) / Y.dtype.type(2 * _batch_size(Y))
