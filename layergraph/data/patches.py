"""``randomPatchExtractionDatastore``: random patches of images and their label images.

Observation ``k`` is patch ``k % PatchesPerImage`` of image ``k // PatchesPerImage``; its
position (and augmentation) is drawn from a generator that depends only on a per-pass seed
(from ``rng``'s generator at ``reset``) and ``k``. ``read`` returns a DataFrame with the
columns ``InputImage`` and ``ResponseImage``, MiniBatchSize (128) rows.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import augmentation as aug
from ._common import error, global_generator, parse_name_value, positive_integer, size_text
from .datastore import Datastore
from .minibatch import RandomMiniBatchDatastore

__all__ = ["randomPatchExtractionDatastore"]


class RandomPatchExtractionDatastore(RandomMiniBatchDatastore):
    """MATLAB's randomPatchExtractionDatastore (PatchSize, PatchesPerImage, MiniBatchSize)."""

    _KIND = "randomPatchExtractionDatastore"

    def __init__(self, images: Datastore, responses: Datastore, patch: tuple[int, ...],
                 per_image: int, augmenter: Any, batch: int, observations: np.ndarray | None = None):
        super().__init__()
        self._images, self._responses = images, responses
        self.PatchSize, self.PatchesPerImage = patch, per_image
        self.DataAugmentation, self.MiniBatchSize = augmenter, batch
        n = images.numobservations
        self._obs = (np.arange(n * per_image) if observations is None else observations)
        self._cache: tuple[int, Any, Any] | None = None

    @property
    def numobservations(self) -> int:
        return int(self._obs.size)

    def _subset(self, indices: np.ndarray) -> "RandomPatchExtractionDatastore":
        return RandomPatchExtractionDatastore(self._images, self._responses, self.PatchSize,
                                              self.PatchesPerImage, self.DataAugmentation,
                                              self.MiniBatchSize, self._obs[indices])

    def shuffle(self) -> "RandomPatchExtractionDatastore":
        """A copy with the images in random order (patches of one image stay together)."""
        images = self._obs // self.PatchesPerImage
        order = np.unique(images)[global_generator().permutation(np.unique(images).size)]
        rank = np.empty(order.max() + 1, dtype=np.int64)
        rank[order] = np.arange(order.size)
        return self._subset(np.argsort(rank[images], kind="stable"))

    def _pair(self, image: int) -> tuple[np.ndarray, np.ndarray]:
        if self._cache is None or self._cache[0] != image:
            x = np.asarray(self._images.training_cells(image, image + 1)[0][0])
            y = np.asarray(self._responses.training_cells(image, image + 1)[0][0])
            self._cache = (image, x, y)
        return self._cache[1], self._cache[2]

    def _read_cells(self, start: int, stop: int) -> tuple[list[list], dict]:
        rows = []
        for position in range(start, stop):
            k = int(self._obs[position])
            x, y = self._pair(k // self.PatchesPerImage)
            rng = aug.random_generator(self._seed, k)
            rows.append(list(self._patch(x, y, rng, k // self.PatchesPerImage)))
        return rows, {"ImageIndices": [int(self._obs[p]) // self.PatchesPerImage
                                       for p in range(start, stop)]}

    def _patch(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, image: int):
        nd = len(self.PatchSize)
        if x.shape[:nd] != y.shape[:nd]:
            raise error("read", "SizeMismatch", f"Image {image} and its response differ in size: "
                        f"{size_text(x.shape)} and {size_text(y.shape)}.")
        if any(p > s for p, s in zip(self.PatchSize, x.shape[:nd])):
            raise error("read", "PatchTooLarge", f"PatchSize {size_text(self.PatchSize)} exceeds "
                        f"image {image} of size {size_text(x.shape)}.")
        starts = [int(rng.integers(0, s - p + 1)) for p, s in zip(self.PatchSize, x.shape)]
        window = tuple(slice(a, a + p) for a, p in zip(starts, self.PatchSize))
        px, py = x[window].copy(), y[window].copy()
        if isinstance(self.DataAugmentation, aug.ImageDataAugmenter):
            forward = self.DataAugmentation.random_matrix(rng, nd)
            px = aug.warp(px, forward, self.DataAugmentation.FillValue, nd)
            py = aug.warp(py, forward, 0, nd, nearest=True)
        elif callable(self.DataAugmentation):
            px, py = self.DataAugmentation(px, py)
        return px, py

    def _output(self, rows: list[list], info: dict) -> pd.DataFrame:
        return pd.DataFrame({"InputImage": [r[0] for r in rows],
                             "ResponseImage": [r[1] for r in rows]})

    def __repr__(self) -> str:
        return (f"  randomPatchExtractionDatastore with properties:\n\n"
                f"    PatchesPerImage: {self.PatchesPerImage}\n"
                f"          PatchSize: [{'  '.join(map(str, self.PatchSize))}]\n"
                f"    NumObservations: {self.numobservations}\n"
                f"      MiniBatchSize: {self.MiniBatchSize}\n")


def randomPatchExtractionDatastore(ds1: Any, ds2: Any, PatchSize: Any, *args: Any, **kwargs: Any):
    """``patchds = randomPatchExtractionDatastore(imds, pxds, PatchSize, PatchesPerImage=128)``.

    ds1: images (h x w [x c] or volumes h x w x d [x c]); ds2: response or label images of the
    same spatial size; PatchSize: [h w] or [h w d]. Name-value: PatchesPerImage (128),
    DataAugmentation ("none", an imageDataAugmenter — label patches use nearest neighbour —
    or a function ``(x, y) -> (x, y)``), MiniBatchSize (128).
    """
    func = "randomPatchExtractionDatastore"
    for name, ds in (("ds1", ds1), ("ds2", ds2)):
        if not isinstance(ds, Datastore):
            raise error(func, "InvalidDatastore", f"{name} must be a datastore. Received: "
                        f"{type(ds).__name__}.")
    if ds1.numobservations != ds2.numobservations:
        raise error(func, "UnequalNumberOfImages", f"ds1 and ds2 must hold the same number of "
                    f"images. Received: {ds1.numobservations} and {ds2.numobservations}.")
    patch = np.asarray(PatchSize)
    if patch.ndim != 1 or patch.size not in (2, 3) or patch.dtype.kind not in "iuf" \
            or np.any(patch < 1) or np.any(patch != np.round(patch)):
        raise error(func, "InvalidPatchSize", "PatchSize must be [h w] or [h w d] positive "
                    f"integers. Received: PatchSize={PatchSize!r}.")
    o = parse_name_value(args, kwargs, ["PatchesPerImage", "DataAugmentation", "MiniBatchSize"],
                         func)
    augmenter = o.get("DataAugmentation", "none")
    if isinstance(augmenter, str) and augmenter.lower() == "none":
        augmenter = None
    elif not (isinstance(augmenter, aug.ImageDataAugmenter) or callable(augmenter)):
        raise error(func, "InvalidDataAugmentation", "DataAugmentation must be 'none', an "
                    f"imageDataAugmenter or a function. Received: {augmenter!r:.60}.")
    return RandomPatchExtractionDatastore(
        ds1._subset(np.arange(ds1.numobservations)), ds2._subset(np.arange(ds2.numobservations)),
        tuple(int(p) for p in patch), positive_integer(o.get("PatchesPerImage", 128), func,
                                                       "PatchesPerImage"),
        augmenter, positive_integer(o.get("MiniBatchSize", 128), func, "MiniBatchSize"))
