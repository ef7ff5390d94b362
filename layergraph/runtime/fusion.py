"""Which ReLU layers a forward pass folds into the layer before them (batch norm -> ReLU).

A batch normalization layer (``FUSES_RELU``) can apply ``max(y, 0)`` while each block of its
output is still in cache, and mask the incoming gradient the same way in its backward: the
ReLU layer's own passes over memory (forward ``max``, backward ``dy * (y > 0)``) go away. The
executor folds a ReLU layer when it is the ONLY reader of that output and that output is not
requested (``activations`` of the batch norm layer itself still see the un-rectified values).
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

ENABLED = True
"""Module switch (tests compare fused and unfused passes)."""


def relu_fusions(layers: Sequence[Any], sources: Sequence[Sequence[tuple[int, int]]],
                 run: Sequence[int], keep: set[tuple[int, int]]) -> dict[int, int]:
    """``{ReLU layer index: producer index}`` for the ``IS_RELU`` layers in ``run`` that read
    output 0 of a ``FUSES_RELU`` layer which no other layer in ``run`` reads and ``keep`` (the
    requested outputs) does not hold."""
    if not ENABLED:
        return {}
    readers = Counter(src for i in run for src in sources[i])
    fused = {}
    for i in run:
        if not getattr(type(layers[i]), "IS_RELU", False) or len(sources[i]) != 1:
            continue
        src = sources[i][0]
        producer = layers[src[0]]
        if getattr(type(producer), "FUSES_RELU", False) and src[1] == 0 \
                and readers[src] == 1 and src not in keep:
            fused[i] = src[0]
    return fused
