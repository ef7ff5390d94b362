"""Semantic segmentation inference and metrics: ``semanticseg``, ``dice``, ``jaccard``.

* ``C = semanticseg(X, net)``: the class name of every pixel/voxel, an array of the output's
  spatial size (``h x w [x d]``, ``x N`` for a batch) — MATLAB's categorical image as a NumPy
  str array; ``C, score, allScores = semanticseg(X, net, nargout=3)`` adds the winning score
  and every class score (``h x w [x d] x K [x N]``).
* ``dice(A, B)`` / ``jaccard(A, B)``: Sørensen-Dice ``2|A∩B| / (|A| + |B|)`` and Jaccard
  ``|A∩B| / |A∪B|`` — a scalar for binary images, one value per label (1..max) for integer label
  images and per class (sorted names) for class-name arrays or a ``pandas.Categorical``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..layers._validation import parse_name_value, validatestring
from ..layers.errors import MException
from ..runtime import pixel_labels
from .dag_network import DAGNetwork, check_network, num_spatial_dims
from .dlnetwork import dlnetwork

__all__ = ["semanticseg", "dice", "jaccard"]


def _classes(net: Any, given: Any, num_classes: int) -> list[str]:
    if given is not None and not (isinstance(given, str) and given.lower() == "auto"):
        names = [str(c) for c in getattr(given, "categories", given)]
        if len(names) != num_classes or len(set(names)) != len(names):
            raise MException("vision:semanticseg:InvalidClasses",
                             f"Classes must name the {num_classes} output channels once each. "
                             f"Received: {len(names)} names {names[:6]}.")
        return names
    if isinstance(net, DAGNetwork):
        out = net.Layers[net.OutputNames[0]]
        if not isinstance(getattr(out, "Classes", "auto"), str):
            return [str(c) for c in out.Classes]
    return [str(k) for k in range(1, num_classes + 1)]      # MATLAB 'auto': 1..c


def semanticseg(X: Any, net: Any, *args: Any, nargout: int = 1, **kwargs: Any) -> Any:
    """``C = semanticseg(X, net)`` (MATLAB): per-voxel class names of a DAGNetwork or dlnetwork.

    Options: MiniBatchSize (128), ExecutionEnvironment ("auto"), OutputType ("categorical":
    names; "double"/"uint8": MATLAB's label matrix 1..K), Classes (a dlnetwork's class names;
    default the output layer's Classes, else "1".."K"). ``nargout`` 2 or 3 adds the scores.
    """
    check_network(net, "predict")
    opts = parse_name_value(args, kwargs, ["MiniBatchSize", "ExecutionEnvironment", "OutputType",
                                           "Classes"], "semanticseg")
    output_type = validatestring(opts.pop("OutputType", "categorical"),
                                 ["categorical", "double", "uint8"], "semanticseg", "OutputType")
    classes_given = opts.pop("Classes", None)
    if isinstance(nargout, bool) or nargout not in (1, 2, 3):
        raise MException("vision:semanticseg:TooManyOutputs", "nargout must be 1, 2 or 3 (C, score, "
                         f"allScores). Received: nargout={nargout!r}.")
    if isinstance(net, dlnetwork) and opts:
        raise MException("vision:semanticseg:UnsupportedOption",
                         "With a dlnetwork semanticseg runs the whole batch on the network's data; "
                         "MiniBatchSize and ExecutionEnvironment apply to a DAGNetwork. "
                         f"Received: {sorted(opts)}.")
    num_spatial = num_spatial_dims(net.layerGraph())
    input_layer = next(layer for layer in net.Layers if layer.IS_INPUT)
    if np.ndim(X) == num_spatial and input_layer.InputSize[-1] == 1:    # a grayscale h x w [x d]
        X = np.asarray(X)[..., None]
    single = np.ndim(X) == num_spatial + 1
    scores = np.asarray(net.predict(X, **opts))
    if single and scores.ndim == num_spatial + 1:          # a dlnetwork keeps no singleton N
        scores = scores[..., None]
    if scores.ndim != num_spatial + 2:
        raise MException("vision:semanticseg:NotASegmentationNetwork",
                         f"semanticseg needs a network whose output keeps the {num_spatial} spatial "
                         f"dimensions (scores h x w{' x d' if num_spatial == 3 else ''} x K x N). "
                         f"Received: output of size {'x'.join(map(str, scores.shape))}.")
    classes = _classes(net, classes_given, scores.shape[-2])
    winner = scores.argmax(axis=-2)
    if output_type == "categorical":
        labels: Any = np.asarray(classes)[winner]
    else:
        labels = (winner + 1).astype(np.float64 if output_type == "double" else np.uint8)
    if single:
        labels, scores = labels[..., 0], scores[..., 0]
    if nargout == 1:
        return labels
    best = scores.max(axis=-2 if not single else -1)
    return (labels, best) if nargout == 2 else (labels, best, scores)


# ---- overlap metrics ---------------------------------------------------------------------

def _per_class_masks(A: Any, B: Any, func: str) -> tuple[list[np.ndarray], list[np.ndarray], bool]:
    """Boolean masks per class of both inputs, and whether the inputs were binary (one mask)."""
    if isinstance(A, pd.Categorical) or isinstance(B, pd.Categorical) or \
            np.asarray(A).dtype.kind in "UO" or np.asarray(B).dtype.kind in "UO":
        return _masks_by_name(A, B, func)
    a, b = np.asarray(A), np.asarray(B)
    _same_size(a, b, func)
    if a.dtype == bool and b.dtype == bool:
        return [a], [b], True
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        raise MException(f"images:{func}:InvalidInputs",
                         f"A and B must both be binary (logical) images, label images (integers) or "
                         f"class-name arrays. Received: dtypes {a.dtype} and {b.dtype}.")
    high = int(max(a.max(initial=0), b.max(initial=0)))
    return [a == k for k in range(1, high + 1)], [b == k for k in range(1, high + 1)], False


def _names(Y: Any, func: str, argname: str) -> tuple[np.ndarray, list[str]]:
    return pixel_labels.label_codes(Y, None, func, argname)


def _masks_by_name(A: Any, B: Any, func: str) -> tuple[list[np.ndarray], list[np.ndarray], bool]:
    a_codes, a_classes = _names(A, func, "A")
    b_codes, b_classes = _names(B, func, "B")
    _same_size(a_codes, b_codes, func)
    classes = sorted(set(a_classes) | set(b_classes))
    a_lookup = np.array([classes.index(c) for c in a_classes] + [-1])
    b_lookup = np.array([classes.index(c) for c in b_classes] + [-1])
    a_all, b_all = a_lookup[a_codes], b_lookup[b_codes]      # code -1 indexes the trailing -1
    return [a_all == k for k in range(len(classes))], [b_all == k for k in range(len(classes))], False


def _same_size(a: np.ndarray, b: np.ndarray, func: str) -> None:
    if a.shape != b.shape:
        raise MException(f"images:{func}:InputSizeMismatch",
                         "A and B must have the same size. Received: sizes "
                         f"{'x'.join(map(str, a.shape))} and {'x'.join(map(str, b.shape))}.")


def _overlap(A: Any, B: Any, func: str, jaccard_index: bool) -> Any:
    masks_a, masks_b, binary = _per_class_masks(A, B, func)
    out = []
    for a, b in zip(masks_a, masks_b):
        both = float(np.count_nonzero(a & b))
        total = float(np.count_nonzero(a | b)) if jaccard_index else \
            float(np.count_nonzero(a) + np.count_nonzero(b)) / 2.0
        out.append(both / total if total else np.nan)           # absent from both: NaN (0/0)
    return float(out[0]) if binary else np.asarray(out, dtype=np.float64)


def dice(A: Any, B: Any) -> Any:
    """Sørensen-Dice coefficient ``2|A∩B| / (|A| + |B|)`` (MATLAB ``dice``), per class or scalar."""
    return _overlap(A, B, "dice", False)


def jaccard(A: Any, B: Any) -> Any:
    """Jaccard index ``|A∩B| / |A∪B|`` (MATLAB ``jaccard``), per class or scalar."""
    return _overlap(A, B, "jaccard", True)
