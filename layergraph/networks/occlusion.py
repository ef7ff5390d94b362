"""``occlusionSensitivity``: the change of a class score when parts of the input are masked.

``scoreMap = occlusionSensitivity(net, X, label, MaskSize=, Stride=, MaskValue=,
OutputUpsampling=, MaskClipping=, MiniBatchSize=)`` for a DAGNetwork (the scores of its
classification output) or a dlnetwork (channel ``label`` of its output) and one 2-D or 3-D
image ``h x w [x d] x c``: a mask of MaskSize is centred at ``0, Stride, 2 Stride, ...`` along
each spatial dimension (MaskClipping "on": clipped at the borders; "off": only masks wholly
inside, starting at 0), filled with MaskValue, and the map at that position is
``score(X) - score(masked X)``; the grid of positions is then resized to the input size
(OutputUpsampling "bicubic" or "nearest"; "none" returns the grid).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph.editing import layerGraph
from ..layers._validation import parse_name_value, validatestring, is_real_numeric
from ..layers.errors import MException
from .dag_network import DAGNetwork
from .dlnetwork import dlnetwork

__all__ = ["occlusionSensitivity"]

_FUNC = "occlusionSensitivity"
_OPTIONS = ["MaskSize", "Stride", "MaskValue", "OutputUpsampling", "MaskClipping", "MiniBatchSize"]


def as_dlnetwork(net: Any, func: str) -> tuple[dlnetwork, list[str] | None]:
    """A dlnetwork computing ``net``'s scores, and its class names (a DAGNetwork's output layer)."""
    if isinstance(net, dlnetwork):
        return net, None
    if isinstance(net, DAGNetwork):
        out = net.Layers[net.OutputNames[0]]
        classes = getattr(out, "Classes", None)
        graph = layerGraph(net.layerGraph()).removeLayers([out.Name])
        return dlnetwork(graph), (None if classes is None or isinstance(classes, str) else [str(c) for c in classes])
    raise MException(f"nnet:{func}:InvalidNetwork",
                     f"net must be a DAGNetwork or a dlnetwork. Received: {type(net).__name__}.")


def class_index(label: Any, classes: list[str] | None, func: str) -> int:
    """A 0-based class index from an index or a class name."""
    if isinstance(label, str):
        if not classes or label not in classes:
            raise MException(f"nnet:{func}:InvalidLabel",
                             f"label '{label}' is not among the classes {classes or []}. Give a 0-based index.")
        return classes.index(label)
    if not is_real_numeric(label) or np.ndim(label) != 0 or float(label) != int(float(label)) or float(label) < 0:
        raise MException(f"nnet:{func}:InvalidLabel", f"label must be a class name or a 0-based index. Received: {label!r}.")
    return int(float(label))


def _per_dim(name: str, value: Any, sizes: tuple[int, ...], auto) -> tuple[int, ...]:
    if isinstance(value, str):
        validatestring(value, ["auto"], _FUNC, name)
        return tuple(auto(n) for n in sizes)
    vals = np.atleast_1d(np.asarray(value, dtype=float)) if is_real_numeric(value) else None
    if vals is None or vals.size not in (1, len(sizes)) or np.any(vals < 1) or np.any(vals != np.round(vals)):
        raise MException(f"nnet:{_FUNC}:Invalid{name}",
                         f"{name} must be \"auto\", a positive integer or {len(sizes)} of them. Received: {name}={value!r}.")
    return tuple(int(x) for x in np.broadcast_to(vals, (len(sizes),)))


def _positions(n: int, mask: int, stride: int, clipping: bool) -> list[tuple[int, int]]:
    """(start, stop) of each mask along a dimension of size ``n``."""
    if clipping:
        return [(max(c - mask // 2, 0), min(c - mask // 2 + mask, n)) for c in range(0, n, stride)]
    return [(s, s + mask) for s in range(0, max(n - mask, 0) + 1, stride)]


def occlusionSensitivity(net: Any, X: Any, label: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    """``scoreMap``: ``h x w [x d]`` (or the grid of mask positions with OutputUpsampling="none")."""
    opts = parse_name_value(args, kwargs, _OPTIONS, _FUNC)
    dnet, classes = as_dlnetwork(net, _FUNC)
    index = class_index(label, classes, _FUNC)
    input_size = tuple(next(layer for layer in dnet.Layers if layer.IS_INPUT).InputSize)
    nsd = len(input_size) - 1
    data = np.asarray(X, dtype=np.float32)
    if data.ndim == nsd and input_size[-1] == 1:
        data = data[..., None]
    if data.shape != input_size:
        raise MException(f"nnet:{_FUNC}:InvalidInput",
                         f"X must be one observation of size {'x'.join(map(str, input_size))}. "
                         f"Received: {'x'.join(map(str, data.shape))}.")
    sizes = data.shape[:nsd]
    mask = _per_dim("MaskSize", opts.get("MaskSize", "auto"), sizes, lambda n: max(1, round(0.2 * n)))
    stride = _per_dim("Stride", opts.get("Stride", "auto"), sizes, lambda n: max(1, math.ceil(0.1 * n)))
    fill = _mask_value(opts.get("MaskValue", "auto"), data, nsd)
    upsampling = validatestring(opts.get("OutputUpsampling", "bicubic"), ["bicubic", "nearest", "none"], _FUNC,
                                "OutputUpsampling")
    clipping = validatestring(opts.get("MaskClipping", "on"), ["on", "off"], _FUNC, "MaskClipping") == "on"
    batch = int(opts.get("MiniBatchSize", 128))
    grids = [_positions(n, m, s, clipping) for n, m, s in zip(sizes, mask, stride)]
    boxes = list(np.ndindex(*[len(g) for g in grids]))

    def score(stack: np.ndarray) -> np.ndarray:
        Y = np.asarray(dnet.predict(stack), dtype=np.float64)
        Y = Y.reshape(Y.shape[0], -1) if Y.ndim == 2 else Y.reshape(-1, Y.shape[-2], Y.shape[-1]).sum(axis=0)
        if not 0 <= index < Y.shape[0]:
            raise MException(f"nnet:{_FUNC}:InvalidLabel",
                             f"label must index one of the {Y.shape[0]} output channels (0-based). Received: {index}.")
        return Y[index]

    base = score(data[..., None])[0]
    changes = np.empty(len(boxes))
    for first in range(0, len(boxes), batch):
        part = boxes[first:first + batch]
        stack = np.repeat(data[..., None], len(part), axis=-1)
        for j, box in enumerate(part):
            region = tuple(slice(*grids[d][box[d]]) for d in range(nsd))
            stack[region + (slice(None), j)] = fill
        changes[first:first + len(part)] = base - score(stack)
    grid = changes.reshape([len(g) for g in grids])
    if upsampling == "none":
        return grid
    return _resize(grid, sizes, cubic=upsampling == "bicubic")


def _mask_value(value: Any, data: np.ndarray, nsd: int) -> np.ndarray:
    if isinstance(value, str):
        validatestring(value, ["auto"], _FUNC, "MaskValue")
        return data.reshape(-1, data.shape[-1]).mean(axis=0)              # channel-wise mean
    vals = np.atleast_1d(np.asarray(value, dtype=np.float32)) if is_real_numeric(value) else None
    if vals is None or vals.size not in (1, data.shape[-1]):
        raise MException(f"nnet:{_FUNC}:InvalidMaskValue",
                         f"MaskValue must be \"auto\", a scalar or one value per channel ({data.shape[-1]}). "
                         f"Received: MaskValue={value!r}.")
    return np.broadcast_to(vals, (data.shape[-1],))


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel (a = -0.5), as imresize's bicubic."""
    a = np.abs(x)
    return np.where(a <= 1, 1.5 * a ** 3 - 2.5 * a ** 2 + 1,
                    np.where(a < 2, -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2, 0.0))


def _resize(a: np.ndarray, shape: tuple[int, ...], cubic: bool) -> np.ndarray:
    """Separable resize with pixel centres aligned (input x = (out + 0.5) in/out - 0.5)."""
    for axis, n_out in enumerate(shape):
        n_in = a.shape[axis]
        pos = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        if cubic:
            base = np.floor(pos).astype(int)
            taps = np.stack([base + k for k in (-1, 0, 1, 2)], axis=1)          # n_out x 4
            weights = _cubic(pos[:, None] - taps)
            weights /= weights.sum(axis=1, keepdims=True)
            matrix = np.zeros((n_out, n_in))
            np.add.at(matrix, (np.repeat(np.arange(n_out), 4), np.clip(taps, 0, n_in - 1).ravel()), weights.ravel())
        else:
            matrix = np.zeros((n_out, n_in))
            matrix[np.arange(n_out), np.clip(np.round(pos + 1e-9).astype(int), 0, n_in - 1)] = 1
        a = np.moveaxis(np.tensordot(matrix, np.moveaxis(a, axis, 0), axes=1), 0, axis)
    return a
