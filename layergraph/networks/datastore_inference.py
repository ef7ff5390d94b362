"""predict / classify / activations on a datastore: MiniBatchSize observations at a time.

Each chunk of predictors is read (``layergraph.data.batches.minibatches``), run through the
array method and dropped, so only one chunk and the outputs are held; the outputs are
concatenated along the observation axis.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..data.batches import is_datastore, minibatches  # noqa: F401 (is_datastore re-exported)

__all__: list[str] = []


def over_datastore(ds: Any, input_size: tuple[int, ...], m: int, run: Callable[[np.ndarray], Any],
                   axis: Callable[[Any], int], func: str) -> Any:
    """``run(X)`` on each chunk of ``ds``'s predictors ``(*InputSize, m)``, concatenated."""
    ds.reset()
    parts = [run(X) for (X, _), _ in minibatches(ds, m, input_size, True, func)]
    return np.concatenate(parts, axis=axis(parts[0]))

