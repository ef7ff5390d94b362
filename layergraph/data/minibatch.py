"""Base of the table datastores that augment at random (augmentedImageDatastore,
randomPatchExtractionDatastore): MiniBatchSize rows per read, a DataFrame per read, and a
per-pass seed drawn at construction and at every ``reset`` (each observation's draws depend
only on it and the observation)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from . import augmentation as aug
from .datastore import Datastore


class RandomMiniBatchDatastore(Datastore):
    """Subclasses set ``MiniBatchSize`` and implement ``numobservations``; ``_seed`` is the
    pass seed."""

    MiniBatchSize: int

    def __init__(self) -> None:
        super().__init__()
        self._seed = aug.new_pass_seed()

    @property
    def NumObservations(self) -> int:
        """Number of observations per pass."""
        return self.numobservations

    def reset(self) -> None:
        super().reset()
        self._seed = aug.new_pass_seed()

    def _read_size(self) -> int:
        return self.MiniBatchSize

    def _concat(self, outputs: list[Any]) -> pd.DataFrame:
        return pd.concat(outputs, ignore_index=True)
