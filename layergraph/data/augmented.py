"""``augmentedImageDatastore``: resized (and randomly augmented) images, MiniBatchSize per read.

``outputSize`` of 2 or 3 elements is MATLAB's ``[h w]`` / ``[h w c]`` for 2-D images; 4
elements ``[h w d c]`` means 3-D volumes (an addition: MATLAB's is 2-D only). ``read`` returns
a DataFrame with the columns ``input`` (and ``response`` when there are labels or responses).
Each observation's random draws depend only on a per-pass seed taken from ``rng``'s
generator at ``reset`` and its position, so the batches are the same whichever thread reads.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import augmentation as aug
from ._common import error, logical_scalar, parse_name_value, positive_integer, size_text, \
    validatestring
from .arrays import ArrayDatastore
from .datastore import Datastore
from .files import ImageDatastore
from .minibatch import RandomMiniBatchDatastore
from .readers import optional_module

__all__ = ["augmentedImageDatastore"]


class AugmentedImageDatastore(RandomMiniBatchDatastore):
    """MATLAB's augmentedImageDatastore (MiniBatchSize, NumObservations, OutputSize, ...)."""

    _KIND = "augmentedImageDatastore"

    def __init__(self, source: Datastore, responses: Any, output_size: tuple[int, ...],
                 augmenter: Any, mode: str, batch: int, background: bool):
        super().__init__()
        self._source, self._responses = source, responses
        self.OutputSize, self.OutputSizeMode = output_size, mode
        self.DataAugmentation, self.MiniBatchSize = augmenter, batch
        self.DispatchInBackground = background

    @property
    def numobservations(self) -> int:
        return self._source.numobservations

    def _subset(self, indices: np.ndarray) -> "AugmentedImageDatastore":
        responses = None if self._responses is None else self._responses[indices]
        return AugmentedImageDatastore(self._source._subset(indices), responses, self.OutputSize,
                                       self.DataAugmentation, self.OutputSizeMode,
                                       self.MiniBatchSize, self.DispatchInBackground)

    def _read_cells(self, start: int, stop: int) -> tuple[list[list], dict]:
        rows = self._source.training_cells(start, stop)
        out = []
        for k, row in enumerate(rows):
            rng = aug.random_generator(self._seed, start + k)
            image = self._prepare(np.asarray(row[0]), rng)
            if self._responses is not None:
                out.append([image, self._responses[start + k]])
            else:
                out.append([image] + row[1:2])
        return out, {}

    def _prepare(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        spatial = 3 if len(self.OutputSize) == 4 else 2
        if image.ndim < spatial:
            raise error("read", "WrongImageDimensions", f"augmentedImageDatastore with OutputSize "
                        f"{size_text(self.OutputSize)} needs images with {spatial} spatial "
                        f"dimensions. Received: image of size {size_text(image.shape)}.")
        if image.ndim == spatial:
            image = image[..., None]
        image = self._sized(image, spatial, rng)
        if self.DataAugmentation is None:
            return image
        if callable(self.DataAugmentation):
            return np.asarray(self.DataAugmentation(image))
        forward = self.DataAugmentation.random_matrix(rng, spatial)
        return aug.warp(image, forward, self.DataAugmentation.FillValue, spatial)

    def _sized(self, image: np.ndarray, spatial: int, rng: np.random.Generator) -> np.ndarray:
        target, have = self.OutputSize[:spatial], image.shape[:spatial]
        if tuple(have) == tuple(target):
            return image
        if self.OutputSizeMode == "resize":
            ndi = optional_module("scipy.ndimage", "augmentedImageDatastore")
            factors = [t / h for t, h in zip(target, have)] + [1] * (image.ndim - spatial)
            out = ndi.zoom(image.astype(np.float32) if image.dtype.kind != "f" else image,
                           factors, order=1, mode="nearest", grid_mode=True)
            return out.astype(image.dtype) if image.dtype.kind != "f" else out
        if any(t > h for t, h in zip(target, have)):
            raise error("read", "OutputSizeTooLarge", f"With OutputSizeMode '{self.OutputSizeMode}' "
                        f"OutputSize ({size_text(target)}) must not exceed the image size "
                        f"({size_text(have)}).")
        starts = [(h - t) // 2 if self.OutputSizeMode == "centercrop" else
                  int(rng.integers(0, h - t + 1)) for t, h in zip(target, have)]
        return image[tuple(slice(s, s + t) for s, t in zip(starts, target))]

    def _output(self, rows: list[list], info: dict) -> pd.DataFrame:
        columns = {"input": [r[0] for r in rows]}
        if rows and len(rows[0]) > 1:
            columns["response"] = [r[1] for r in rows]
        return pd.DataFrame(columns)

    def __repr__(self) -> str:
        return (f"  augmentedImageDatastore with properties:\n\n"
                f"         NumObservations: {self.numobservations}\n"
                f"           MiniBatchSize: {self.MiniBatchSize}\n"
                f"        DataAugmentation: {'none' if self.DataAugmentation is None else 'set'}\n"
                f"              OutputSize: [{'  '.join(map(str, self.OutputSize))}]\n"
                f"          OutputSizeMode: '{self.OutputSizeMode}'\n"
                f"    DispatchInBackground: {int(self.DispatchInBackground)}\n")


def augmentedImageDatastore(outputSize: Any, data: Any, *args: Any, **kwargs: Any):
    """``auimds = augmentedImageDatastore(outputSize, imds | X [, Y], Name=Value)``.

    X: images ``h x w x c x N`` (or volumes ``h x w x d x c x N`` with a 4-element
    outputSize); Y: labels or ``N x R`` responses. Name-value: DataAugmentation ("none", an
    imageDataAugmenter or a function of one image), OutputSizeMode ("resize" | "centercrop" |
    "randcrop"), DispatchInBackground (False), MiniBatchSize (128; a property).
    """
    func = "augmentedImageDatastore"
    size = np.asarray(outputSize)
    if size.ndim != 1 or size.size not in (2, 3, 4) or size.dtype.kind not in "iuf" \
            or np.any(size < 1) or np.any(size != np.round(size)):
        raise error(func, "InvalidOutputSize", "outputSize must be [h w], [h w c] or (volumes) "
                    f"[h w d c] of positive integers. Received: outputSize={outputSize!r}.")
    size_t = tuple(int(s) for s in size)
    responses = None
    rest = list(args)
    if not isinstance(data, Datastore):
        X = np.asarray(data)
        spatial = 3 if size.size == 4 else 2
        if X.dtype.kind not in "iufb" or X.ndim < spatial + 1:
            raise error(func, "InvalidPredictors", "X must be a numeric array of images with the "
                        f"observations last. Received: array of size {size_text(X.shape)}.")
        if X.ndim == spatial + 1:
            X = X[..., None, :]
        if rest and not isinstance(rest[0], str):
            responses = _responses(rest.pop(0), X.shape[-1], func)
        data = ArrayDatastore(X, X.ndim, 1, "cell")
    elif not isinstance(data, (ImageDatastore, ArrayDatastore)):
        raise error(func, "InvalidDatastore", "augmentedImageDatastore reads an imageDatastore or "
                    f"arrays. Received: {type(data).__name__}.")
    o = parse_name_value(rest, kwargs, ["DataAugmentation", "OutputSizeMode",
                                        "DispatchInBackground", "MiniBatchSize",
                                        "ColorPreprocessing"], func)
    augmenter = o.get("DataAugmentation", "none")
    if isinstance(augmenter, str) and augmenter.lower() == "none":
        augmenter = None
    elif not (isinstance(augmenter, aug.ImageDataAugmenter) or callable(augmenter)):
        raise error(func, "InvalidDataAugmentation", "DataAugmentation must be 'none', an "
                    f"imageDataAugmenter or a function. Received: {augmenter!r:.60}.")
    mode = validatestring(o.get("OutputSizeMode", "resize"), ["resize", "centercrop", "randcrop"],
                          func, "OutputSizeMode")
    return AugmentedImageDatastore(
        data._subset(np.arange(data.numobservations)), responses, size_t, augmenter, mode,
        positive_integer(o.get("MiniBatchSize", 128), func, "MiniBatchSize"),
        logical_scalar(o.get("DispatchInBackground", False), func, "DispatchInBackground"))


def _responses(Y: Any, n: int, func: str) -> Any:
    if isinstance(Y, pd.Series):
        Y = Y.array
    if isinstance(Y, pd.Categorical) or (np.asarray(Y).dtype.kind in "OUS"):
        Y = Y if isinstance(Y, pd.Categorical) else pd.Categorical(np.asarray(Y).ravel())
        if len(Y) != n:
            raise error(func, "WrongNumberOfLabels", f"Y must hold one label per image ({n}). "
                        f"Received: {len(Y)}.")
        return Y
    Y = np.asarray(Y)
    if Y.dtype.kind not in "iuf" or Y.shape[0] != n:
        raise error(func, "InvalidResponses", f"Y must be labels or an N x R numeric array with "
                    f"N = {n}. Received: array of size {size_text(Y.shape)}.")
    return Y
