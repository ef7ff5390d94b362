"""trainNetwork on label volumes: a graph ending in a pixel classification output layer.

``trainNetwork(X, labels, lgraph, options)`` with ``X`` ``h x w [x d] x c x N`` and ``labels``
``h x w [x d] x N`` (see :mod:`layergraph.runtime.pixel_labels` for the accepted forms). The
labels must have the network's output size; an 'auto' Classes takes the sorted names found.
The targets become one-hot ``(K, N, *S)`` internal arrays (undefined voxels all zero); accuracy
in the verbose table is over the labelled voxels.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.analysis import propagate_sizes
from ..layers.errors import MException
from ..layers.segmentation_output import DicePixelClassificationLayer, PixelClassificationLayer
from ..runtime import pixel_labels

__all__: list[str] = []

_FUNC = "trainNetwork"


def is_pixel_output(layer: Any) -> bool:
    """True for pixelClassificationLayer / dicePixelClassificationLayer (and subclasses)."""
    return isinstance(layer, (PixelClassificationLayer, DicePixelClassificationLayer))


def label_volume_codes(out_layer: Any, labels: Any, X: np.ndarray, argname: str = "Y"
                       ) -> tuple[np.ndarray, list[str]]:
    """``(codes (*S, N) int32, classes)`` of the labels for predictors ``X`` (``*S_in x C x N``);
    the observation count must agree (a single volume may drop its trailing N)."""
    given = out_layer.Classes
    codes, classes = pixel_labels.label_codes(labels, None if isinstance(given, str) else list(given),
                                              _FUNC, argname)
    n, num_spatial = X.shape[-1], X.ndim - 2
    if codes.ndim == 1 and num_spatial > 1 and codes.size % n == 0:
        codes = codes.reshape(-1, n)        # a flattened (C order) Categorical: voxels x N
        return codes, classes
    if codes.ndim == num_spatial and n == 1:
        codes = codes[..., None]
    if codes.ndim != num_spatial + 1 or codes.shape[-1] != n:
        raise MException(f"nnet_cnn:{_FUNC}:WrongNumberOfLabels",
                         f"{argname} must hold one {num_spatial}-D label volume per observation: an "
                         f"array of size {'x'.join(['h', 'w', 'd'][:num_spatial])}x{n}. Received: "
                         f"array of size {'x'.join(map(str, codes.shape))}.")
    return codes, classes


def output_spatial_size(lgraph: Any, name: str) -> tuple[int, ...]:
    """Spatial size reaching layer ``name`` (an initialised or size-resolvable graph)."""
    seen: dict[str, tuple[int, ...]] = {}

    def record(layer: Any, in_sizes: list) -> Any:
        seen[layer.Name] = tuple(in_sizes[0]) if in_sizes else ()
        return layer
    propagate_sizes(lgraph, record)
    return seen[name][:-1]


def pixel_targets(lgraph: Any, codes: np.ndarray, num_classes: int, argname: str = "Y") -> np.ndarray:
    """One-hot ``(K, N, *S)`` float32 targets, the label size checked against the output size."""
    out_name = next(layer.Name for layer in lgraph.Layers if layer.IS_OUTPUT)
    spatial = output_spatial_size(lgraph, out_name)
    if codes.ndim == 2 and len(spatial) > 1 and codes.shape[0] == int(np.prod(spatial)):
        codes = codes.reshape(*spatial, codes.shape[1])          # flattened labels, C order
    codes = pixel_labels.check_label_size(codes, spatial, codes.shape[-1], _FUNC, argname)
    return pixel_labels.onehot_codes(codes, num_classes)
