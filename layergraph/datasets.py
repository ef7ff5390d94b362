"""Synthetic volumetric classification data: procedural 3-D shapes with noise (no download).

``X, Y = syntheticShapes3d(400, 16, seed=0)`` gives ``X`` of size 16 x 16 x 16 x 1 x 400
(MATLAB layout h x w x d x c x N, float32) and ``Y`` a ``pandas.Categorical`` of 400 labels
from the classes ``ball``, ``cross``, ``cube``, ``shell`` (sorted, as MATLAB's categorical).

Each volume holds one shape at a random centre, size and intensity on a noisy background:
ball (solid sphere), cube (solid, about the ball's volume), shell (hollow sphere) and cross
(three long orthogonal rods).  The same arguments always give the same data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .layers.errors import MException
from .layers import _validation as v

__all__ = ["syntheticShapes3d", "syntheticSegmentation3d"]

SHAPE_CLASSES = ("ball", "cross", "cube", "shell")


def _shape_mask(kind: str, grid: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """Boolean s x s x s mask of one shape; ``grid`` is 3 x s x s x s voxel coordinates."""
    d = grid - centre[:, None, None, None]
    dist = np.sqrt((d * d).sum(axis=0))
    if kind == "ball":
        return dist <= radius
    if kind == "shell":
        return (dist <= radius) & (dist >= 0.55 * radius)
    if kind == "cube":
        return np.abs(d).max(axis=0) <= 0.8 * radius
    a = np.abs(d)  # cross: three rods of half-length 1.3 radius, half-width radius/5 + 0.5
    thin = radius / 5 + 0.5
    rods = [(a[i] <= 1.3 * radius) & (a[(i + 1) % 3] <= thin) & (a[(i + 2) % 3] <= thin)
            for i in range(3)]
    return rods[0] | rods[1] | rods[2]


def syntheticShapes3d(numObservations: int, volumeSize: int = 16, seed: int = 0,
                      noise: float = 0.15) -> tuple[np.ndarray, pd.Categorical]:
    """Volumes of random 3-D shapes and their labels.

    Args:
        numObservations: N, the number of volumes (classes are balanced, order shuffled).
        volumeSize: s, the edge of each cubic volume (at least 8).
        seed: seed of the NumPy generator; the data depend only on the arguments.
        noise: standard deviation of the Gaussian background noise.

    Returns:
        ``(X, Y)``: X float32 of size s x s x s x 1 x N; Y pandas.Categorical of N labels.
    """
    n = v.positive_int_vector(numObservations, "syntheticShapes3d", "numObservations",
                              lengths=(1,))[0]
    s = v.positive_int_vector(volumeSize, "syntheticShapes3d", "volumeSize", lengths=(1,))[0]
    if s < 8:
        raise MException("layergraph:syntheticShapes3d:VolumeTooSmall",
                         f"volumeSize must be at least 8. Received: volumeSize={s}.")
    seed = v.positive_int(seed, "syntheticShapes3d", "seed", minimum=0)
    noise = v.check_nonnegative_scalar(noise, "syntheticShapes3d", "noise")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(SHAPE_CLASSES))
    grid = np.indices((s, s, s), dtype=np.float64)
    X = np.empty((s, s, s, 1, n), dtype=np.float32)
    for i, label in enumerate(labels):
        radius = rng.uniform(0.22, 0.34) * s
        margin = 0.8 * radius
        centre = rng.uniform(margin, s - 1 - margin, size=3)
        intensity = rng.uniform(0.6, 1.0)
        volume = rng.normal(0.0, noise, size=(s, s, s))
        volume[_shape_mask(SHAPE_CLASSES[label], grid, centre, radius)] += intensity
        X[..., 0, i] = volume
    Y = pd.Categorical.from_codes(labels, categories=list(SHAPE_CLASSES))
    return X, Y


SEGMENTATION_CLASSES = ("background", "ball", "cube")


def syntheticSegmentation3d(numObservations: int, volumeSize: int = 16, seed: int = 0,
                            noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Volumes holding a ball and a cube in noise, and their voxel labels (semantic segmentation).

    Each volume has one solid ball and one solid cube (random sizes, centres and intensities in
    the same range, so the network must tell them apart by shape) in Gaussian noise; where they
    overlap the later one wins. Labels name every voxel ``background``, ``ball`` or ``cube``.

    Returns:
        ``(X, L)``: X float32 of size s x s x s x 1 x N; L a str array s x s x s x N of class names.
    """
    n = v.positive_int_vector(numObservations, "syntheticSegmentation3d", "numObservations",
                              lengths=(1,))[0]
    s = v.positive_int_vector(volumeSize, "syntheticSegmentation3d", "volumeSize", lengths=(1,))[0]
    if s < 8:
        raise MException("layergraph:syntheticSegmentation3d:VolumeTooSmall",
                         f"volumeSize must be at least 8. Received: volumeSize={s}.")
    seed = v.positive_int(seed, "syntheticSegmentation3d", "seed", minimum=0)
    noise = v.check_nonnegative_scalar(noise, "syntheticSegmentation3d", "noise")
    rng = np.random.default_rng(seed)
    grid = np.indices((s, s, s), dtype=np.float64)
    X = np.empty((s, s, s, 1, n), dtype=np.float32)
    codes = np.zeros((s, s, s, n), dtype=np.int64)
    for i in range(n):
        volume = rng.normal(0.0, noise, size=(s, s, s))
        for code in rng.permutation([1, 2]):           # 1 ball, 2 cube, in random order
            radius = rng.uniform(0.14, 0.22) * s
            centre = rng.uniform(radius, s - 1 - radius, size=3)
            mask = _shape_mask(SEGMENTATION_CLASSES[code], grid, centre, radius)
            volume[mask] = rng.normal(0.0, noise, size=int(mask.sum())) + rng.uniform(0.6, 1.0)
            codes[..., i][mask] = code
        X[..., 0, i] = volume
    return X, np.asarray(SEGMENTATION_CLASSES)[codes]
