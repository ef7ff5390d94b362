"""The recording of one ``dlfeval`` call: the last dlnetwork ``forward`` and the losses of its outputs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

@dataclass
class _ForwardRecord:
    net: Any   # the dlnetwork
    fp: Any
    outputs: dict[int, tuple[str, np.ndarray]]   # id(Y) -> (layer name, Y)


@dataclass
class _LossRecord:
    value: np.ndarray
    forward: _ForwardRecord
    output: str
    backward: Callable[[], Any]   # -> d loss / d output, internal layout


class _Trace:
    def __init__(self) -> None:
        self.forward: _ForwardRecord | None = None
        self.losses: dict[int, _LossRecord] = {}


_TRACES: list[_Trace] = []

