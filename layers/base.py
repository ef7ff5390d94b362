"""Layer: the base of every MATLAB layer object.

A layer is a value: it holds MATLAB properties (PascalCase names, MATLAB shapes) and never
mutates itself during execution. Execution works on *internal* arrays (see ``ops`` for the
layout): ``forward``/``backward`` take a dict of internal-layout parameters, which the
executor builds once from the MATLAB-layout properties with ``to_internal`` and writes back
with ``from_internal``.

Sizes used by ``output_sizes`` / ``initialize`` exclude the batch and are in MATLAB order:
``(h, w, c)`` for 2-D images, ``(h, w, d, c)`` for volumes, ``(c,)`` after flattening.
"""
from __future__ import annotations

import copy as _copy
from typing import Any

import numpy as np

from .errors import MException


class Layer:
    """Base class. Subclasses set the class constants and implement the hooks."""

    TYPE: str = ""             # display type, e.g. "3-D Convolution"
    DEFAULT_NAME: str = ""     # MATLAB DefaultName, used when Name is '' (e.g. "conv")
    LEARNABLES: tuple[str, ...] = ()   # learnable property names, in Learnables-table order
    STATES: tuple[str, ...] = ()       # state property names (BN: TrainedMean, TrainedVariance)
    IS_INPUT: bool = False     # an input layer (NumInputs == 0)
    IS_OUTPUT: bool = False    # an output layer (NumOutputs == 0)

    Name: str = ""

    # ---- ports ---------------------------------------------------------------------------
    @property
    def NumInputs(self) -> int:
        return len(self.InputNames)

    @property
    def InputNames(self) -> tuple[str, ...]:
        return () if self.IS_INPUT else ("in",)

    @property
    def NumOutputs(self) -> int:
        return len(self.OutputNames)

    @property
    def OutputNames(self) -> tuple[str, ...]:
        return () if self.IS_OUTPUT else ("out",)

    # ---- display -------------------------------------------------------------------------
    @property
    def Type(self) -> str:
        """The type column of a layer-array display."""
        return self.TYPE

    def description(self) -> str:
        """One-line description (the last column of a layer-array display)."""
        raise NotImplementedError

    # ---- values --------------------------------------------------------------------------
    def copy(self, **changes: Any) -> "Layer":
        """A deep copy, with some properties replaced (``layer.copy(Name="x")``)."""
        new = _copy.deepcopy(self)
        for k, v in changes.items():
            setattr(new, k, v)
        return new

    # ---- size inference ------------------------------------------------------------------
    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Output activation sizes (no batch) for the given input sizes; MException on misuse."""
        raise NotImplementedError

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator) -> "Layer":
        """A copy with 'auto' sizes resolved and unset learnables/states initialised."""
        return self.copy()

    # ---- execution (internal layout; see ops) --------------------------------------------
    def to_internal(self, name: str, value: Any, xp: Any, dtype: Any) -> Any:
        """Convert a MATLAB-layout learnable/state to the internal layout used by forward."""
        return xp.asarray(value, dtype=dtype)

    def from_internal(self, name: str, value: Any) -> np.ndarray:
        """Convert an internal-layout learnable/state back to MATLAB layout (host NumPy)."""
        raise NotImplementedError

    def forward(self, params: dict, xs: list, training: bool) -> tuple[list, Any, dict]:
        """Run the layer.  Returns ``(ys, cache, state_update)``.

        ``params`` maps learnable and state names to internal arrays; ``xs`` are the inputs in
        ``InputNames`` order.  ``state_update`` maps state names to new values (training only).
        """
        raise NotImplementedError

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        """Gradients: ``(dxs in InputNames order (None if not needed), {learnable: grad})``."""
        raise NotImplementedError


def layer_error(layer_func: str, reason: str, message: str) -> MException:
    """MException with identifier ``nnet_cnn:<layer_func>:<reason>``."""
    return MException(f"nnet_cnn:{layer_func}:{reason}", message)
